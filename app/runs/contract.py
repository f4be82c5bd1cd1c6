"""The typed run contract: a run's status, its events, its record.

One source for what the store, the run service, the worker, the web, the CLI and
the tests say about a run. Torch-free (pydantic only). The wire format, the JSON
the browser and docs/contracts.md know, is what `Event.wire()` gives: the fields
the emitter set, nothing added, so typing the events changed no byte on the wire.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self in FINISHED

    @property
    def label_zh(self) -> str:
        return STATUS_LABELS[self]


#: Statuses after which nothing about a run changes any more.
FINISHED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.INTERRUPTED})
ACTIVE = frozenset({Status.QUEUED, Status.RUNNING})
#: What the pages show; run.js gets this table in its page's boot JSON.
STATUS_LABELS: dict[Status, str] = {
    Status.QUEUED: "排队中",
    Status.RUNNING: "运行中",
    Status.SUCCEEDED: "已完成",
    Status.FAILED: "失败",
    Status.CANCELLED: "已取消",
    Status.INTERRUPTED: "已中断",
}

INTERRUPTED_ERROR = "interrupted: the server stopped before the run finished"


# -- events ----------------------------------------------------------------------


class _Event(BaseModel):
    # extra="allow": a trainer may add a field (a new loss term's detail) without a
    # contract change; the ones named here are checked.
    model_config = ConfigDict(extra="allow", frozen=True)

    t: float | None = Field(None, description="Unix seconds, stamped by the worker at emit.")

    def wire(self) -> dict[str, Any]:
        """The event as JSON sends it: what was set, `type` always."""
        return {"type": self.type, **self.model_dump(mode="json", exclude_unset=True)}


# int | float, in that order: a whole number stays one on the wire.
Number = int | float
PerSeed = list[Number | None]  # one value per seed; null where a loss was NaN


class PhaseEvent(_Event):
    type: Literal["phase"] = "phase"
    phase: str
    state: Literal["start", "end"]
    epochs: int | None = None
    steps: int | None = None
    seeds: list[int] | None = None


class MetricEvent(_Event):
    type: Literal["metric"] = "metric"
    kind: Literal["step", "epoch"]
    phase: str | None = None
    epoch: int | None = None
    epochs: int | None = None
    step: int | None = None
    steps: int | None = None
    # Per-seed lists today; plain numbers in runs stored before seeds existed.
    losses: dict[str, dict[str, PerSeed | Number | None]] | None = None
    models: dict[str, dict[str, PerSeed | Number | None]] | None = None


class LogEvent(_Event):
    type: Literal["log"] = "log"
    level: str = "info"
    message: str


class DoneEvent(_Event):
    type: Literal["done"] = "done"
    summary: Any = None


class FailedEvent(_Event):
    type: Literal["failed"] = "failed"
    status: Literal["failed", "interrupted"] = "failed"
    error: str | None = None


class CancelledEvent(_Event):
    type: Literal["cancelled"] = "cancelled"
    status: Literal["cancelled"] = "cancelled"


Event = Annotated[
    PhaseEvent | MetricEvent | LogEvent | DoneEvent | FailedEvent | CancelledEvent,
    Field(discriminator="type"),
]
EVENT_TYPES = ("phase", "metric", "log", "done", "failed", "cancelled")
#: Event types that end a run's stream. `done` comes from the trainer, the others
#: from the run service.
TERMINAL_EVENTS = frozenset({"done", "failed", "cancelled"})
_EVENT = TypeAdapter(Event)


def parse_event(data: Mapping[str, Any]) -> Event:
    """A typed event from its JSON form; pydantic.ValidationError if it is not one."""
    return _EVENT.validate_python(data)


def interrupted_event() -> FailedEvent:
    return FailedEvent(status="interrupted", error=INTERRUPTED_ERROR)


def cancelled_event() -> CancelledEvent:
    return CancelledEvent(status="cancelled")


def failed_event(error: str) -> FailedEvent:
    return FailedEvent(status="failed", error=error)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as it travels to viewers: the JSON is encoded once, when stored,
    and every SSE client sends that same string."""

    seq: int
    type: str
    data: str  # the event as JSON, `seq` and `t` included

    def as_dict(self) -> dict[str, Any]:
        return json.loads(self.data)

    def event(self) -> Event:
        return parse_event(self.as_dict())

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS


def encode_event(seq: int, event: Event | Mapping[str, Any]) -> StoredEvent:
    """The stored form of the run's event number `seq`."""
    if isinstance(event, Mapping):
        event = parse_event(event)
    body = {"seq": seq, **event.wire()}
    if body.get("t") is None:
        body["t"] = time.time()
    return StoredEvent(seq, event.type, json.dumps(body, separators=(",", ":")))


# -- records ---------------------------------------------------------------------


class RunRecord(BaseModel):
    """A run as stored, plus its place in the queue (known only to the service)."""

    id: str
    method: str
    params: dict[str, Any]
    status: Status
    client: str = ""
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    summary: Any = None
    error: str | None = None
    progress: dict[str, Any] = Field(default_factory=dict)
    last_seq: int = 0
    #: Kept by retention: "reader" (pinned through the API or the run page's button),
    #: "methods" (the live row of /methods, moved to a newer run when there is one).
    pinned: str | None = None
    position: int | None = None

    # Read access by key, as for the dicts these records replaced: templates and
    # callers written against `record["status"]` keep working.
    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in type(self).model_fields else default

    def keys(self) -> list[str]:  # with __getitem__: `{**record}` as for a dict
        return list(type(self).model_fields)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended, as its service records it."""

    status: Status
    final: Event
    summary: Any = None
    error: str | None = None
    reusable: bool = False  # the worker may take another run


def track_progress(progress: dict[str, Any], event: Event) -> None:
    """Where the run is, from its events: the phase, epoch x/y, step x/y."""
    if isinstance(event, PhaseEvent):
        progress["phase"] = event.phase
        progress["phase_state"] = event.state
        if event.state == "start":
            progress.update(epoch=0, step=0, epochs=event.epochs, steps=event.steps)
    elif isinstance(event, MetricEvent):
        progress["phase"] = event.phase or progress.get("phase")
        for key in ("epoch", "epochs", "step", "steps"):
            if key in event.model_fields_set:
                progress[key] = getattr(event, key)
