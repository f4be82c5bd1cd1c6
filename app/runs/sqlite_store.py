"""The embedded `RunStore`: one SQLite file (stdlib sqlite3, WAL).

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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from app.runs.contract import (
    ACTIVE,
    FINISHED,
    Event,
    RunRecord,
    Status,
    StoredEvent,
    encode_event,
)
from app.runs.migrations import migration_files
from app.runs.store import Admission, Retention, RunStore, cutoff, run_filter

SQLITE_MAX_INT = 2**63 - 1

#: Columns for the processes that run runs, not part of a RunRecord.
_INTERNAL = frozenset({"heartbeat_at", "cancel_requested", "runner"})
#: With no notifications in SQLite, `listen` says "catch up" this often (seconds).
LISTEN_POLL = 0.5
_ACTIVE_SQL = "status IN ('queued', 'running')"
_FINISHED_SQL = "status NOT IN ('queued', 'running')"


class SqliteRunStore(RunStore):
    shared = False

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
        self.migrate()

    def migrate(self) -> list[int]:
        """Apply the numbered migrations this file has not had (its `user_version`
        is the last applied), each with its version bump in one transaction; their
        numbers. A file made before migrations were counted is at 0, and the first
        one (IF NOT EXISTS throughout) finds its tables already there."""
        applied = []
        with self._lock:
            for number, file in migration_files("sqlite"):
                if number <= self._db.execute("PRAGMA user_version").fetchone()[0]:
                    continue
                try:
                    self._db.executescript(f"BEGIN IMMEDIATE;\n{file.read_text()}\n"
                                           f"PRAGMA user_version = {number};\nCOMMIT;")
                except sqlite3.Error:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
                applied.append(number)
        return applied

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writes ---------------------------------------------------------------

    def admit(
        self, run: RunRecord, *, capacity: int, per_client: int, held_here: bool = True
    ) -> Admission | None:
        with self._lock, self._transaction():
            held = self._db.execute(f"SELECT COUNT(*) FROM runs WHERE {_ACTIVE_SQL}").fetchone()[0]
            if held >= capacity:
                return Admission("queue_full", held)
            mine = self._db.execute(
                f"SELECT COUNT(*) FROM runs WHERE {_ACTIVE_SQL} AND client = ?", (run.client,)
            ).fetchone()[0]
            if mine >= per_client:
                return Admission("client_limit", mine)
            self._db.execute(
                "INSERT INTO runs (id, method, params, status, client, created_at)"
                " VALUES (?, ?, ?, 'queued', ?, ?)",
                (run.id, run.method, json.dumps(run.params), run.client, run.created_at),
            )
        return None

    def mark_running(self, run_id: str, started_at: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE runs SET status = 'running', started_at = ? WHERE id = ?",
                (started_at, run_id),
            )

    def append_events(
        self, run_id: str, events: Iterable[StoredEvent], progress: dict[str, Any] | None = None
    ) -> None:
        rows = [(run_id, ev.seq, ev.type, ev.data) for ev in events]
        if not rows:
            return
        with self._lock, self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO events (run_id, seq, type, payload) VALUES (?, ?, ?, ?)",
                rows,
            )
            self._db.execute(
                "UPDATE runs SET last_seq = MAX(last_seq, ?), progress = COALESCE(?, progress)"
                " WHERE id = ?",
                (rows[-1][1], json.dumps(progress) if progress is not None else None, run_id),
            )

    def _finish(self, run_id: str, status: Status, final_event: Event, summary: Any,
                error: str | None, progress: dict[str, Any] | None) -> StoredEvent | None:
        with self._lock, self._transaction():
            return self._finish_in(run_id, status, final_event, summary, error, progress)

    def _finish_in(self, run_id: str, status: Status, final_event: Event, summary: Any,
                   error: str | None, progress: dict[str, Any] | None) -> StoredEvent | None:
        row = self._db.execute(
            "SELECT last_seq, status FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None or Status(row["status"]) in FINISHED:
            return None
        event = encode_event(row["last_seq"] + 1, final_event)
        self._db.execute(
            "INSERT INTO events (run_id, seq, type, payload) VALUES (?, ?, ?, ?)",
            (run_id, event.seq, event.type, event.data),
        )
        self._db.execute(
            "UPDATE runs SET status = ?, finished_at = ?, summary = ?, error = ?,"
            " last_seq = ?, progress = COALESCE(?, progress) WHERE id = ?",
            (
                status.value,
                time.time(),
                json.dumps(summary) if summary is not None else None,
                error,
                event.seq,
                json.dumps(progress) if progress is not None else None,
                run_id,
            ),
        )
        return event

    # -- runs kept alive, claimed and stopped: one process here, but the same rules -

    def heartbeat(self, run_ids: Iterable[str], now: float | None = None) -> None:
        ids = list(run_ids)
        if ids:
            with self._lock:
                self._db.execute(
                    f"UPDATE runs SET heartbeat_at = ? WHERE id IN ({_marks(ids)})"
                    f" AND {_ACTIVE_SQL}", (now or time.time(), *ids))

    def silent_runs(self, older_than: float) -> list[RunRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs WHERE (status = 'running' OR (status = 'queued' AND"
                " heartbeat_at IS NOT NULL)) AND COALESCE(heartbeat_at, started_at) < ?",
                (older_than,)).fetchall()
        return [_record(r) for r in rows]

    def request_cancel(self, run_id: str) -> bool:
        with self._lock:
            return self._db.execute(
                f"UPDATE runs SET cancel_requested = 1 WHERE id = ? AND {_ACTIVE_SQL}",
                (run_id,)).rowcount > 0

    def cancel_requests(self, run_ids: Iterable[str]) -> list[str]:
        ids = list(run_ids)
        if not ids:
            return []
        with self._lock:
            rows = self._db.execute(
                f"SELECT id FROM runs WHERE id IN ({_marks(ids)}) AND cancel_requested"
                f" AND {_ACTIVE_SQL}", ids).fetchall()
        return [r[0] for r in rows]

    def claim_next(self, runner: str = "") -> RunRecord | None:
        now = time.time()
        with self._lock, self._transaction():
            row = self._db.execute(
                "SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE runs SET status = 'running', started_at = ?, heartbeat_at = ?,"
                " runner = ? WHERE id = ?", (now, now, runner, row[0]))
            claimed = self._db.execute("SELECT * FROM runs WHERE id = ?", (row[0],)).fetchone()
        return _record(claimed)

    def running_on(self, runner: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM runs WHERE status = 'running' AND runner = ?", (runner,)
            ).fetchall()
        return [r[0] for r in rows]

    def queued_ids(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, rowid"
            ).fetchall()
        return [r[0] for r in rows]

    def cancel_queued(self, run_id: str, final_event: Event) -> StoredEvent | None:
        with self._lock, self._transaction():
            row = self._db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or row["status"] != Status.QUEUED:
                return None
            return self._finish_in(run_id, Status.CANCELLED, final_event, None, None, None)

    def listen(self, on_notify: Callable[[str | None, int | None], None],
               stop: threading.Event) -> None:
        """SQLite sends no notifications: "catch up" at once, then every LISTEN_POLL."""
        on_notify(None, None)
        while not stop.wait(LISTEN_POLL):
            on_notify(None, None)

    def prune(self, retention: Retention, now: float | None = None) -> int:
        if retention.keeps_everything:
            return 0
        doomed: set[str] = set()
        with self._lock, self._transaction():
            before = cutoff(retention, now)
            if before is not None:
                doomed |= {
                    r[0]
                    for r in self._db.execute(
                        f"SELECT id FROM runs WHERE {_FINISHED_SQL} AND pinned IS NULL AND"
                        " COALESCE(finished_at, created_at) < ?",
                        (before,),
                    )
                }
            if retention.max_runs > 0:
                total = self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                excess = total - len(doomed) - retention.max_runs
                if excess > 0:
                    rows = self._db.execute(
                        f"SELECT id FROM runs WHERE {_FINISHED_SQL} AND pinned IS NULL"
                        " ORDER BY created_at, rowid",
                    ).fetchall()
                    fresh = [r[0] for r in rows if r[0] not in doomed]
                    doomed |= set(fresh[:excess])
            for run_id in doomed:
                self._db.execute("DELETE FROM events WHERE run_id = ?", (run_id,))
                self._db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        return len(doomed)

    def pin(self, run_id: str, pinned: str | None) -> bool:
        with self._lock:
            return self._db.execute("UPDATE runs SET pinned = ? WHERE id = ?",
                                    (pinned, run_id)).rowcount == 1  # fmt: skip

    def pin_live(self, method: str, run_id: str) -> None:
        with self._lock, self._transaction():
            self._db.execute("UPDATE runs SET pinned = NULL WHERE method = ? AND id != ?"
                             " AND pinned = 'methods'", (method, run_id))  # fmt: skip
            self._db.execute("UPDATE runs SET pinned = 'methods' WHERE id = ?"
                             " AND pinned IS NULL", (run_id,))  # fmt: skip

    # -- reads ----------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _record(row) if row else None

    def list_runs(
        self,
        *,
        methods: Iterable[str] | None = None,
        status: Status | str | None = None,
        statuses: Iterable[Status | str] | None = None,
        limit: int | None = 50,
    ) -> list[RunRecord]:
        wanted = run_filter(methods, status, statuses)
        if wanted is None:
            return []
        where, args = [], []
        for column, values in (("method", wanted.methods), ("status", wanted.statuses)):
            if values is not None:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                args += values
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, [*args, -1 if limit is None else limit]).fetchall()
        return [_record(r) for r in rows]

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

    def mean_duration(self, last: int = 20) -> float | None:
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


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def _record(row: sqlite3.Row) -> RunRecord:
    run = {k: v for k, v in dict(row).items() if k not in _INTERNAL}
    run["params"] = json.loads(run["params"])
    run["summary"] = json.loads(run["summary"]) if run["summary"] else None
    run["progress"] = json.loads(run["progress"] or "{}")
    return RunRecord(**run)


assert {s.value for s in ACTIVE} == {"queued", "running"}  # _ACTIVE_SQL spells them out
