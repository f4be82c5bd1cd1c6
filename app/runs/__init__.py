"""Run lifecycle: validate, queue, spawn a worker process, collect events, persist
to SQLite, fan out to viewers, cancel, recover after restart. Never imports
torch: only the worker processes it spawns do."""

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
from app.runs.manager import DEFAULT_TARGET, RunManager
from app.runs.store import FINISHED, TERMINAL_EVENTS, RunStore, StoredEvent
from app.runs.stream import follow

__all__ = [
    "DEFAULT_TARGET",
    "FINISHED",
    "TERMINAL_EVENTS",
    "Busy",
    "ClientLimit",
    "InvalidParams",
    "QueueFull",
    "RunError",
    "RunFinished",
    "RunManager",
    "RunNotFound",
    "RunStore",
    "ShuttingDown",
    "StoredEvent",
    "UnknownMethod",
    "follow",
]
