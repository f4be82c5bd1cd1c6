"""What runs inside a Ray trainer actor (a long-lived Ray worker process).

The actor imports the trainer (and so torch) once, in its constructor: that is
the warm pool. A thread then takes queued runs from the Postgres store, one at
a time (`claim_next`, SKIP LOCKED: two actors never take the same run), trains
each, and writes its events straight into the store. While a run trains, a
second thread beats for it every BEAT seconds and reads its cancel flag; the
trainer stops at its next event once the flag is up. A trainer that emits
nothing for a second after a cancel is stopped by ending the process (Ray
restarts the actor, warm again a moment later).

Nothing here imports the web. A restarted actor carries on from the queue.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from typing import Any

from app.runs.contract import (
    Outcome,
    Status,
    cancelled_event,
    failed_event,
    parse_event,
)
from app.runs.emit import EventLog, Wire, done_wire, to_wire
from app.runs.keeper import BEAT
from app.runs.worker import load_target

log = logging.getLogger(__name__)

#: Seconds between claims while the queue is empty: bounds a run's start delay.
IDLE_POLL = 0.1
#: Events are written in batches: at most this many, or this old (seconds).
BATCH_EVENTS, BATCH_SECONDS = 64, 0.05
#: After a cancel, how long a silent trainer gets before its process is ended.
HARD_STOP_AFTER = 1.0


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Cancelled(BaseException):
    """Raised inside the trainer's emit once the run is cancelled; a BaseException
    so that a trainer's `except Exception` can't swallow it."""


class TrainerLoop:
    def __init__(self, store_url: str, password_file: str | None, target: str,
                 job: dict[str, Any]):  # fmt: skip
        from app.runs.pg_store import PostgresRunStore

        if password_file is not None:  # this worker's copy of the secret
            from app.settings import url_with_password_from

            store_url = url_with_password_from(store_url, password_file)
        self.store = PostgresRunStore(store_url, max_size=3)
        self.job = job  # data_dir, device, threads: the cluster's, for every run
        self.train = load_target(target)  # the expensive import, once
        import app.distill.methods  # noqa: F401  (RunConfig and the method registry)
        self.current: str | None = None
        thread = threading.Thread(target=self._serve, name="trainer-loop", daemon=True)
        thread.start()

    def ready(self) -> str:
        """This actor's runner name (host:pid), once the trainer is imported."""
        return runner_name()

    def _serve(self) -> None:
        while True:
            try:
                run = self.store.claim_next(runner_name())
            except Exception:
                log.exception("claiming a run failed")
                run = None
            if run is None:
                time.sleep(IDLE_POLL)
                continue
            self.current = run.id
            try:
                RunJob(self, run.id, run.method, run.params).run()
            finally:
                self.current = None


class RunJob:
    """One run in the actor: train, write events in batches, beat, obey cancel."""

    def __init__(self, loop: TrainerLoop, run_id: str, method: str, params: dict[str, Any]):
        self.loop, self.store, self.run_id = loop, loop.store, run_id
        self.method, self.params = method, params
        self.log, self.buffer = EventLog(), []
        self.flushed_at = time.monotonic()
        self.cancel_seen_at: float | None = None
        self.last_emit = time.monotonic()
        self.done: Wire | None = None
        self.stop = threading.Event()
        self.lock = threading.Lock()  # the buffer
        self.writing = threading.Lock()  # one writer at a time

    def run(self) -> None:
        beat = threading.Thread(target=self._beat, name=f"beat-{self.run_id}", daemon=True)
        beat.start()
        try:
            outcome = self._train()
            self._flush()  # retried while the store is away: nothing is dropped
            self.store.finish(self.run_id, outcome.status, self.log.finish(outcome.final),
                              summary=outcome.summary, error=outcome.error,
                              progress=self.log.progress or None)  # fmt: skip
        finally:
            self.stop.set()
            beat.join(2)

    def _train(self) -> Outcome:
        from app.distill.methods import RunConfig

        config = RunConfig(method=self.method, params=self.params, **self.loop.job)
        try:
            summary = self.loop.train(config, self.emit)
        except Cancelled:
            return Outcome(Status.CANCELLED, cancelled_event())
        except Exception as exc:
            log.warning("run %s failed:\n%s", self.run_id, traceback.format_exc())
            error = f"{type(exc).__name__}: {exc}"
            return Outcome(Status.FAILED, failed_event(error), error=error)
        done = parse_event(done_wire(self.done, summary))
        return Outcome(Status.SUCCEEDED, done, done.summary)

    def emit(self, event: Any) -> None:
        if self.cancel_seen_at is not None:
            raise Cancelled
        self.last_emit = time.monotonic()
        data = to_wire(event)  # the one emit path (app/runs/emit.py)
        if data["type"] == "done":
            self.done = data
            return
        with self.lock:
            self.buffer += self.log.add([data])
            due = len(self.buffer) >= BATCH_EVENTS or (
                time.monotonic() - self.flushed_at > BATCH_SECONDS)
        if due:
            self._flush(wait=False)

    def _flush(self, wait: bool = True) -> None:
        """Write what waits, in seq order: one writer at a time. While the store is
        away the writer retries and the trainer goes on (`wait=False`: it does
        not queue behind a writer), its events piling up in the buffer."""
        if not self.writing.acquire(blocking=wait):
            return
        try:
            with self.lock:
                batch, self.buffer = self.buffer, []
                progress = dict(self.log.progress)
            if batch:
                try:
                    self.store.append_events(self.run_id, batch, progress)
                except BaseException:
                    with self.lock:  # kept, in order, for the next try
                        self.buffer = batch + self.buffer
                    raise
            self.flushed_at = time.monotonic()
        finally:
            self.writing.release()

    def _beat(self) -> None:
        """Beat, watch the cancel flag, flush what a slow trainer left waiting."""
        while not self.stop.wait(min(BEAT, 0.2)):
            try:
                self.store.heartbeat([self.run_id])
                if self.cancel_seen_at is None and self.store.cancel_requests([self.run_id]):
                    self.cancel_seen_at = time.monotonic()
                if time.monotonic() - self.flushed_at > BATCH_SECONDS:
                    self._flush(wait=False)  # a trainer's last event needn't wait
            except Exception:
                log.warning("beat for run %s failed", self.run_id, exc_info=True)
            seen = self.cancel_seen_at
            if seen is not None and time.monotonic() - max(seen, self.last_emit) > HARD_STOP_AFTER:
                self._hard_stop()

    def _hard_stop(self) -> None:
        """The trainer ignores the cancel (stuck in one long step): record the
        cancel, then end this process; Ray restarts the actor."""
        self.store.finish(self.run_id, Status.CANCELLED, cancelled_event(),
                          progress=self.log.progress or None)  # fmt: skip
        os._exit(1)
