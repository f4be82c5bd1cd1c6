"""Run lifecycle: validate, admit, hand runs to an executor (spawned local
workers by default), store their events (SQLite by default), fan them out to
viewers, cancel, recover after restart. Never imports torch: only the worker
processes do."""

from app.runs.contract import (
    FINISHED,
    STATUS_LABELS,
    TERMINAL_EVENTS,
    Event,
    RunRecord,
    Status,
    StoredEvent,
)
from app.runs.errors import (
    Busy,
    ClientLimit,
    InvalidParams,
    QueueFull,
    RunError,
    RunFinished,
    RunNotFound,
    ShuttingDown,
    UnknownMethod,
)
from app.runs.factory import open_store
from app.runs.manager import RunLimits, RunManager
from app.runs.store import RunStore
from app.runs.stream import Hub, follow

__all__ = [
    "FINISHED",
    "STATUS_LABELS",
    "TERMINAL_EVENTS",
    "Busy",
    "ClientLimit",
    "Event",
    "Hub",
    "InvalidParams",
    "QueueFull",
    "RunError",
    "RunFinished",
    "RunLimits",
    "RunManager",
    "RunNotFound",
    "RunRecord",
    "RunStore",
    "ShuttingDown",
    "Status",
    "StoredEvent",
    "UnknownMethod",
    "follow",
    "open_store",
]
