"""What the run service adds to the trainer's types (app/distill/events.py): a
run's status, the events it writes itself (failed, cancelled, interrupted), the
stored event with its `seq`, and the run record.

Torch-free (pydantic only). The wire format of every event is its `wire()`: the
fields that were set, `type` always.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

from app.distill.events import (
    BaseEvent,
    DoneEvent,
    LogEvent,
    MetricEvent,
    PhaseEvent,
    Summary,
    upgrade_summary,
)

log = logging.getLogger(__name__)


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
# The trainer's own events (phase, metric, log, done) are typed where they are made,
# in app/distill/events.py; the service adds the ones it writes itself.


class FailedEvent(BaseEvent):
    type: Literal["failed"] = "failed"
    status: Literal["failed", "interrupted"] = "failed"
    error: str | None = None


class CancelledEvent(BaseEvent):
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
    """The stored form of the run's event number `seq` (a dict is checked first)."""
    if isinstance(event, Mapping):
        event = parse_event(event)
    body = {"seq": seq, **event.wire()}
    if body.get("t") is None:
        body["t"] = time.time()
    return StoredEvent(seq, event.type, json.dumps(body, separators=(",", ":")))


def summary_json(summary: Summary | Mapping[str, Any] | None) -> Any:
    """A summary as the stores keep it: the typed one's JSON (a plain dict, from a
    test or an import, is kept as given and read as any stored shape is)."""
    return summary.wire() if isinstance(summary, Summary) else summary


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
    summary: Summary | None = None
    error: str | None = None
    progress: dict[str, Any] = Field(default_factory=dict)
    last_seq: int = 0
    #: Kept by retention: "reader" (pinned through the API or the run page's button),
    #: "methods" (the live row of /methods, moved to a newer run when there is one).
    pinned: str | None = None
    position: int | None = None

    @field_validator("summary", mode="before")
    @classmethod
    def _stored_summary(cls, value: Any) -> Summary | None:
        """A summary as stored, of whatever earlier shape, read as the current one."""
        return read_stored_summary(value)


def read_stored_summary(value: Any) -> Summary | None:
    """`upgrade_summary`, for what a store holds: a summary that does not read
    whole (written into the store by hand, or damaged) keeps the fields that do,
    so its page still shows what can be shown."""
    if not isinstance(value, dict):
        return upgrade_summary(value) if isinstance(value, Summary) else None
    for _ in range(len(value) + 1):
        try:
            return upgrade_summary(value)
        except ValidationError as exc:
            bad = {err["loc"][0] for err in exc.errors() if err["loc"]}
            log.warning("a stored summary's %s did not read; left out", ", ".join(map(str, bad)))
            value = {k: v for k, v in value.items() if k not in bad}
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended, as its service records it."""

    status: Status
    final: Event
    summary: Summary | None = None
    error: str | None = None
    reusable: bool = False  # the worker may take another run
