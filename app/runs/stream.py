"""Following a run's events: replay from the store, then live.

Each viewer owns a bounded asyncio.Queue. The reader thread of a run stores a
batch of events, then hands it to the event loop (call_soon_threadsafe), which
offers it to every viewer's queue without ever waiting. A viewer too slow to
keep up overflows: it is marked, its queue dropped, and it catches up from the
store, which already holds every event it missed (events are stored before they
are offered). Sequence numbers make the seam exact: nothing is skipped, nothing
sent twice.

A viewer takes whatever has piled up in its queue at once, so a server under
load sends fewer, larger writes instead of falling further behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from app.runs.contract import FINISHED, StoredEvent
from app.runs.errors import RunNotFound

if TYPE_CHECKING:
    from app.runs.store import RunStore

#: Events per chunk when replaying from the store.
REPLAY_CHUNK = 500


class Subscriber:
    """One viewer's mailbox. Used only on the event loop's thread."""

    def __init__(self, maxsize: int):
        self.queue: asyncio.Queue[StoredEvent] = asyncio.Queue(maxsize)
        self.overflowed = False
        self._wake = asyncio.Event()
        #: The last seq this viewer has (None while it replays from the store): a
        #: replica's feed of a shared store starts from here for a run it has not fed.
        self.position: int | None = None

    def offer(self, events: list[StoredEvent]) -> None:
        if self.overflowed:
            return  # it will read these from the store
        for event in events:
            try:
                self.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.overflowed = True
                break
        self._wake.set()

    def reset(self) -> None:
        """Forget the queue; the caller replays from the store next."""
        self.queue = asyncio.Queue(self.queue.maxsize)
        self.overflowed = False

    async def take(self, timeout: float | None) -> list[StoredEvent]:
        """Everything queued, waiting for at least one event; [] on overflow or
        after `timeout` seconds without any."""
        if self.queue.empty() and not self.overflowed:
            self._wake.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                return []
        if self.overflowed:
            return []
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events


class Hub:
    """Who watches which run, and the hand-over of stored events to them. Whoever
    stores events (a run's reader thread, or a replica's listener on a shared
    store) calls `publish` from any thread; subscriptions are touched only on the
    event loop's thread."""

    def __init__(self, subscriber_queue: int = 1024):
        self.subscriber_queue = subscriber_queue
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._published: dict[str, int] = {}  # run -> the last seq handed over
        self._lock = threading.Lock()  # guards _published (written from any thread)

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The loop that serves the viewers; None: no viewers (scripts, tests)."""
        self._loop = loop

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

    def watched(self) -> list[str]:
        """Runs that someone watches now (a snapshot; any thread)."""
        return list(self._subscribers)

    def positions(self, run_id: str) -> list[int]:
        """Where the viewers of a run that already stream live are (any thread)."""
        found = [s.position for s in list(self._subscribers.get(run_id, ()))]
        return [p for p in found if p is not None]

    def published(self, run_id: str) -> int | None:
        """The last seq of the run handed to the viewers here; None: none yet."""
        with self._lock:
            return self._published.get(run_id)

    def forget(self, keep: set[str]) -> None:
        """Drop the publishing marks of runs not in `keep` (nobody watches them)."""
        with self._lock:
            for run_id in set(self._published) - keep:
                del self._published[run_id]

    def publish(self, run_id: str, events: list[StoredEvent]) -> None:
        """From any thread: hand stored events to the loop for the viewers."""
        loop = self._loop
        if loop is None or not events:
            return
        with self._lock:
            if events[-1].seq > self._published.get(run_id, 0):
                self._published[run_id] = events[-1].seq
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is watching
            loop.call_soon_threadsafe(self._deliver, run_id, events)

    def _deliver(self, run_id: str, events: list[StoredEvent]) -> None:
        for subscriber in list(self._subscribers.get(run_id, ())):
            subscriber.offer(events)


async def follow(
    hub: Hub, store: RunStore, run_id: str, after: int = 0, *, idle_check: float = 5.0
) -> AsyncIterator[list[StoredEvent]]:
    """Every event of the run with seq > `after`, in order, in non-empty chunks of
    consecutive events; ends after the terminal one. `idle_check`: how often a
    quiet stream re-reads the store, a safety net should a run ever end without
    its final event reaching us."""
    subscriber = hub.subscribe(run_id)  # before reading the store: no event falls between
    try:
        last = after
        while True:
            if subscriber.overflowed:
                # Before reading: whatever the queue dropped is in the store by now.
                subscriber.reset()
            status, stored = await asyncio.to_thread(store.status_and_events, run_id, last)
            if status is None:
                raise RunNotFound(f"no run {run_id}")
            for start in range(0, len(stored), REPLAY_CHUNK):
                chunk = _until_terminal(stored[start : start + REPLAY_CHUNK])
                yield chunk
                last = subscriber.position = chunk[-1].seq
                if chunk[-1].terminal:
                    return
            if status in FINISHED:
                return
            subscriber.position = last  # live from here
            # Queued events that we just sent from the store are skipped by seq.
            async for chunk in _live(subscriber, last, idle_check):
                yield chunk
                last = subscriber.position = chunk[-1].seq
                if chunk[-1].terminal:
                    return
    finally:
        hub.unsubscribe(run_id, subscriber)


async def _live(
    subscriber: Subscriber, last: int, idle_check: float
) -> AsyncIterator[list[StoredEvent]]:
    """Chunks from the queue while they follow on from `last`; returns (so that
    the caller replays from the store) on overflow, on a gap, or when idle."""
    while True:
        events = await subscriber.take(idle_check)
        if not events:
            return
        fresh: list[StoredEvent] = []
        gap = False
        for event in events:
            if event.seq <= last:
                continue  # already sent from the store
            if event.seq != last + 1:
                gap = True  # can only mean a missed offer: the store has it
                break
            fresh.append(event)
            last = event.seq
            if event.terminal:
                break
        if fresh:
            yield fresh
        if gap:
            return


def _until_terminal(events: list[StoredEvent]) -> list[StoredEvent]:
    for i, event in enumerate(events):
        if event.terminal:
            return events[: i + 1]
    return events
