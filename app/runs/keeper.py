"""With a shared store, what a replica does for runs besides running them:

- heartbeats: every BEAT seconds it writes that its runs (queued or running
  here) live;
- cancel requests: a cancel that reached another replica is a flag in the store;
  the runs flagged among ours are cancelled here, within a beat;
- lost runs: a run whose heartbeat is older than LOST_AFTER seconds has lost its
  runner (a replica killed with -9, a dead worker or node); any replica fails it,
  with that reason, so that its viewers' streams end.

A replica that could not reach the store waits LOST_AFTER after it can again
before judging others: they lost the store too, and need a beat to catch up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from app.runs.contract import Status, failed_event
from app.runs.store import RunStore

log = logging.getLogger(__name__)

BEAT = 0.5
LOST_AFTER = 3.0


class Keeper:
    def __init__(
        self,
        store: RunStore,
        ours: Callable[[], Iterable[str]],
        cancel: Callable[[str], object],
        *,
        beat: float = BEAT,
        lost_after: float = LOST_AFTER,
    ):
        self.store, self.ours, self.cancel = store, ours, cancel
        self.beat, self.lost_after = beat, lost_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="run-keeper", daemon=True)
        self._healthy_since = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.beat):
            try:
                self.tick()
            except Exception:  # the store is away: try again next beat
                log.warning("keeper: the store is unavailable", exc_info=True)
                self._healthy_since = time.monotonic()

    def tick(self) -> None:
        ours = list(self.ours())
        self.store.heartbeat(ours)
        for run_id in self.store.cancel_requests(ours):
            # cancel() waits for the run to stop: not on this thread's beat.
            threading.Thread(target=self.cancel, args=(run_id,), daemon=True).start()
        if time.monotonic() - self._healthy_since > self.lost_after:
            self.fail_lost(set(ours))

    def fail_lost(self, ours: set[str]) -> list[str]:
        """Fail the runs whose runner went silent; their ids."""
        failed = []
        for run in self.store.silent_runs(time.time() - self.lost_after):
            if run.id in ours:
                continue  # ours, and we are alive: a late beat, not a loss
            reason = (f"lost: no heartbeat for {self.lost_after:g} s from the process"
                      f" that {'ran' if run.status == Status.RUNNING else 'queued'} it"
                      " (its server, worker or node stopped)")  # fmt: skip
            if self.store.finish(run.id, Status.FAILED, failed_event(reason), error=reason):
                log.warning("run %s: %s", run.id, reason)
                failed.append(run.id)
        return failed
