"""Reading runs: records with their place in the queue, lists, metric rows, and
following a run's events (stored, then live) for a viewer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any

from app.runs.contract import RunRecord, Status, StoredEvent
from app.runs.metrics import metric_rows
from app.runs.store import RunStore
from app.runs.stream import Hub, follow


class RunQueries:
    """What viewers ask of the service. `queued_here` lists the runs this process
    holds in its queue, next first; None when runs wait in the store (a cluster)."""

    def __init__(self, store: RunStore, hub: Hub, methods: Mapping[str, Any],
                 queued_here: Callable[[], list[str]] | None = None):
        self.store, self.hub, self.methods, self.queued_here = store, hub, methods, queued_here

    def positions(self) -> dict[str, int]:
        """Place in the queue of every queued run, from 1 (next to start)."""
        ids = self.store.queued_ids() if self.queued_here is None else self.queued_here()
        return {run_id: i for i, run_id in enumerate(ids, start=1)}

    def get(self, run_id: str) -> RunRecord | None:
        record = self.store.get_run(run_id)
        if record is not None:
            record.position = self.positions().get(run_id)
        return record

    def list_runs(self, *, methods: Iterable[str] | None = None,
                  status: Status | str | None = None, limit: int = 50) -> list[RunRecord]:
        records = self.store.list_runs(methods=methods, status=status, limit=limit)
        positions = self.positions()
        for record in records:
            record.position = positions.get(record.id)
        return records

    def knows(self, method: str) -> bool:
        """Whether `method` is one the service runs."""
        return method in self.methods

    def metric_rows(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The run's metric events in long form (app/runs/metrics.py)."""
        return metric_rows(self.store, run_id)

    def follow(self, run_id: str, after: int = 0) -> AsyncIterator[list[StoredEvent]]:
        """The run's stored events after `after`, then live ones, until its end."""
        return follow(self.hub, self.store, run_id, after)
