"""SQLite persistence for runs and their events (stdlib sqlite3, WAL).

Only the web process writes; worker processes never open the database. One
connection is shared by the reader threads and the request handlers behind a
lock: every statement here is short, and WAL keeps other processes (a CLI
looking at the history) reading while we write.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Statuses after which nothing about a run changes any more.
FINISHED = frozenset({"succeeded", "failed", "cancelled", "interrupted"})
#: Event types that end a run's stream. `done` comes from the trainer, the others
#: are written by the run service.
TERMINAL_EVENTS = frozenset({"done", "failed", "cancelled"})

INTERRUPTED_ERROR = "interrupted: the server stopped before the run finished"
SQLITE_MAX_INT = 2**63 - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    summary TEXT,
    error TEXT,
    progress TEXT NOT NULL DEFAULT '{}',
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at DESC);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as it travels to viewers: the JSON is encoded once, when stored,
    and every SSE client sends that same string."""

    seq: int
    type: str
    data: str  # the event as JSON, `seq` and `t` included

    def as_dict(self) -> dict[str, Any]:
        return json.loads(self.data)

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS


def encode_event(seq: int, event: dict[str, Any]) -> StoredEvent:
    body = {"seq": seq, **event}
    body.setdefault("t", time.time())
    return StoredEvent(seq, str(body.get("type", "")), json.dumps(body, separators=(",", ":")))


class RunStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # isolation_level=None: we open transactions ourselves, so a batch of
        # events and the run's status change commit together.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: commits are not fsynced (only checkpoints are). A
        # power cut may lose the last moments; a crashed worker loses nothing,
        # because what it sent is already in this process.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writes ---------------------------------------------------------------

    def create_run(
        self, run_id: str, method: str, params: dict[str, Any], client: str, created_at: float
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO runs (id, method, params, status, client, created_at)"
                " VALUES (?, ?, ?, 'queued', ?, ?)",
                (run_id, method, json.dumps(params), client, created_at),
            )

    def mark_running(self, run_id: str, started_at: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE runs SET status = 'running', started_at = ? WHERE id = ?",
                (started_at, run_id),
            )

    def append_events(
        self, run_id: str, events: Iterable[StoredEvent], progress: dict[str, Any] | None = None
    ) -> None:
        """Store a batch of events (one transaction, one commit)."""
        rows = [(run_id, ev.seq, ev.type, ev.data) for ev in events]
        if not rows:
            return
        with self._lock, self._transaction():
            self._db.executemany(
                "INSERT INTO events (run_id, seq, type, payload) VALUES (?, ?, ?, ?)", rows
            )
            self._db.execute(
                "UPDATE runs SET last_seq = ?, progress = COALESCE(?, progress) WHERE id = ?",
                (rows[-1][1], json.dumps(progress) if progress is not None else None, run_id),
            )

    def finish(
        self,
        run_id: str,
        status: str,
        final_event: dict[str, Any],
        *,
        summary: Any = None,
        error: str | None = None,
        progress: dict[str, Any] | None = None,
    ) -> StoredEvent:
        """Write the terminal event and the final status together, so a viewer that
        sees the event and then asks for the run sees the run finished too."""
        assert status in FINISHED
        with self._lock, self._transaction():
            row = self._db.execute("SELECT last_seq FROM runs WHERE id = ?", (run_id,)).fetchone()
            event = encode_event(row["last_seq"] + 1, final_event)
            self._db.execute(
                "INSERT INTO events (run_id, seq, type, payload) VALUES (?, ?, ?, ?)",
                (run_id, event.seq, event.type, event.data),
            )
            self._db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ?, error = ?,"
                " last_seq = ?, progress = COALESCE(?, progress) WHERE id = ?",
                (
                    status,
                    time.time(),
                    json.dumps(summary) if summary is not None else None,
                    error,
                    event.seq,
                    json.dumps(progress) if progress is not None else None,
                    run_id,
                ),
            )
        return event

    def interrupt_unfinished(self) -> list[str]:
        """At start-up: runs a previous process left queued or running can't
        continue. They become `interrupted`, with their events kept and a final
        `failed` event so every stream of theirs ends."""
        with self._lock:
            ids = [
                r["id"]
                for r in self._db.execute(
                    "SELECT id FROM runs WHERE status IN ('queued', 'running')"
                )
            ]
        for run_id in ids:
            self.finish(
                run_id,
                "interrupted",
                {"type": "failed", "status": "interrupted", "error": INTERRUPTED_ERROR},
                error=INTERRUPTED_ERROR,
            )
        return ids

    # -- reads ----------------------------------------------------------------

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_dict(row) if row else None

    def list_runs(
        self,
        *,
        methods: Iterable[str] | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        where, args = [], []
        if methods is not None:
            methods = list(methods)
            if not methods:
                return []
            where.append(f"method IN ({','.join('?' * len(methods))})")
            args += methods
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, [*args, limit]).fetchall()
        return [_run_dict(r) for r in rows]

    def events_after(self, run_id: str, after: int = 0, limit: int = -1) -> list[StoredEvent]:
        # A client's resume point may be any integer; SQLite's stop at 2**63 - 1
        # (past that, sqlite3 raises OverflowError), and no seq comes near it.
        after = min(after, SQLITE_MAX_INT)
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, type, payload FROM events WHERE run_id = ? AND seq > ?"
                " ORDER BY seq LIMIT ?",
                (run_id, after, limit),
            ).fetchall()
        return [StoredEvent(*r) for r in rows]

    def status_and_events(self, run_id: str, after: int) -> tuple[str | None, list[StoredEvent]]:
        """The run's status, then its events after `after`, read in that order: if
        the status says finished, the list holds everything up to the final event."""
        run = self.get_run(run_id)
        if run is None:
            return None, []
        return run["status"], self.events_after(run_id, after)

    def mean_duration(self, last: int = 20) -> float | None:
        """Mean wall time of recent successful runs, for Retry-After estimates."""
        with self._lock:
            row = self._db.execute(
                "SELECT AVG(finished_at - started_at) AS d FROM (SELECT finished_at, started_at"
                " FROM runs WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT ?)",
                (last,),
            ).fetchone()
        return row["d"]

    # -- helpers --------------------------------------------------------------

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
    run = dict(row)
    run["params"] = json.loads(run["params"])
    run["summary"] = json.loads(run["summary"]) if run["summary"] else None
    run["progress"] = json.loads(run["progress"] or "{}")
    return run
