"""/metrics in the Prometheus text format, for an operator (METRICS_ENABLED=true,
with the `metrics` extra; off by default, and then the route does not exist).

Read from the run store at scrape time, so every replica of a scaled-out site
reports the same runs (the shared store) beside its own viewers: runs by status,
queue depth, running runs, event-stream viewers on this replica, the duration of
stored finished runs, and the events the stored runs have written."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from app.runs import Status

#: Upper bounds (seconds) of the run-duration histogram: demos take seconds to minutes.
DURATION_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600)


class RunCollector:
    def __init__(self, app: FastAPI):
        self.app = app

    def describe(self) -> list[Any]:
        return []  # collected at scrape time only

    def collect(self):
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        runs = getattr(self.app.state, "runs", None)
        if runs is None or runs.store is None:
            return
        records = runs.store.list_runs(limit=None)
        by_status = Counter(r.status for r in records)
        family = GaugeMetricFamily("kd_runs", "Stored runs by status.", labels=["status"])
        for status in Status:
            family.add_metric([status.value], by_status.get(status, 0))
        yield family
        yield GaugeMetricFamily("kd_run_queue_depth", "Runs waiting to train.",
                                value=len(runs.positions()))  # fmt: skip
        yield GaugeMetricFamily("kd_runs_running", "Runs training now.",
                                value=by_status.get(Status.RUNNING, 0))  # fmt: skip
        viewers = sum(runs.hub.viewers(run_id) for run_id in runs.hub.watched())
        yield GaugeMetricFamily("kd_event_stream_viewers",
                                "Open event streams on this replica.", value=viewers)  # fmt: skip
        durations = [r.finished_at - r.started_at for r in records
                     if r.finished_at is not None and r.started_at is not None]  # fmt: skip
        buckets = [(str(b), sum(d <= b for d in durations)) for b in DURATION_BUCKETS]
        buckets.append(("+Inf", len(durations)))
        yield HistogramMetricFamily("kd_run_duration_seconds",
                                    "Wall time of stored finished runs.",
                                    buckets=buckets, sum_value=sum(durations))  # fmt: skip
        yield CounterMetricFamily("kd_run_events_written", "Events written by the stored runs.",
                                  value=sum(r.last_seq for r in records))  # fmt: skip


def install(app: FastAPI) -> None:
    try:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    except ImportError:
        raise RuntimeError(
            "METRICS_ENABLED needs prometheus-client: pip install 'kd-notes[metrics]'"
        ) from None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunCollector(app))
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
