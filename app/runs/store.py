"""The `RunStore` seam: where runs and their events live.

Two implementations declare every method: `SqliteRunStore` (the embedded default,
one file under DATA_DIR) and `PostgresRunStore` (scaled out: every web replica and
every worker share it); `app.runs.factory.open_store(url)`, above this seam, picks
one from `RUN_STORE_URL`. Whatever the store,
events are keyed by (run_id, seq), a run's terminal event and its final status
are written in one transaction, and admission (queue bound, per-client limit) is
decided inside one transaction, so that it holds across replicas.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.runs.contract import (
    FINISHED,
    INTERRUPTED_ERROR,
    TERMINAL_EVENTS,
    Event,
    RunRecord,
    Status,
    StoredEvent,
    Summary,
    encode_event,
    interrupted_event,
    parse_event,
    summary_json,
)

__all__ = [
    "FINISHED",
    "INTERRUPTED_ERROR",
    "TERMINAL_EVENTS",
    "Admission",
    "Retention",
    "RunStore",
    "StoredEvent",
    "encode_event",
]


@dataclass(frozen=True, slots=True)
class Admission:
    """Why a launch was refused; None from `admit` means it was admitted."""

    reason: str  # "queue_full" or "client_limit"
    held: int  # runs queued or running (all of them, or the client's)


@dataclass(frozen=True, slots=True)
class Retention:
    """Which finished runs to keep: younger than `days` (0: any age), and at most
    `max_runs` of them (0: any number). Queued and running runs are always kept."""

    days: float = 0
    max_runs: int = 0

    @property
    def keeps_everything(self) -> bool:
        return self.days <= 0 and self.max_runs <= 0


class RunStore(abc.ABC):
    """Runs and their numbered events. Thread-safe: the web's request handlers,
    the run service's reader threads and the stream's readers share one store."""

    #: Whether several processes (replicas, remote workers) may share this store.
    shared: bool = False

    # -- writes ---------------------------------------------------------------

    @abc.abstractmethod
    def admit(
        self,
        run: RunRecord,
        *,
        capacity: int,
        per_client: int,
        held_here: bool = True,
    ) -> Admission | None:
        """Insert `run` (queued) unless `capacity` runs are queued or running, or
        its client holds `per_client` of them; decided in one transaction.
        `held_here`: this process holds the queued run (False: it waits in the
        store for a cluster worker to claim it)."""

    def create_run(
        self, run_id: str, method: str, params: dict[str, Any], client: str, created_at: float
    ) -> None:
        """Insert a queued run, no questions asked (tests, imports)."""
        record = RunRecord(
            id=run_id, method=method, params=params, status=Status.QUEUED, client=client,
            created_at=created_at,
        )  # fmt: skip
        refused = self.admit(record, capacity=2**31, per_client=2**31)
        assert refused is None

    @abc.abstractmethod
    def mark_running(self, run_id: str, started_at: float) -> None: ...

    @abc.abstractmethod
    def append_events(
        self, run_id: str, events: Iterable[StoredEvent], progress: dict[str, Any] | None = None
    ) -> None:
        """Store a batch of events (one transaction). A seq already stored is
        skipped: a worker that retries a write after a lost reply adds nothing twice."""

    def finish(
        self,
        run_id: str,
        status: Status | str,
        final_event: Event | Mapping[str, Any],
        *,
        summary: Summary | Mapping[str, Any] | None = None,
        error: str | None = None,
        progress: dict[str, Any] | None = None,
    ) -> StoredEvent | None:
        """Write the terminal event and the final status together, so a viewer that
        sees the event and then asks for the run sees it finished too. None if the
        run had already finished (a cancel racing the run's own end): first wins."""
        status = Status(status)
        assert status in FINISHED
        if isinstance(final_event, Mapping):
            final_event = parse_event(final_event)
        return self._finish(run_id, status, final_event, summary_json(summary), error, progress)

    @abc.abstractmethod
    def _finish(self, run_id: str, status: Status, final_event: Event, summary: Any,
                error: str | None, progress: dict[str, Any] | None) -> StoredEvent | None:
        """`finish` in one transaction: unless the run is gone or finished, append
        `final_event` as its next seq and set status, finished_at, summary (its JSON
        form), error and progress (when given)."""

    def interrupt_unfinished(self) -> list[str]:
        """At start-up of the embedded service: runs a previous process left queued
        or running can't continue. They become `interrupted`, with their events kept
        and a final `failed` event so every stream of theirs ends."""
        ids = [r.id for r in self.list_runs(statuses=[Status.QUEUED, Status.RUNNING], limit=None)]
        for run_id in ids:
            self.finish(run_id, Status.INTERRUPTED, interrupted_event(), error=INTERRUPTED_ERROR)
        return ids

    # -- runs kept alive, claimed and stopped across processes (a shared store's
    # -- whole point; the embedded store keeps them too, for one process) -----------

    @abc.abstractmethod
    def heartbeat(self, run_ids: Iterable[str], now: float | None = None) -> None:
        """Whoever runs these says they live."""

    @abc.abstractmethod
    def silent_runs(self, older_than: float) -> list[RunRecord]:
        """Queued or running runs with no heartbeat since `older_than` (unix s)."""

    @abc.abstractmethod
    def request_cancel(self, run_id: str) -> bool:
        """Ask whichever process runs it to stop it; False if it is not active."""

    @abc.abstractmethod
    def cancel_requests(self, run_ids: Iterable[str]) -> list[str]:
        """Of these runs, those that some process asked to cancel."""

    @abc.abstractmethod
    def claim_next(self, runner: str = "") -> RunRecord | None:
        """For a cluster worker (`runner`: its host:pid): the oldest queued run, now
        running; or None. Two workers never claim the same run."""

    @abc.abstractmethod
    def running_on(self, runner: str) -> list[str]:
        """The runs a cluster worker (host:pid) has claimed and not finished."""

    @abc.abstractmethod
    def queued_ids(self) -> list[str]:
        """Queued runs, next to start first."""

    @abc.abstractmethod
    def cancel_queued(self, run_id: str, final_event: Event) -> StoredEvent | None:
        """Cancel the run if it still waits in the queue; None if it does not."""

    @abc.abstractmethod
    def listen(self, on_notify: Callable[[str | None, int | None], None],
               stop: threading.Event) -> None:
        """Until `stop` is set, call `on_notify(run_id, seq)` when a run has new
        events up to `seq`, and `on_notify(None, None)` when some may have been
        missed (after a reconnect; a store without notifications says so on every
        poll): the reader then catches up from the store."""

    @abc.abstractmethod
    def prune(self, retention: Retention, now: float | None = None) -> int:
        """Delete finished runs (with their events) that `retention` does not keep,
        oldest first; the number deleted."""

    # -- reads ----------------------------------------------------------------

    @abc.abstractmethod
    def pin(self, run_id: str, pinned: str | None) -> bool:
        """Set or clear (None) a finished run's pin; False when there is no such run."""

    @abc.abstractmethod
    def pin_live(self, method: str, run_id: str) -> None:
        """`run_id` is now the method's live row: pin it ("methods"), and release the
        live pin of the method's other runs (a reader's pin stays)."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunRecord | None: ...

    @abc.abstractmethod
    def list_runs(
        self,
        *,
        methods: Iterable[str] | None = None,
        status: Status | str | None = None,
        statuses: Iterable[Status | str] | None = None,
        limit: int | None = 50,
    ) -> list[RunRecord]:
        """Newest first."""

    @abc.abstractmethod
    def events_after(self, run_id: str, after: int = 0, limit: int = -1) -> list[StoredEvent]: ...

    def status_and_events(
        self, run_id: str, after: int
    ) -> tuple[Status | None, list[StoredEvent]]:
        """The run's status, then its events after `after`, read in that order: if
        the status says finished, the list holds everything up to the final event."""
        run = self.get_run(run_id)
        if run is None:
            return None, []
        return run.status, self.events_after(run_id, after)

    @abc.abstractmethod
    def mean_duration(self, last: int = 20) -> float | None:
        """Mean wall time of recent successful runs, for Retry-After estimates."""

    @abc.abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True)
class RunFilter:
    """What list_runs asks for, normalised once for every store: None means "any"."""

    methods: list[str] | None
    statuses: list[str] | None


def run_filter(
    methods: Iterable[str] | None,
    status: Status | str | None,
    statuses: Iterable[Status | str] | None,
) -> RunFilter | None:
    """The filter of a list_runs call, or None when it can match nothing (no methods)."""
    wanted = [*(statuses or ()), *([status] if status is not None else [])]
    names = None if methods is None else list(methods)
    if names == []:
        return None
    return RunFilter(names, [Status(s).value for s in wanted] or None)


def cutoff(retention: Retention, now: float | None) -> float | None:
    """Finished before this (unix seconds) means too old; None: no age limit."""
    if retention.days <= 0:
        return None
    return (now if now is not None else time.time()) - retention.days * 86400
