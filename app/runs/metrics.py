"""A run's metric events, flattened to one row per number: the long ("tidy")
form, because models and loss terms differ from method to method and a fixed set
of columns would not fit them all. Step rows carry losses, epoch rows accuracies
and test losses."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from app.runs.store import RunStore

COLUMNS = ("seq", "t", "kind", "phase", "epoch", "step", "model", "name", "value")


def metric_rows(store: RunStore, run_id: str, chunk: int = 2000) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        events = store.events_after(run_id, after, limit=chunk)
        for stored in events:
            if stored.type == "metric":
                yield from _flatten(stored.as_dict())
        if len(events) < chunk:
            return
        after = events[-1].seq


def _flatten(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = event.get("kind")
    base = {
        "seq": event.get("seq"),
        "t": event.get("t"),
        "kind": kind,
        "phase": event.get("phase"),
        "epoch": event.get("epoch"),
        "step": event.get("step") if kind == "step" else None,
    }
    groups = event.get("losses") if kind == "step" else event.get("models")
    if not isinstance(groups, dict):
        return
    for model, values in groups.items():
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            yield {**base, "model": model, "name": name, "value": value}


def to_csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """CSV text in pieces, header first, for a streaming response."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(rows, start=1):
        writer.writerow(row)
        if i % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
