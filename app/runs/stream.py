"""Following a run's events: replay from the store, then live.

Each viewer owns a bounded asyncio.Queue. The reader thread of a run stores a
batch of events, then hands it to the event loop (call_soon_threadsafe), which
offers it to every viewer's queue without ever waiting. A viewer too slow to
keep up overflows: it is marked, its queue dropped, and it catches up from the
store, which already holds every event it missed (events are stored before they
are offered). Sequence numbers make the seam exact: nothing is skipped, nothing
sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from app.runs.errors import RunNotFound
from app.runs.store import FINISHED, StoredEvent

if TYPE_CHECKING:
    from app.runs.manager import RunManager


class Subscriber:
    """One viewer's mailbox. Used only on the event loop's thread."""

    def __init__(self, maxsize: int):
        self.queue: asyncio.Queue[StoredEvent] = asyncio.Queue(maxsize)
        self.overflowed = False
        self._wake = asyncio.Event()

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

    async def next(self, timeout: float | None) -> StoredEvent | None:
        """The next queued event; None on overflow or after `timeout` seconds."""
        while not self.overflowed:
            try:
                return self.queue.get_nowait()
            except asyncio.QueueEmpty:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    return None
        return None


async def follow(
    manager: RunManager, run_id: str, after: int = 0, *, idle_check: float = 5.0
) -> AsyncIterator[StoredEvent]:
    """Every event of the run with seq > `after`, in order, ending after the
    terminal one. `idle_check`: how often a quiet stream re-reads the store, a
    safety net should a run ever end without its final event reaching us."""
    subscriber = manager.subscribe(run_id)  # before reading the store: no event falls between
    try:
        last = after
        while True:
            if subscriber.overflowed:
                # Before reading: whatever the queue dropped is in the store by now.
                subscriber.reset()
            status, stored = await asyncio.to_thread(manager.store.status_and_events, run_id, last)
            if status is None:
                raise RunNotFound(f"no run {run_id}")
            for event in stored:
                yield event
                last = event.seq
                if event.terminal:
                    return
            if status in FINISHED:
                return
            # Queued events that we just sent from the store are skipped by seq.
            async for event in _live(subscriber, last, idle_check):
                yield event
                last = event.seq
                if event.terminal:
                    return
    finally:
        manager.unsubscribe(run_id, subscriber)


async def _live(subscriber: Subscriber, last: int, idle_check: float) -> AsyncIterator[StoredEvent]:
    """Events from the queue while they follow on from `last`; returns (so that
    the caller replays from the store) on overflow, on a gap, or when idle."""
    while True:
        event = await subscriber.next(idle_check)
        if event is None:
            return
        if event.seq <= last:
            continue  # already sent from the store
        if event.seq != last + 1:
            return  # a gap can only mean a missed offer: the store has it
        yield event
        last = event.seq
