"""/metrics: off by default; when enabled, the Prometheus text format with runs by
status, queue depth, running runs, viewers, run duration and events written."""

from __future__ import annotations

import time

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


@pytest.fixture(scope="module")
def metered(seed_notes, tmp_path_factory):
    settings = make_settings(seed_notes, tmp_path_factory.mktemp("data"), metrics_enabled=True,
                             run_target="support.fakes:quick")  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client


def samples(client) -> dict[tuple[str, tuple], float]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def test_metrics_count_runs_and_their_events(metered):
    before = samples(metered)
    assert before[("kd_runs", (("status", "succeeded"),))] == 0
    r = metered.post("/api/runs", json={"method": "baseline", "params": {"epochs": 1}})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    deadline = time.monotonic() + 30
    while metered.get(f"/api/runs/{run_id}").json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    after = samples(metered)
    assert after[("kd_runs", (("status", "succeeded"),))] == 1
    assert after[("kd_runs_running", ())] == 0 and after[("kd_run_queue_depth", ())] == 0
    assert after[("kd_event_stream_viewers", ())] == 0
    assert after[("kd_run_duration_seconds_count", ())] == 1
    assert after[("kd_run_duration_seconds_sum", ())] > 0
    events = metered.get(f"/api/runs/{run_id}").json()["last_seq"]
    assert after[("kd_run_events_written_total", ())] == events > 10
