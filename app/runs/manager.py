"""The run service: validate, queue, hand runs to worker processes, collect and
store their events, fan them out to viewers, cancel, recover after a restart.

Threads: each running run has a reader thread that blocks on its worker's pipe,
stores what arrives, and passes it to the event loop for the viewers. Shared
state (the queue, the running runs, the idle workers) sits behind one lock;
viewers' subscriptions are touched only on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from app.runs.errors import (
    ClientLimit,
    InvalidParams,
    QueueFull,
    RunFinished,
    RunNotFound,
    ShuttingDown,
    UnknownMethod,
)
from app.runs.store import INTERRUPTED_ERROR, RunStore, StoredEvent, encode_event
from app.runs.stream import Subscriber
from app.runs.worker import WorkerHandle

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_TARGET = "app.distill.trainer:train"
#: A worker serves this many runs, then makes way for a fresh process (bounds any
#: slow growth of memory in a long-lived torch process).
MAX_JOBS_PER_WORKER = 50


@dataclass(eq=False)
class _Run:
    id: str
    method: str
    params: dict[str, Any]
    client: str
    worker: WorkerHandle | None = None
    stop_reason: str | None = None  # "cancel" or "shutdown", set before the worker is killed
    last_seq: int = 0
    progress: dict[str, Any] = field(default_factory=dict)
    finished: threading.Event = field(default_factory=threading.Event)


class RunManager:
    def __init__(
        self,
        db_path: Path,
        data_dir: Path,
        *,
        target: str = DEFAULT_TARGET,
        methods: Mapping[str, Any] | None = None,
        device: str = "auto",
        threads: int = 0,
        concurrency: int = 1,
        queue_size: int = 16,
        per_client: int = 4,
        warm_workers: int = 1,
        warm_delay: float = 0.5,
        subscriber_queue: int = 1024,
        batch_limit: int = 256,
    ):
        self.db_path, self.data_dir, self.target = db_path, data_dir, target
        self._methods = methods
        self.device, self.threads = device, threads
        self.concurrency, self.queue_size, self.per_client = concurrency, queue_size, per_client
        self.warm_workers, self.subscriber_queue = warm_workers, subscriber_queue
        self.warm_delay = warm_delay
        self._warm_timer: threading.Timer | None = None
        self.batch_limit = batch_limit
        self.store: RunStore | None = None  # opened by start()
        self._lock = threading.Lock()
        self._queue: deque[_Run] = deque()
        self._running: dict[str, _Run] = {}
        self._idle: list[WorkerHandle] = []
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: dict[str, set[Subscriber]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RunManager:
        kwargs: dict[str, Any] = {
            "device": settings.device,
            "threads": settings.torch_threads,
            "concurrency": settings.run_concurrency,
            "queue_size": settings.run_queue_size,
            "per_client": settings.run_queue_per_client,
            "warm_workers": settings.run_warm_workers,
        }
        return cls(settings.db_path, settings.data_dir, **(kwargs | overrides))

    @property
    def methods(self) -> Mapping[str, Any]:
        if self._methods is None:
            from app.distill.methods import METHODS  # torch-free by contract

            self._methods = METHODS
        return self._methods

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        """Open the store, close the books on runs a previous process left
        unfinished, and warm a worker. Call it on the event loop that serves the
        viewers (the app's lifespan), so events can reach them."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None  # no viewers then (scripts, some tests)
        self.store = RunStore(self.db_path)
        for run_id in self.store.interrupt_unfinished():
            log.warning("run %s was left unfinished by a previous process: interrupted", run_id)
        # The warm worker's torch import takes a core for a second or two: let the
        # server finish starting first. A run that comes sooner spawns its own.
        self._warm_timer = threading.Timer(self.warm_delay, self._warm_up)
        self._warm_timer.daemon = True
        self._warm_timer.start()

    def _warm_up(self) -> None:
        with self._lock:
            self._ensure_warm()

    def stop(self, timeout: float = 5.0) -> None:
        """Interrupt what is queued or running, retire the workers, close the store."""
        if self._warm_timer is not None:
            self._warm_timer.cancel()
        with self._lock:
            self._stopping = True
            queued, self._queue = list(self._queue), deque()
            running = list(self._running.values())
            idle, self._idle = self._idle, []
            for run in running:
                run.stop_reason = "shutdown"
        for run in queued:
            self._finish_record(run, "interrupted", _interrupted_event(), error=INTERRUPTED_ERROR)
        for run in running:
            if run.worker:
                run.worker.kill()
        deadline = time.monotonic() + timeout
        for run in running:
            run.finished.wait(max(0.0, deadline - time.monotonic()))
        for worker in idle:
            worker.close()
        if self.store and all(run.finished.is_set() for run in running):
            self.store.close()

    def wait_warm(self, timeout: float = 30.0) -> bool:
        """Block until an idle worker has finished its imports (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any(w.poll_ready() for w in self._idle):
                    return True
            time.sleep(0.02)
        return False

    # -- runs -----------------------------------------------------------------

    def validate(self, method: str, params: Any) -> dict[str, Any]:
        """The method's parameters, checked and completed with defaults."""
        spec = self.methods.get(method)
        if spec is None:
            raise UnknownMethod(f"unknown method {method!r}; known: {', '.join(self.methods)}")
        if not isinstance(params, dict):
            raise InvalidParams([{"field": "params", "message": "must be an object"}])
        try:
            model = spec.params.model_validate(params)
        except ValidationError as exc:
            raise InvalidParams(_field_errors(exc)) from None
        return model.model_dump(mode="json")

    def submit(self, method: str, params: Any, client: str = "") -> dict[str, Any]:
        """Queue a run (it starts at once when a slot is free); its record."""
        params = self.validate(method, params)
        with self._lock:
            if self._stopping or self.store is None:
                raise ShuttingDown("the run service is not running")
            busy = len(self._running) >= self.concurrency or bool(self._queue)
            if busy and len(self._queue) >= self.queue_size:
                raise QueueFull(
                    f"the queue is full ({self.queue_size} runs waiting); try again later",
                    self._retry_after(),
                )
            held = sum(r.client == client for r in (*self._queue, *self._running.values()))
            if held >= self.per_client:
                raise ClientLimit(
                    f"you already have {held} runs queued or running (at most {self.per_client})",
                    self._retry_after(),
                )
            run = _Run(secrets.token_hex(6), method, params, client)
            self.store.create_run(run.id, method, params, client, time.time())
            self._queue.append(run)
            self._dispatch()
        return self.get(run.id)

    def cancel(self, run_id: str, timeout: float = 2.0) -> dict[str, Any]:
        """Cancel a queued or running run; its record once it has stopped."""
        with self._lock:
            run = self._running.get(run_id)
            if run is not None and run.finished.is_set():
                run = None  # finished a moment ago; only its slot is still being freed
            queued = next((r for r in self._queue if r.id == run_id), None)
            if queued is not None:
                self._queue.remove(queued)
            elif run is not None:
                run.stop_reason = "cancel"
        if queued is not None:
            self._finish_record(queued, "cancelled", {"type": "cancelled", "status": "cancelled"})
        elif run is not None:
            if run.worker:
                run.worker.kill()  # SIGKILL: stops within the second, whatever torch is doing
            run.finished.wait(timeout)
            record = self.get(run_id)
            if record is not None and record["status"] not in ("running", "cancelled"):
                raise RunFinished(f"run {run_id} had already finished ({record['status']})")
            return record
        else:
            record = self.get(run_id)
            if record is None:
                raise RunNotFound(f"no run {run_id}")
            raise RunFinished(f"run {run_id} has already finished ({record['status']})")
        return self.get(run_id)

    def get(self, run_id: str) -> dict[str, Any] | None:
        record = self.store.get_run(run_id) if self.store else None
        if record is not None:
            record["position"] = self.positions().get(run_id)
        return record

    def list_runs(
        self,
        *,
        methods: Iterable[str] | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        records = self.store.list_runs(methods=methods, status=status, limit=limit)
        positions = self.positions()
        for record in records:
            record["position"] = positions.get(record["id"])
        return records

    def positions(self) -> dict[str, int]:
        """Place in the queue of every queued run, from 1 (next to start)."""
        with self._lock:
            return {run.id: i for i, run in enumerate(self._queue, start=1)}

    def worker_pid(self, run_id: str) -> int | None:
        run = self._running.get(run_id)
        return run.worker.pid if run and run.worker else None

    # -- viewers (event loop thread only) --------------------------------------

    def subscribe(self, run_id: str) -> Subscriber:
        subscriber = Subscriber(self.subscriber_queue)
        self._subscribers.setdefault(run_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, run_id: str, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(run_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[run_id]

    def viewers(self, run_id: str) -> int:
        return len(self._subscribers.get(run_id, ()))

    def _publish(self, run_id: str, events: list[StoredEvent]) -> None:
        """From any thread: hand stored events to the loop for the viewers."""
        loop = self._loop
        if loop is None or not events:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is watching
            loop.call_soon_threadsafe(self._deliver, run_id, events)

    def _deliver(self, run_id: str, events: list[StoredEvent]) -> None:
        for subscriber in list(self._subscribers.get(run_id, ())):
            subscriber.offer(events)

    # -- scheduling (lock held) ------------------------------------------------

    def _dispatch(self) -> None:
        while self._queue and len(self._running) < self.concurrency and not self._stopping:
            run = self._queue.popleft()
            run.worker = self._take_worker()
            self._running[run.id] = run
            threading.Thread(
                target=self._drive, args=(run,), name=f"run-{run.id}", daemon=True
            ).start()
        self._ensure_warm()

    def _take_worker(self) -> WorkerHandle:
        while self._idle:
            worker = self._idle.pop(0)
            if worker.alive():
                return worker
            worker.close()  # died while idle (killed, out of memory): never mind
        return WorkerHandle(self.target)

    def _ensure_warm(self) -> None:
        """Keep `warm_workers` processes up, counting busy ones: with one slot, the
        worker of the running run is reused for the next, and a spare is spawned
        only when one is lost (cancel, crash)."""
        if self._stopping:
            return
        while len(self._idle) + len(self._running) < self.warm_workers:
            self._idle.append(WorkerHandle(self.target))

    def _retry_after(self) -> int:
        mean = self.store.mean_duration() if self.store else None
        waiting = len(self._queue) + 1
        estimate = (mean or 30.0) * waiting / self.concurrency
        return max(1, min(3600, math.ceil(estimate)))

    # -- one run, on its reader thread ------------------------------------------

    def _drive(self, run: _Run) -> None:
        worker = run.worker
        assert worker is not None and self.store is not None
        reusable = False
        try:
            self.store.mark_running(run.id, time.time())
            worker.send_job(self._job(run))
            status, final, summary, error, reusable = self._collect(run, worker)
        except (EOFError, OSError):
            status, final, summary, error = self._ended(run, worker)
        except Exception as exc:  # a bug of ours must not leave the run hanging
            log.exception("run %s: the run service failed", run.id)
            worker.kill()
            status, final, summary = "failed", None, None
            error = f"run service error: {type(exc).__name__}: {exc}"
        if final is None:
            final = {"type": "failed", "status": status, "error": error}
        self._finish_record(run, status, final, summary=summary, error=error)
        self._release(run, worker, reusable)

    def _job(self, run: _Run) -> dict[str, Any]:
        return {
            "method": run.method,
            "params": run.params,
            "data_dir": str(self.data_dir),
            "device": self.device,
            "threads": self.threads,
        }

    def _collect(self, run: _Run, worker: WorkerHandle) -> tuple:
        """Store and publish the worker's events until it reports an outcome."""
        while True:
            try:
                batch = worker.recv_batch(self.batch_limit)
            except (EOFError, OSError):
                return (*self._ended(run, worker), False)
            events: list[dict[str, Any]] = []
            outcome: tuple | None = None
            for message in batch:
                if message[0] == "event":
                    events.append(message[1])
                elif message[0] == "result":
                    done = message[1]
                    outcome = ("succeeded", done, done.get("summary"), None, True)
                    break
                elif message[0] == "error":
                    log.warning("run %s failed in its worker:\n%s", run.id, message[2])
                    outcome = self._failed(run, message[1])
                    break
            self._store_events(run, events)
            if outcome is not None:
                return outcome

    def _failed(self, run: _Run, error: str) -> tuple:
        if run.stop_reason:  # the error came from our own kill
            return (*self._stopped(run), False)
        return ("failed", None, None, error, False)

    def _ended(self, run: _Run, worker: WorkerHandle) -> tuple:
        """The worker is gone without a result: cancelled, shut down, or it died."""
        if run.stop_reason:
            return self._stopped(run)
        reason = worker.exit_reason()
        log.warning("run %s: %s", run.id, reason)
        return "failed", None, None, reason

    @staticmethod
    def _stopped(run: _Run) -> tuple:
        if run.stop_reason == "cancel":
            return "cancelled", {"type": "cancelled", "status": "cancelled"}, None, None
        return "interrupted", _interrupted_event(), None, INTERRUPTED_ERROR

    def _store_events(self, run: _Run, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        stored = []
        for event in events:
            run.last_seq += 1
            stored.append(encode_event(run.last_seq, event))
            _track_progress(run.progress, event)
        self.store.append_events(run.id, stored, run.progress)
        self._publish(run.id, stored)

    def _finish_record(self, run: _Run, status: str, final: dict[str, Any], **kw: Any) -> None:
        event = self.store.finish(run.id, status, final, progress=run.progress or None, **kw)
        self._publish(run.id, [event])
        run.finished.set()

    def _release(self, run: _Run, worker: WorkerHandle, reusable: bool) -> None:
        """Free the slot, keep or retire the worker, start what waits."""
        reusable = reusable and worker.jobs < MAX_JOBS_PER_WORKER and worker.alive()
        with self._lock:
            self._running.pop(run.id, None)
            wanted = bool(self._queue) or (len(self._idle) + len(self._running) < self.warm_workers)
            keep = reusable and wanted and not self._stopping
            if keep:
                self._idle.insert(0, worker)  # already warm: the next run takes it first
            self._dispatch()
        if not keep:
            worker.close()


def _interrupted_event() -> dict[str, Any]:
    return {"type": "failed", "status": "interrupted", "error": INTERRUPTED_ERROR}


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in err["loc"]) or "params", "message": err["msg"]}
        for err in exc.errors()
    ]


def _track_progress(progress: dict[str, Any], event: dict[str, Any]) -> None:
    """Where the run is, from its events: the phase, epoch x/y, step x/y."""
    kind = event.get("type")
    if kind == "phase":
        progress["phase"] = event.get("phase")
        progress["phase_state"] = event.get("state")
        if event.get("state") == "start":
            progress.update(epoch=0, step=0, epochs=event.get("epochs"), steps=event.get("steps"))
    elif kind == "metric":
        progress["phase"] = event.get("phase", progress.get("phase"))
        for key in ("epoch", "epochs", "step", "steps"):
            if key in event:
                progress[key] = event[key]
