"""The shared `RunStore`: Postgres, through psycopg 3 and a connection pool.

Every web replica and every cluster worker use the same tables. What makes that
safe:
- the schema comes from numbered SQL files (app/runs/migrations/postgres), applied once, in
  order, under an advisory lock, by whichever process starts first;
- events are keyed by (run_id, seq) and inserted with ON CONFLICT DO NOTHING, so a
  write retried after a lost reply stores nothing twice;
- each commit that adds events sends `NOTIFY run_events, '{"run_id": .., "seq": ..}'`
  (never the event: the payload limit is 8,000 bytes); `listen` holds one
  connection per replica for them. It must reach the primary directly: pgbouncer
  in transaction mode silently drops LISTEN;
- admission (queue bound, per-client limit) counts and inserts inside one
  transaction holding an advisory lock, so the bounds hold across replicas;
- every statement is retried for up to RETRY_SECONDS while the database is away
  (a restart, a failover): the caller blocks, and what it was writing waits in
  its buffer (a worker's pipe, a Ray worker's list) until it is back.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from app.runs.contract import (
    FINISHED,
    Event,
    RunRecord,
    Status,
    StoredEvent,
    encode_event,
)
from app.runs.migrations import migration_files
from app.runs.store import Admission, Retention, RunStore, cutoff, run_filter

log = logging.getLogger(__name__)

CHANNEL = "run_events"
#: Advisory lock keys: one for admission, one for migrations.
ADMIT_LOCK, MIGRATE_LOCK = 4_200_101, 4_200_102
#: How long a statement is retried while the database is unreachable.
RETRY_SECONDS = 60.0
_ACTIVE = "status IN ('queued', 'running')"
#: Columns for the processes that share the store, not part of a RunRecord.
_INTERNAL = frozenset({"n", "heartbeat_at", "cancel_requested", "runner"})

T = TypeVar("T")


class PostgresRunStore(RunStore):
    shared = True

    def __init__(self, url: str, *, max_size: int = 10, retry_seconds: float = RETRY_SECONDS):
        self.url, self.retry_seconds = url, retry_seconds
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max_size, open=False, name="runs",
            check=ConnectionPool.check_connection,  # a connection the restart broke is dropped
            kwargs={"row_factory": dict_row},
        )  # fmt: skip
        self._pool.open(wait=True, timeout=30)
        self._run(migrate)

    def close(self) -> None:
        self._pool.close()

    # -- plumbing -----------------------------------------------------------------

    def _run(self, work: Callable[[psycopg.Connection], T]) -> T:
        """`work` in one transaction, retried while the database is away."""
        deadline, delay = time.monotonic() + self.retry_seconds, 0.05
        while True:
            try:
                with self._pool.connection() as conn, conn.transaction():
                    return work(conn)
            except (psycopg.OperationalError, psycopg.errors.AdminShutdown) as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("postgres unavailable (%s); retrying", type(exc).__name__)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    @staticmethod
    def _notify(conn: psycopg.Connection, run_id: str, seq: int) -> None:
        """Delivered by Postgres at commit, and only if the transaction commits."""
        payload = json.dumps({"run_id": run_id, "seq": seq})
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    # -- writes ---------------------------------------------------------------------

    def admit(
        self, run: RunRecord, *, capacity: int, per_client: int, held_here: bool = True
    ) -> Admission | None:
        # held_here: a process holds the queued run (and beats for it); otherwise it
        # waits in the table for a cluster worker to claim it, and no beat is due.
        beat = time.time() if held_here else None

        def work(conn: psycopg.Connection) -> Admission | None:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADMIT_LOCK,))
            if conn.execute("SELECT 1 FROM runs WHERE id = %s", (run.id,)).fetchone():
                return None  # admitted by an earlier try whose reply was lost
            held = _count(conn, f"SELECT COUNT(*) AS n FROM runs WHERE {_ACTIVE}")
            if held >= capacity:
                return Admission("queue_full", held)
            mine = _count(conn, f"SELECT COUNT(*) AS n FROM runs WHERE {_ACTIVE} AND client = %s",
                          (run.client,))  # fmt: skip
            if mine >= per_client:
                return Admission("client_limit", mine)
            conn.execute(
                "INSERT INTO runs (id, method, params, status, client, created_at, heartbeat_at)"
                " VALUES (%s, %s, %s, 'queued', %s, %s, %s)",
                (run.id, run.method, Jsonb(run.params), run.client, run.created_at, beat),
            )
            return None

        return self._run(work)

    def mark_running(self, run_id: str, started_at: float) -> None:
        self._run(lambda conn: conn.execute(
            "UPDATE runs SET status = 'running', started_at = %s, heartbeat_at = %s"
            " WHERE id = %s AND status = 'queued'", (started_at, time.time(), run_id)))  # fmt: skip

    def heartbeat(self, run_ids: Iterable[str], now: float | None = None) -> None:
        """Whoever runs these says they live (see `expire_silent`)."""
        ids = list(run_ids)
        if ids:
            self._run(lambda conn: conn.execute(
                f"UPDATE runs SET heartbeat_at = %s WHERE id = ANY(%s) AND {_ACTIVE}",
                (now or time.time(), ids)))  # fmt: skip

    def append_events(
        self, run_id: str, events: Iterable[StoredEvent], progress: dict[str, Any] | None = None
    ) -> None:
        rows = [(run_id, ev.seq, ev.type, ev.data) for ev in events]
        if not rows:
            return

        def work(conn: psycopg.Connection) -> None:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events (run_id, seq, type, payload) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (run_id, seq) DO NOTHING",
                    rows,
                )
            conn.execute(
                "UPDATE runs SET last_seq = GREATEST(last_seq, %s), heartbeat_at = %s,"
                " progress = COALESCE(%s, progress) WHERE id = %s",
                (rows[-1][1], time.time(), Jsonb(progress) if progress is not None else None,
                 run_id),
            )  # fmt: skip
            self._notify(conn, run_id, rows[-1][1])

        self._run(work)

    def _finish(self, run_id: str, status: Status, final_event: Event, summary: Any,
                error: str | None, progress: dict[str, Any] | None) -> StoredEvent | None:
        return self._run(lambda conn: self._finish_in(
            conn, run_id, status, final_event, summary, error, progress))  # fmt: skip

    def _finish_in(self, conn: psycopg.Connection, run_id: str, status: Status,
                   final_event: Event, summary: Any, error: str | None,
                   progress: dict[str, Any] | None) -> StoredEvent | None:  # fmt: skip
        row = conn.execute(
            "SELECT last_seq, status FROM runs WHERE id = %s FOR UPDATE", (run_id,)
        ).fetchone()
        if row is None or Status(row["status"]) in FINISHED:
            return None  # first wins: a cancel racing the run's own end, a retry
        event = encode_event(row["last_seq"] + 1, final_event)
        conn.execute(
            "INSERT INTO events (run_id, seq, type, payload) VALUES (%s, %s, %s, %s)",
            (run_id, event.seq, event.type, event.data),
        )
        conn.execute(
            "UPDATE runs SET status = %s, finished_at = %s, summary = %s, error = %s,"
            " last_seq = %s, progress = COALESCE(%s, progress) WHERE id = %s",
            (status.value, time.time(), Jsonb(summary) if summary is not None else None,
             error, event.seq, Jsonb(progress) if progress is not None else None, run_id),
        )  # fmt: skip
        self._notify(conn, run_id, event.seq)
        return event

    def claim_next(self, runner: str = "") -> RunRecord | None:
        """For a cluster worker (`runner`: its host:pid): take the oldest queued
        run, marked running, or None. SKIP LOCKED: workers claiming at once never
        take the same run."""
        now = time.time()
        row = self._run(lambda conn: conn.execute(
            "UPDATE runs SET status = 'running', started_at = %s, heartbeat_at = %s,"
            " runner = %s WHERE id = (SELECT id FROM runs WHERE status = 'queued'"
            " ORDER BY created_at, n FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING *",
            (now, now, runner)).fetchone())  # fmt: skip
        return _record(row) if row else None

    def running_on(self, runner: str) -> list[str]:
        """The runs a cluster worker (host:pid) has claimed and not finished."""
        rows = self._run(lambda conn: conn.execute(
            "SELECT id FROM runs WHERE status = 'running' AND runner = %s", (runner,)).fetchall())
        return [r["id"] for r in rows]

    def queued_ids(self) -> list[str]:
        """Queued runs, next to start first."""
        rows = self._run(lambda conn: conn.execute(
            "SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, n").fetchall())
        return [r["id"] for r in rows]

    def cancel_queued(self, run_id: str, final_event: Event) -> StoredEvent | None:
        """Cancel the run if it still waits in the queue (row-locked against a
        claim); None if it does not."""

        def work(conn: psycopg.Connection) -> StoredEvent | None:
            row = conn.execute("SELECT status FROM runs WHERE id = %s FOR UPDATE",
                               (run_id,)).fetchone()  # fmt: skip
            if row is None or row["status"] != Status.QUEUED:
                return None
            return self._finish_in(conn, run_id, Status.CANCELLED, final_event, None, None, None)

        return self._run(work)

    def request_cancel(self, run_id: str) -> bool:
        """Ask whoever runs it to stop it; False if it is not active."""
        return self._run(lambda conn: conn.execute(
            f"UPDATE runs SET cancel_requested = true WHERE id = %s AND {_ACTIVE}",
            (run_id,)).rowcount) > 0  # fmt: skip

    def cancel_requests(self, run_ids: Iterable[str]) -> list[str]:
        """Of these runs, the ones some replica asked to cancel."""
        ids = list(run_ids)
        if not ids:
            return []
        rows = self._run(lambda conn: conn.execute(
            f"SELECT id FROM runs WHERE id = ANY(%s) AND cancel_requested AND {_ACTIVE}",
            (ids,)).fetchall())  # fmt: skip
        return [r["id"] for r in rows]

    def silent_runs(self, older_than: float) -> list[RunRecord]:
        """Active runs whose last heartbeat is older than `older_than` (unix s)."""
        rows = self._run(lambda conn: conn.execute(
            "SELECT * FROM runs WHERE (status = 'running' OR (status = 'queued' AND"
            " heartbeat_at IS NOT NULL)) AND COALESCE(heartbeat_at, started_at) < %s",
            (older_than,)).fetchall())  # fmt: skip
        return [_record(r) for r in rows]

    def prune(self, retention: Retention, now: float | None = None) -> int:
        if retention.keeps_everything:
            return 0
        before = cutoff(retention, now)

        def work(conn: psycopg.Connection) -> int:
            deleted = 0
            if before is not None:
                deleted += conn.execute(
                    f"DELETE FROM runs WHERE NOT ({_ACTIVE}) AND pinned IS NULL"
                    " AND COALESCE(finished_at, created_at) < %s", (before,)).rowcount  # fmt: skip
            if retention.max_runs > 0:
                oldest_finished = (
                    f"SELECT id FROM runs WHERE NOT ({_ACTIVE}) AND pinned IS NULL"
                    " ORDER BY created_at, n"
                    " LIMIT GREATEST(0, (SELECT COUNT(*) FROM runs) - %s)"
                )
                deleted += conn.execute(f"DELETE FROM runs WHERE id IN ({oldest_finished})",
                                        (retention.max_runs,)).rowcount  # fmt: skip
            return deleted  # events go with their run (ON DELETE CASCADE)

        return self._run(work)

    def pin(self, run_id: str, pinned: str | None) -> bool:
        sql = "UPDATE runs SET pinned = %s WHERE id = %s"
        return self._run(lambda conn: conn.execute(sql, (pinned, run_id)).rowcount == 1)

    def pin_live(self, method: str, run_id: str) -> None:
        def work(conn: psycopg.Connection) -> None:
            conn.execute("UPDATE runs SET pinned = NULL WHERE method = %s AND id != %s"
                         " AND pinned = 'methods'", (method, run_id))  # fmt: skip
            conn.execute("UPDATE runs SET pinned = 'methods' WHERE id = %s AND pinned IS NULL",
                         (run_id,))  # fmt: skip

        self._run(work)

    # -- reads --------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._run(
            lambda conn: conn.execute("SELECT * FROM runs WHERE id = %s", (run_id,)).fetchone()
        )
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
        if wanted.methods is not None:
            where.append("method = ANY(%s)")
            args.append(wanted.methods)
        if wanted.statuses is not None:
            where.append("status = ANY(%s)")
            args.append(wanted.statuses)
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, n DESC LIMIT %s"
        rows = self._run(lambda conn: conn.execute(sql, [*args, limit]).fetchall())
        return [_record(r) for r in rows]

    def events_after(self, run_id: str, after: int = 0, limit: int = -1) -> list[StoredEvent]:
        # seq is an INTEGER: a resume point past it means "nothing after".
        after = max(-1, min(after, 2**31 - 1))
        rows = self._run(lambda conn: conn.execute(
            "SELECT seq, type, payload FROM events WHERE run_id = %s AND seq > %s"
            " ORDER BY seq LIMIT %s", (run_id, after, None if limit < 0 else limit)).fetchall())
        return [StoredEvent(r["seq"], r["type"], r["payload"]) for r in rows]

    def mean_duration(self, last: int = 20) -> float | None:
        row = self._run(lambda conn: conn.execute(
            "SELECT AVG(finished_at - started_at) AS d FROM (SELECT finished_at, started_at"
            " FROM runs WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT %s) AS r",
            (last,)).fetchone())  # fmt: skip
        return row["d"]

    # -- notifications ----------------------------------------------------------------

    def listen(self, on_notify: Callable[[str | None, int | None], None],
               stop: threading.Event) -> None:
        """Call `on_notify(run_id, seq)` for each notification until `stop` is set;
        `on_notify(None, None)` after each (re)connect, when some may have been
        missed. One dedicated connection, straight to the primary (not the pool)."""
        while not stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    on_notify(None, None)
                    while not stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            data = json.loads(note.payload)
                            on_notify(data["run_id"], data["seq"])
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
                stop.wait(0.5)


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the numbered SQL files not applied yet, in order; their names."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations"
                 " (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
    done = {r["name"] for r in conn.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for _, file in migration_files("postgres"):
        if file.name not in done:
            conn.execute(file.read_text())
            conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (file.name,))
            applied.append(file.name)
    return applied


def _count(conn: psycopg.Connection, sql: str, args: tuple = ()) -> int:
    return conn.execute(sql, args).fetchone()["n"]


def _record(row: dict[str, Any]) -> RunRecord:
    row = {k: v for k, v in row.items() if k not in _INTERNAL}
    row["progress"] = row["progress"] or {}
    return RunRecord(**row)
