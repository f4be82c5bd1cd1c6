"""The run service: validate, admit (queue, limits), hand runs to an executor,
store their events, publish them to the hub, cancel, recover after a restart.

Shared state (the queue, the running runs) sits behind one lock. The executor
reports from its own threads through the `RunSink` methods below; viewers are
the hub's business (app/runs/stream.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from app.runs.admission import Admission, RunLimits, check_params
from app.runs.contract import (
    ACTIVE,
    INTERRUPTED_ERROR,
    Outcome,
    RunRecord,
    Status,
    StoredEvent,
    cancelled_event,
    interrupted_event,
)
from app.runs.emit import Wire
from app.runs.errors import (
    RunFinished,
    RunNotFound,
    ShuttingDown,
)
from app.runs.executor import ActiveRun, Executor
from app.runs.factory import make_executor, open_store
from app.runs.feed import StoreFeed
from app.runs.keeper import Keeper
from app.runs.queries import RunQueries
from app.runs.store import RunStore
from app.runs.stream import Hub

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

#: Retention is applied at start, then at most this often (seconds), when a run ends.
PRUNE_EVERY = 3600.0
#: Newest succeeded runs of a method looked at for one with default parameters. A
#: reader who ran 50 variants since the last default run has no live row.
LIVE_SCAN = 50
LIVE_FIRST_LOOK = 4


class RunManager:
    def __init__(
        self,
        settings: Settings,
        *,
        target: str | None = None,
        methods: Mapping[str, Any] | None = None,
        limits: RunLimits | None = None,
        store: RunStore | None = None,
        executor: Executor | None = None,
    ):
        self.settings, self.target = settings, target or settings.run_target
        self.admission = Admission(limits or RunLimits.from_settings(settings))
        self._methods = methods
        self._store_given = store
        self.store: RunStore | None = None  # opened by start()
        self.executor = executor or make_executor(
            settings, self.target, concurrency=self.limits.concurrency,
            warm_workers=self.limits.warm_workers, batch_limit=self.limits.batch_limit,
        )  # fmt: skip
        self.hub = Hub(self.limits.subscriber_queue)
        self.queries: RunQueries | None = None  # once the store is open
        self._warm_timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._queue: deque[ActiveRun] = deque()
        self._running: dict[str, ActiveRun] = {}
        self._stopping = False
        self._pruned_at = 0.0
        self._feed: StoreFeed | None = None
        self._keeper: Keeper | None = None

    @property
    def limits(self) -> RunLimits:
        return self.admission.limits

    @limits.setter
    def limits(self, limits: RunLimits) -> None:
        self.admission.limits = limits

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> RunManager:
        return cls(settings, **kwargs)

    @property
    def methods(self) -> Mapping[str, Any]:
        if self._methods is None:
            from app.distill.methods import METHODS  # torch-free by contract

            self._methods = METHODS
        return self._methods

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        """Open the store, close the books on runs a previous process left
        unfinished, apply retention, and warm a worker. Call it on the event loop
        that serves the viewers (the app's lifespan), so events can reach them."""
        try:
            self.hub.bind(asyncio.get_running_loop())
        except RuntimeError:
            self.hub.bind(None)  # no viewers then (scripts, some tests)
        self.store = self._store_given or open_store(self.settings.store_url)
        here = None if self.executor.pulls_from_store else self._queued_here
        self.queries = RunQueries(self.store, self.hub, self.methods, here)
        if self.store.shared:
            # Other replicas' runs are in this store too: a run is lost when its
            # heartbeats stop (the keeper), not because this process restarted.
            self._feed = StoreFeed(self.hub, self.store)
            self._keeper = Keeper(self.store, self.active_ids, self.cancel)
            self._feed.start()
            self._keeper.start()
        elif self.executor.runs_die_with_process:
            for run_id in self.store.interrupt_unfinished():
                log.warning("run %s was left unfinished by a previous process: interrupted", run_id)
        self.prune()
        self.executor.start(self)
        self.executor.watch(self.store)
        # The warm worker's torch import takes a core for a second or two: let the
        # server finish starting first. A run that comes sooner spawns its own.
        self._warm_timer = threading.Timer(self.limits.warm_delay, self._warm_up)
        self._warm_timer.daemon = True
        self._warm_timer.start()

    def _warm_up(self) -> None:
        with self._lock:
            if not self._stopping:
                self.executor.keep_warm(len(self._running))

    def prune(self) -> int:
        """Delete the finished runs that retention does not keep; how many. Each
        method's live run (the one /methods links to) is pinned first."""
        self._pruned_at = time.monotonic()
        if self.store is not None and not self.limits.retention.keeps_everything:
            for method_id in self.methods:
                record = self.latest_default_run(method_id)
                if record is not None:
                    self.store.pin_live(method_id, record.id)
        deleted = self.store.prune(self.limits.retention) if self.store else 0
        if deleted:
            log.info("retention: deleted %d finished runs with their events", deleted)
        return deleted

    def stop(self, timeout: float = 5.0) -> None:
        """Interrupt what is queued or running, retire the workers, close the store."""
        if self._warm_timer is not None:
            self._warm_timer.cancel()
        with self._lock:
            self._stopping = True
            queued, self._queue = list(self._queue), deque()
            running = list(self._running.values())
            for run in running:
                run.stop_reason = "shutdown"
        for run in queued:
            self._finish_record(run, Outcome(Status.INTERRUPTED, interrupted_event(),
                                             error=INTERRUPTED_ERROR))  # fmt: skip
        for run in running:
            self.executor.kill(run)
        deadline = time.monotonic() + timeout
        for run in running:
            run.recorded.wait(max(0.0, deadline - time.monotonic()))
        self.executor.stop()
        for helper in (self._keeper, self._feed):
            if helper is not None:
                helper.stop()
        if self.store and all(run.recorded.is_set() for run in running):
            self.store.close()

    def wait_warm(self, timeout: float = 30.0) -> bool:
        """Block until an idle worker has finished its imports (tests, benchmarks)."""
        return self.executor.wait_warm(timeout)

    # -- runs -----------------------------------------------------------------

    def validate(self, method: str, params: Any) -> dict[str, Any]:
        """The method's parameters as they are stored: checked, defaults filled in."""
        return self.check(method, params).model_dump(mode="json")

    def check(self, method: str, params: Any) -> BaseModel:
        """The method's parameters, checked once by its own model (admission.py)."""
        return check_params(self.methods, method, params)

    def submit(
        self, method: str, params: BaseModel | dict[str, Any], client: str = ""
    ) -> RunRecord:
        """Queue a run (it starts at once when a slot is free); its record. `params`:
        the method's checked parameters (a dict is checked here)."""
        params = self.validate(method, params)
        with self._lock:
            if self._stopping or self.store is None:
                raise ShuttingDown("the run service is not running")
            run = ActiveRun(secrets.token_hex(6), method, params, client)
            record = RunRecord(id=run.id, method=method, params=params, status=Status.QUEUED,
                               client=client, created_at=time.time())  # fmt: skip
            pulled = self.executor.pulls_from_store
            self.admission.admit(self.store, record, held_here=not pulled,
                                 waiting=len(self._queue))  # fmt: skip
            if not pulled:
                self._queue.append(run)
                self._dispatch()
        return self.get(run.id)

    def cancel(self, run_id: str, timeout: float = 2.0) -> RunRecord:
        """Cancel a queued or running run, wherever it waits or runs; its record once
        it has stopped (or, past ``timeout``, as it stands). One path: stop it where
        it is, then wait for its record to leave the active states."""
        if not self._stop(run_id):
            record = self.get(run_id)
            if record is None:
                raise RunNotFound(f"no run {run_id}")
            raise RunFinished(f"run {run_id} has already finished ({record.status})")
        deadline = time.monotonic() + timeout
        record = self.get(run_id)
        while record.status in ACTIVE and time.monotonic() < deadline:
            time.sleep(0.05)
            record = self.get(run_id)
        if record.status not in (*ACTIVE, Status.CANCELLED):
            raise RunFinished(f"run {run_id} had already finished ({record.status})")
        return record

    def _stop(self, run_id: str) -> bool:
        """Stop the run where it is: this replica's queue (cancelled at once) or
        worker (killed), the store's queue, or, for a run that another replica or the
        cluster runs, a flag in the shared store. False: nothing left to stop."""
        with self._lock:
            run = self._running.get(run_id)
            if run is not None and run.recorded.is_set():
                run = None  # finished a moment ago; only its slot is still being freed
            queued = next((r for r in self._queue if r.id == run_id), None)
            if queued is not None:
                self._queue.remove(queued)
            elif run is not None:
                run.stop_reason = "cancel"
        if queued is not None:
            self._finish_record(queued, Outcome(Status.CANCELLED, cancelled_event()))
            return True
        if run is not None:
            self.executor.kill(run)
            return True
        record = self.get(run_id)
        if record is None or record.status not in ACTIVE:
            return False
        if record.status == Status.QUEUED and self.executor.pulls_from_store:
            event = self.store.cancel_queued(run_id, cancelled_event())
            if event is not None:  # still waiting in the store's queue: done
                self.hub.publish(run_id, [event])
                return True
        return self.store.shared and self.store.request_cancel(run_id)

    # -- queries and following (app/runs/queries.py) -----------------------------

    def get(self, run_id: str) -> RunRecord | None:
        return self.queries.get(run_id) if self.queries else None

    def list_runs(self, *, methods: Iterable[str] | None = None,
                  status: Status | str | None = None, limit: int = 50) -> list[RunRecord]:
        return self.queries.list_runs(methods=methods, status=status, limit=limit)

    def latest_default_run(self, method_id: str) -> RunRecord | None:
        """The newest succeeded run of a method at its default parameters (the live
        row of /methods and the paper pages), among the method's newest LIVE_SCAN."""
        defaults = self.methods[method_id].params().model_dump(mode="json")
        # Usually among the newest few: look there first, so that /methods reads (and
        # decodes) a handful of records per method, not LIVE_SCAN.
        for limit in (LIVE_FIRST_LOOK, LIVE_SCAN):
            records = self.store.list_runs(methods={method_id}, status="succeeded", limit=limit)
            for record in records:
                if record.params == defaults:
                    return record
            if len(records) < limit:
                return None
        return None

    def pin(self, run_id: str, pinned: bool) -> RunRecord:
        """Keep a run from retention (a reader's pin), or release it."""
        if not self.store.pin(run_id, "reader" if pinned else None):
            raise RunNotFound(f"no run {run_id}")
        return self.get(run_id)

    def positions(self) -> dict[str, int]:
        return self.queries.positions() if self.queries else {}

    def knows(self, method: str) -> bool:
        return method in self.methods

    def metric_rows(self, run_id: str) -> Iterator[dict[str, Any]]:
        return self.queries.metric_rows(run_id)

    def follow(self, run_id: str, after: int = 0) -> AsyncIterator[list[StoredEvent]]:
        return self.queries.follow(run_id, after)

    def _queued_here(self) -> list[str]:
        with self._lock:
            return [run.id for run in self._queue]

    def active_ids(self) -> list[str]:
        """The runs queued or running here (any thread)."""
        with self._lock:
            return [*(r.id for r in self._queue), *self._running]

    def worker_pid(self, run_id: str) -> int | None:
        run = self._running.get(run_id)
        return self.executor.worker_pid(run) if run else None

    # -- scheduling (lock held) ------------------------------------------------

    def _dispatch(self) -> None:
        while (
            self._queue and len(self._running) < self.limits.concurrency and not self._stopping
        ):
            run = self._queue.popleft()
            self._running[run.id] = run
            self.executor.launch(run, self._job(run))
        if not self._stopping and not self.executor.pulls_from_store:
            self.executor.keep_warm(len(self._running))

    def _job(self, run: ActiveRun) -> dict[str, Any]:
        return {
            "method": run.method,
            "params": run.params,
            "data_dir": str(self.settings.data_dir),
            "device": self.settings.device,
            "threads": self.settings.torch_threads,
        }

    # -- the executor's reports (RunSink), from its threads ----------------------

    def started(self, run: ActiveRun) -> None:
        self.store.mark_running(run.id, time.time())

    def events(self, run: ActiveRun, events: list[Wire]) -> None:
        stored = run.log.add(events)
        self.store.append_events(run.id, stored, run.log.progress)
        self.hub.publish(run.id, stored)

    def ended(self, run: ActiveRun, outcome: Outcome) -> bool:
        self._finish_record(run, outcome)
        if time.monotonic() - self._pruned_at > PRUNE_EVERY:
            self.prune()
        with self._lock:
            self._running.pop(run.id, None)
            return bool(self._queue)

    def dispatch(self) -> None:
        with self._lock:
            self._dispatch()

    def _finish_record(self, run: ActiveRun, outcome: Outcome) -> None:
        event = self.store.finish(
            run.id, outcome.status, run.log.finish(outcome.final), summary=outcome.summary,
            error=outcome.error, progress=run.log.progress or None,
        )  # fmt: skip
        if event is not None:
            self.hub.publish(run.id, [event])
        run.recorded.set()
