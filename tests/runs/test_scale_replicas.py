"""Two real uvicorn replicas over one throwaway Postgres, local workers, fake
trainers: streams across replicas, the queue bound across replicas, a replica
killed with -9, a database restart mid-run. Every wait has a deadline."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support.servers import LiveServer
from support.waits import assert_well_ordered, read_sse, wait_run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def replicas(tmp_path, pg_url: str, target: str, n: int = 2, **env) -> list[LiveServer]:
    env = {"RUN_STORE_URL": pg_url, "RUN_TARGET": f"support.fakes:{target}",
           "RUN_WARM_WORKERS": "1", "RUN_QUEUE_PER_CLIENT": "1000", **env}  # fmt: skip
    started = []
    try:
        for i in range(n):
            folder = tmp_path / f"replica{i}"
            folder.mkdir()
            started.append(LiveServer(folder, **env))
    except BaseException:
        for server in started:
            server.stop()
        raise
    return started


def launch(http: httpx.Client) -> str:
    r = http.post("/api/runs", json={"method": "baseline", "params": {}})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_launch_on_a_stream_on_b_and_resume_there(tmp_path, pg_url):
    a, b = replicas(tmp_path, pg_url, "steady")
    try:
        with httpx.Client(base_url=a.url, timeout=10) as on_a, \
                httpx.Client(base_url=b.url, timeout=10) as on_b:
            run_id = launch(on_a)
            url = f"/api/runs/{run_id}/events"
            first = read_sse(on_b, url, stop_after=30)  # then the connection drops
            rest = read_sse(on_b, url, headers={"Last-Event-ID": str(first[-1]["id"])})
            events = first + rest
            assert_well_ordered(events)
            assert events[-1]["event"] == "done" and len(events) > 150
            assert on_b.get(f"/api/runs/{run_id}").json()["status"] == "succeeded"
            full = read_sse(on_b, url)  # a late viewer on B: the same, from the table
            assert [e["data"] for e in full] == [e["data"] for e in events]
    finally:
        a.stop()
        b.stop()


def test_100_launches_over_two_replicas_admit_exactly_the_bound(tmp_path, pg_url):
    # Runs that hold their slot until cancelled: nothing frees a place while we launch.
    servers = replicas(tmp_path, pg_url, "hold", RUN_CONCURRENCY="1", RUN_QUEUE_SIZE="5")
    bound = 1 + 5
    clients = [httpx.Client(base_url=s.url, timeout=20) for s in servers]
    try:
        def post(i: int) -> httpx.Response:
            return clients[i % 2].post("/api/runs", json={"method": "baseline", "params": {}})

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(post, range(100)))
        admitted = [r for r in answers if r.status_code == 202]
        refused = [r for r in answers if r.status_code == 429]
        assert len(admitted) == bound and len(refused) == 100 - bound
        assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
        assert all("queue is full" in r.json()["detail"] for r in refused)
        ids = [r.json()["id"] for r in admitted]
        stored = clients[0].get("/api/runs", params={"limit": 500}).json()["runs"]
        listed = {r["id"] for r in stored}
        assert listed == set(ids)  # none lost, none extra
        for i, run_id in enumerate(ids):  # cancelled from either replica: none hangs
            r = clients[i % 2].post(f"/api/runs/{run_id}/cancel")
            assert r.status_code in (200, 409), r.text
        for run_id in ids:
            assert wait_run(clients[0], run_id, "cancelled", timeout=10)["status"] == "cancelled"
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.stop()


def test_a_replica_killed_mid_run_has_its_run_failed_with_the_reason(tmp_path, pg_url):
    """Local workers die with their replica: another replica notices within 5 s
    (heartbeats stop) and fails the run, so every viewer's stream ends."""
    a, b = replicas(tmp_path, pg_url, "slow")
    try:
        with httpx.Client(base_url=a.url, timeout=10) as on_a, \
                httpx.Client(base_url=b.url, timeout=10) as on_b:
            run_id = launch(on_a)
            read_sse(on_b, f"/api/runs/{run_id}/events", stop_after=5)
            a.crash()
            killed = time.monotonic()
            run = wait_run(on_b, run_id, "failed", timeout=10)
            assert time.monotonic() - killed < 5.0
            assert "no heartbeat" in run["error"]
            events = read_sse(on_b, f"/api/runs/{run_id}/events")
            assert_well_ordered(events)
            assert events[-1]["event"] == "failed"
    finally:
        a.stop()
        b.stop()


def test_a_database_restart_mid_run_loses_and_duplicates_nothing(tmp_path, pg_url, postgres):
    a, b = replicas(tmp_path, pg_url, "steady")
    try:
        with httpx.Client(base_url=a.url, timeout=10) as on_a, \
                httpx.Client(base_url=b.url, timeout=30) as on_b:
            run_id = launch(on_a)
            url = f"/api/runs/{run_id}/events"
            first = read_sse(on_b, url, stop_after=20)
            postgres.restart(down_for=0.5)  # the run keeps emitting meanwhile
            run = wait_run(on_b, run_id, {"succeeded", "failed"}, timeout=30)
            assert run["status"] == "succeeded", run
            events = read_sse(on_b, url)
            assert_well_ordered(events)  # 1..N: nothing lost, nothing twice
            assert [e["data"] for e in events[:20]] == [e["data"] for e in first]
            steps = [e["data"]["step"] for e in events if e["data"].get("kind") == "step"]
            assert steps == list(range(1, 151))
    finally:
        a.stop()
        b.stop()
