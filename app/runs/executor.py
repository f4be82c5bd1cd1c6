"""The `Executor` seam: where runs train.

`LocalExecutor` (the embedded default) spawns worker processes next to the web
process. The run service (`RunManager`) keeps the queue and the limits, and
hands an executor one run at a time; the executor reports back through a
`RunSink`: the run started, here are its events, here is how it ended.
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.runs.contract import Outcome
from app.runs.emit import EventLog, Wire


@dataclass(eq=False)
class ActiveRun:
    """A queued or running run, as the service and its executor track it."""

    id: str
    method: str
    params: dict[str, Any]
    client: str
    stop_reason: str | None = None  # "cancel" or "shutdown", set before the run is stopped
    log: EventLog = field(default_factory=EventLog)  # its events' numbering and progress
    finished: threading.Event = field(default_factory=threading.Event)
    handle: Any = None  # the executor's own: a worker process, a remote job


class RunSink(Protocol):
    """What an executor calls, from any thread, as a run goes."""

    def started(self, run: ActiveRun) -> None: ...

    def events(self, run: ActiveRun, events: list[Wire]) -> None:
        """Store and publish these events (checked in the worker, in order)."""
        ...

    def finished(self, run: ActiveRun, outcome: Outcome) -> bool:
        """Record the outcome and free the slot; True if runs wait for one."""
        ...

    def dispatch(self) -> None:
        """Start what waits, now that a slot (and perhaps a warm worker) is free."""
        ...


class Executor(abc.ABC):
    #: A restart of the web process ends the runs it was running (so the store's
    #: unfinished runs are marked interrupted at start). False where runs outlive
    #: the replica that launched them.
    runs_die_with_process: bool = True
    #: Runs wait in the (shared) store, and cluster workers claim them from there:
    #: the service keeps no queue of its own and launches nothing.
    pulls_from_store: bool = False

    @abc.abstractmethod
    def start(self, sink: RunSink) -> None: ...

    @abc.abstractmethod
    def launch(self, run: ActiveRun, job: dict[str, Any]) -> None:
        """Begin training `run` (`job`: the trainer's RunConfig as plain values);
        returns at once. Ends with exactly one `sink.finished(run, outcome)`."""

    @abc.abstractmethod
    def kill(self, run: ActiveRun) -> None:
        """Stop the run now; its `finished` comes from the executor as usual."""

    def keep_warm(self, busy: int) -> None:  # noqa: B027 (optional)
        """Hold idle capacity ready, `busy` runs running (called with the service's lock)."""

    def wait_warm(self, timeout: float = 30.0) -> bool:
        return True

    def worker_pid(self, run: ActiveRun) -> int | None:
        return None

    @abc.abstractmethod
    def stop(self) -> None:
        """Retire idle workers (the service has already stopped the running runs)."""
