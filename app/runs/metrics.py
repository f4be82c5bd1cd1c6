"""A run's metric events, flattened to one row per number: the long ("tidy")
form, because models and loss terms differ from method to method and a fixed set
of columns would not fit them all. Step rows carry losses, epoch rows validation
accuracies and losses.

A run trains several seeds together, so each number of a metric event is a list
with one value per seed; it becomes one row per seed, whose `seed` is taken from
the `seeds` of the phase event before it (the index, if that has none). Runs
stored before seeds existed have plain numbers: one row each, with no seed. A
sweep's events carry the index of their grid point (`point`, empty for a run)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from app.runs.charts import metric_groups
from app.runs.store import RunStore

COLUMNS = ("seq", "t", "kind", "phase", "epoch", "step", "seed", "model", "name", "value",
           "point")


def metric_rows(store: RunStore, run_id: str, chunk: int = 2000) -> Iterator[dict[str, Any]]:
    after = 0
    seeds: list[Any] = []
    while True:
        events = store.events_after(run_id, after, limit=chunk)
        for stored in events:
            if stored.type == "phase":
                found = stored.as_dict().get("seeds")
                seeds = found if isinstance(found, list) else []
            elif stored.type == "metric":
                yield from _flatten(stored.as_dict(), seeds)
        if len(events) < chunk:
            return
        after = events[-1].seq


def _flatten(event: dict[str, Any], seeds: list[Any]) -> Iterator[dict[str, Any]]:
    kind = event.get("kind")
    base = {
        "seq": event.get("seq"),
        "t": event.get("t"),
        "kind": kind,
        "phase": event.get("phase"),
        "epoch": event.get("epoch"),
        "step": event.get("step") if kind == "step" else None,
        "point": event.get("point"),
    }
    for field in metric_groups(kind):  # every group a chart of the run page reads
        groups = event.get(field)
        if not isinstance(groups, dict):
            continue
        for model, values in groups.items():
            if not isinstance(values, dict):
                continue
            for name, value in values.items():
                for seed, one in _per_seed(value, seeds):
                    yield {**base, "seed": seed, "model": model, "name": name, "value": one}


def _per_seed(value: Any, seeds: list[Any]) -> Iterator[tuple[Any, Any]]:
    """(seed, value) pairs of one metric: a list gives one per seed, anything else
    (a plain number of an older run, a null) one with no seed."""
    if not isinstance(value, list):
        yield None, value
        return
    for i, one in enumerate(value):
        yield (seeds[i] if i < len(seeds) else i), one


def to_csv(rows: Iterator[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> Iterator[str]:
    """CSV text in pieces, header first, for a streaming response."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(rows, start=1):
        writer.writerow(row)
        if i % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
