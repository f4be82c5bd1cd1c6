"""A replica's feed from a shared store: events that another process stored (a
run launched on another replica, a worker on a Ray node) reach the viewers here.

The store tells us, through `listen`, only *that* run R has reached seq N (the
notification carries `{run_id, seq}`, never the event); the feed then reads the
events it has not yet handed over from the table, by seq, once for all viewers
of R on this replica, and publishes them to the hub. A poll every `poll` seconds
does the same for every watched run, so a lost notification (a restart of the
database, a dropped connection) delays an event but never loses it.
"""

from __future__ import annotations

import logging
import threading
import time

from app.runs.store import RunStore
from app.runs.stream import Hub

log = logging.getLogger(__name__)

#: The fallback poll: the longest a lost notification can delay an event.
POLL_SECONDS = 1.0


class StoreFeed:
    def __init__(self, hub: Hub, store: RunStore, *, poll: float = POLL_SECONDS):
        self.hub, self.store, self.poll = hub, store, poll
        self._stop = threading.Event()
        self._due: set[str] = set()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._spawn(self.store.listen, (self.notified, self._stop), "run-feed-listen")
        self._spawn(self._pump, (), "run-feed")

    def _spawn(self, target, args, name) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def notified(self, run_id: str | None, seq: int | None) -> None:
        """From the listener: run `run_id` has events up to `seq` (None: a
        reconnect, after which anything may have been missed)."""
        if run_id is not None and seq is not None:
            published = self.hub.published(run_id)
            if published is not None and seq <= published:
                return  # already handed over (we stored it ourselves, say)
        with self._wake:
            if run_id is None:
                self._due.update(self.hub.watched())
            elif self.hub.viewers(run_id):
                self._due.add(run_id)
            self._wake.notify()

    def _pump(self) -> None:
        next_poll = time.monotonic() + self.poll
        while not self._stop.is_set():
            with self._wake:
                if not self._due:
                    self._wake.wait(max(0.0, next_poll - time.monotonic()))
                due, self._due = self._due, set()
            if time.monotonic() >= next_poll:
                watched = set(self.hub.watched())
                self.hub.forget(watched)
                due |= watched
                next_poll = time.monotonic() + self.poll
            for run_id in due:
                try:
                    self._catch_up(run_id)
                except Exception:  # the database is away: the next poll retries
                    log.warning("feed: could not read run %s", run_id, exc_info=True)

    def _catch_up(self, run_id: str) -> None:
        after = self.hub.published(run_id)
        if after is None:
            # First time here for this run: from the viewer that is furthest behind;
            # viewers still replaying from the store will read what they need there.
            positions = self.hub.positions(run_id)
            if not positions:
                return
            after = min(positions)
        events = self.store.events_after(run_id, after)
        if events:
            self.hub.publish(run_id, events)
