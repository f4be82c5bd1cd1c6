"""The embedded executor: spawned worker processes on this machine.

Each running run has a reader thread that blocks on its worker's pipe and hands
what arrives to the run service (which stores and publishes it). Idle workers
wait with torch imported, so a run starts at once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from app.runs.contract import (
    INTERRUPTED_ERROR,
    Outcome,
    Status,
    cancelled_event,
    failed_event,
    interrupted_event,
    parse_event,
)
from app.runs.executor import ActiveRun, Executor, RunSink
from app.runs.worker import WorkerHandle

log = logging.getLogger(__name__)

#: A worker serves this many runs, then makes way for a fresh process (bounds any
#: slow growth of memory in a long-lived torch process).
MAX_JOBS_PER_WORKER = 50


class LocalExecutor(Executor):
    runs_die_with_process = True

    def __init__(self, target: str, *, warm_workers: int = 1, batch_limit: int = 256):
        self.target, self.warm_workers, self.batch_limit = target, warm_workers, batch_limit
        self._sink: RunSink | None = None
        self._lock = threading.Lock()
        self._idle: list[WorkerHandle] = []
        self._busy = 0
        self._stopping = False

    def start(self, sink: RunSink) -> None:
        self._sink = sink

    # -- workers ----------------------------------------------------------------

    def launch(self, run: ActiveRun, job: dict[str, Any]) -> None:
        with self._lock:
            run.handle = self._take_worker()
            self._busy += 1
        threading.Thread(
            target=self._drive, args=(run, job), name=f"run-{run.id}", daemon=True
        ).start()

    def _take_worker(self) -> WorkerHandle:
        while self._idle:
            worker = self._idle.pop(0)
            if worker.alive():
                return worker
            worker.close()  # died while idle (killed, out of memory): never mind
        return WorkerHandle(self.target)

    def keep_warm(self, busy: int) -> None:
        """Keep `warm_workers` processes up, counting busy ones: with one slot, the
        worker of the running run is reused for the next, and a spare is spawned
        only when one is lost (cancel, crash)."""
        with self._lock:
            while not self._stopping and len(self._idle) + busy < self.warm_workers:
                self._idle.append(WorkerHandle(self.target))

    def wait_warm(self, timeout: float = 30.0) -> bool:
        """Block until an idle worker has finished its imports (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any(w.poll_ready() for w in self._idle):
                    return True
            time.sleep(0.02)
        return False

    def kill(self, run: ActiveRun) -> None:
        if run.handle is not None:
            run.handle.kill()  # SIGKILL: stops within the second, whatever torch is doing

    def worker_pid(self, run: ActiveRun) -> int | None:
        return run.handle.pid if run.handle is not None else None

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()

    # -- one run, on its reader thread -------------------------------------------

    def _drive(self, run: ActiveRun, job: dict[str, Any]) -> None:
        sink, worker = self._sink, run.handle
        assert sink is not None
        try:
            sink.started(run)
            worker.send_job(job)
            outcome = self._collect(run, worker)
        except (EOFError, OSError):
            outcome = self._ended(run, worker)
        except Exception as exc:  # a bug of ours must not leave the run hanging
            log.exception("run %s: the run service failed", run.id)
            worker.kill()
            error = f"run service error: {type(exc).__name__}: {exc}"
            outcome = Outcome(Status.FAILED, failed_event(error), error=error)
        waiting = sink.finished(run, outcome)
        self._release(worker, outcome.reusable, waiting)
        sink.dispatch()

    def _collect(self, run: ActiveRun, worker: WorkerHandle) -> Outcome:
        """Hand the worker's events on until it reports an outcome."""
        while True:
            try:
                batch = worker.recv_batch(self.batch_limit)
            except (EOFError, OSError):
                return self._ended(run, worker)
            events, outcome = [], None
            for message in batch:
                if message[0] == "event":
                    events.append(message[1])  # checked in the worker: app/runs/emit.py
                elif message[0] == "result":
                    done = parse_event(message[1])
                    outcome = Outcome(Status.SUCCEEDED, done, done.summary, None, True)
                    break
                elif message[0] == "error":
                    log.warning("run %s failed in its worker:\n%s", run.id, message[2])
                    outcome = self._failed(run, message[1])
                    break
            if events:
                self._sink.events(run, events)
            if outcome is not None:
                return outcome

    def _failed(self, run: ActiveRun, error: str) -> Outcome:
        if run.stop_reason:  # the error came from our own kill
            return stopped_outcome(run)
        return Outcome(Status.FAILED, failed_event(error), error=error)

    def _ended(self, run: ActiveRun, worker: WorkerHandle) -> Outcome:
        """The worker is gone without a result: cancelled, shut down, or it died."""
        if run.stop_reason:
            worker.process.join(1.0)  # reaped before the run reads as stopped
            return stopped_outcome(run)
        reason = worker.exit_reason()
        log.warning("run %s: %s", run.id, reason)
        return Outcome(Status.FAILED, failed_event(reason), error=reason)

    def _release(self, worker: WorkerHandle, reusable: bool, waiting: bool) -> None:
        """Keep the worker for the next run (or as the warm one), or retire it."""
        reusable = reusable and worker.jobs < MAX_JOBS_PER_WORKER and worker.alive()
        with self._lock:
            self._busy -= 1
            wanted = waiting or len(self._idle) + self._busy < self.warm_workers
            keep = reusable and wanted and not self._stopping
            if keep:
                self._idle.insert(0, worker)  # already warm: the next run takes it first
        if not keep:
            worker.close()


def stopped_outcome(run: ActiveRun) -> Outcome:
    """A run we stopped ourselves: cancelled, or interrupted by a shutdown."""
    if run.stop_reason == "cancel":
        return Outcome(Status.CANCELLED, cancelled_event())
    return Outcome(Status.INTERRUPTED, interrupted_event(), error=INTERRUPTED_ERROR)
