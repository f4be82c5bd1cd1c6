"""The one emit path of every executor: what happens to a trainer's event between
its `emit(event)` and the store.

In the training process (a local worker, a Ray actor), `to_wire` checks the event
once against the trainer's types (app/distill/events.py; a model built by the
trainer is checked when built), turns NaN and infinities into null and stamps
`t`. Where the events are stored, `EventLog` numbers them (`seq`), encodes each
once and keeps the run's progress. Nothing is validated a second time.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from app.distill.events import DoneEvent, Summary, as_event
from app.runs.contract import StoredEvent
from app.runs.progress import RunProgress

Wire = dict[str, Any]  # an event in its JSON form, checked


def json_safe(value: Any) -> Any:
    """NaN and infinities (a diverging loss) become null: JSON has no such
    numbers and browsers' JSON.parse rejects them. Tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    # numpy / torch scalars and the like
    if hasattr(value, "item"):
        return json_safe(value.item())
    raise TypeError(f"event value of type {type(value).__name__} is not JSON-serialisable")


def to_wire(event: Any) -> Wire:
    """A trainer's event (its model, or a dict in its JSON form), checked, made
    JSON-safe and stamped with the time of its emit (the latency benchmark measures
    from it). A malformed one raises pydantic.ValidationError naming the field."""
    if isinstance(event, dict):
        event = json_safe(event)
    data = json_safe(as_event(event).wire())
    data["t"] = time.time()
    return data


def done_wire(emitted: Wire | None, returned: Any) -> Wire:
    """The run's `done` event: the one the trainer emitted, else one made from the
    summary it returned (a trainer that emits no `done` of its own)."""
    if emitted is not None:
        return emitted
    summary = returned.wire() if isinstance(returned, Summary) else json_safe(returned)
    return to_wire(DoneEvent(summary=summary))


def encode(seq: int, data: Wire) -> StoredEvent:
    """The stored form of an already checked event: its JSON, `seq` first."""
    body = {"seq": seq, **data}
    if body.get("t") is None:
        body["t"] = time.time()
    return StoredEvent(seq, data["type"], json.dumps(body, separators=(",", ":")))


def track_progress(progress: dict[str, Any], data: Wire) -> None:
    """Where the run is, from its events: the phase, epoch x/y, step x/y."""
    if data["type"] == "phase":
        progress["phase"] = data["phase"]
        progress["phase_state"] = data["state"]
        if data["state"] == "start":
            progress.update(epoch=0, step=0, epochs=data.get("epochs"),
                            steps=data.get("steps"))
    elif data["type"] == "metric":
        progress["phase"] = data.get("phase") or progress.get("phase")
        for key in ("epoch", "epochs", "step", "steps"):
            if key in data:
                progress[key] = data[key]


@dataclass
class EventLog:
    """A run's numbering and progress, where its events are stored. Each phase and
    metric event, and the final one, is stored with the whole run's progress
    (``whole``: app/runs/progress.py), so a replay shows what the live page showed."""

    last_seq: int = 0
    progress: dict[str, Any] = field(default_factory=dict)
    whole: RunProgress = field(default_factory=RunProgress)

    def add(self, events: list[Wire]) -> list[StoredEvent]:
        stored = []
        for data in events:
            self.last_seq += 1
            data = self._with_whole(data)
            stored.append(encode(self.last_seq, data))
            track_progress(self.progress, data)
        return stored

    def finish(self, final: Any) -> Wire:
        """The run's final event (done, failed, cancelled; its model or JSON form) as
        JSON, stamped now if it was not, with the whole run's real time."""
        data = dict(final) if isinstance(final, dict) else final.wire()
        if data.get("t") is None:
            data["t"] = time.time()
        return self._with_whole(data)

    def _with_whole(self, data: Wire) -> Wire:
        whole = self.whole.see(data)
        if whole is None:
            return data
        self.progress["whole"] = whole
        return {**data, "whole": whole}
