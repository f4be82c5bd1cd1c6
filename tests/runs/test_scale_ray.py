"""Runs on a real local Ray cluster, two real uvicorn replicas, one throwaway
Postgres: runs outlive the replica that launched them, any replica cancels any
run, a killed Ray worker fails its run with the reason. Every wait is bounded."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import httpx
import pytest
from support.servers import LiveServer
from support.waits import assert_well_ordered, read_sse, wait_run, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster_db(postgres):
    """One database for the module: the detached trainer actors keep the store
    they were made with, so every replica of these tests uses this one."""
    return postgres.new_database()


@pytest.fixture(scope="module")
def pool_env(ray_cluster, cluster_db):
    """Two trainer actors (the session's cluster ends them), a 3 s fake trainer."""
    return {**ray_cluster.env, "RUN_EXECUTOR": "ray", "RAY_ADDRESS": ray_cluster.address,
            "RUN_STORE_URL": cluster_db, "RUN_TARGET": "support.fakes:steady",
            "RUN_CONCURRENCY": "2", "RUN_QUEUE_PER_CLIENT": "100", "RAY_NUM_CPUS": "0.5",
            "RAY_NAMESPACE": "test-steady"}


@pytest.fixture
def two(pool_env, tmp_path):
    servers = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(LiveServer(tmp_path / name, **pool_env))
        yield servers
    finally:
        for server in servers:
            server.stop()


def launch(http: httpx.Client, params: dict | None = None) -> str:
    r = http.post("/api/runs", json={"method": "baseline", "params": params or {}})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def runner_pid(db_url: str, run_id: str) -> int:
    import psycopg

    with psycopg.connect(db_url) as conn:
        runner = conn.execute("SELECT runner FROM runs WHERE id = %s", (run_id,)).fetchone()[0]
    return int(runner.rsplit(":", 1)[1])


def test_a_run_outlives_the_replica_that_launched_it(two, pool_env, tmp_path):
    a, b = two
    with httpx.Client(base_url=a.url, timeout=10) as on_a, \
            httpx.Client(base_url=b.url, timeout=10) as on_b:
        run_id = launch(on_a)
        first = read_sse(on_b, f"/api/runs/{run_id}/events", stop_after=10)
        a.crash()  # kill -9, mid-run
        # A replica starting meanwhile marks nothing interrupted: the run is the cluster's.
        (tmp_path / "a2").mkdir()
        again = LiveServer(tmp_path / "a2", **pool_env)
        try:
            rest = read_sse(on_b, f"/api/runs/{run_id}/events",
                            headers={"Last-Event-ID": str(first[-1]["id"])})  # fmt: skip
            events = first + rest
            assert_well_ordered(events)
            assert events[-1]["event"] == "done"
            steps = [e["data"]["step"] for e in events if e["data"].get("kind") == "step"]
            assert steps == list(range(1, 151))
            assert httpx.get(f"{again.url}/api/runs/{run_id}").json()["status"] == "succeeded"
        finally:
            again.stop()


def test_cancel_from_b_a_run_launched_on_a_within_2_s(two):
    a, b = two
    with httpx.Client(base_url=a.url, timeout=10) as on_a, \
            httpx.Client(base_url=b.url, timeout=10) as on_b:
        run_id = launch(on_a)
        read_sse(on_a, f"/api/runs/{run_id}/events", stop_after=5)
        started = time.monotonic()
        r = on_b.post(f"/api/runs/{run_id}/cancel")
        assert r.status_code == 200, r.text
        run = wait_run(on_b, run_id, "cancelled", timeout=5)
        assert time.monotonic() - started < 2.0
        events = read_sse(on_a, f"/api/runs/{run_id}/events")
        assert_well_ordered(events)
        assert events[-1]["event"] == "cancelled" and run["status"] == "cancelled"
        # The replicas joined the cluster, and still never loaded torch.
        for server in (a, b):
            assert "libtorch" not in server.mapped_files()


def test_a_killed_ray_worker_fails_its_run_with_the_reason_within_5_s(two, pool_env):
    a, b = two
    with httpx.Client(base_url=a.url, timeout=10) as on_a, \
            httpx.Client(base_url=b.url, timeout=10) as on_b:
        run_id = launch(on_a)
        read_sse(on_b, f"/api/runs/{run_id}/events", stop_after=5)
        pid = runner_pid(pool_env["RUN_STORE_URL"], run_id)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        run = wait_run(on_b, run_id, {"failed", "succeeded", "cancelled"}, timeout=10)
        assert run["status"] == "failed" and time.monotonic() - killed < 5.0
        # Ray's report (the replicas watch the actors) or, failing that, the silence.
        assert "Ray worker running it" in run["error"] or "no heartbeat" in run["error"]
        assert str(pid) in run["error"] or "no heartbeat" in run["error"]
        events = read_sse(on_b, f"/api/runs/{run_id}/events")
        assert_well_ordered(events)
        assert events[-1]["event"] == "failed"
        # Ray restarts the actor; the pool takes runs again.
        fresh = launch(on_b)
        wait_until(lambda: on_b.get(f"/api/runs/{fresh}").json()["status"] == "running",
                   timeout=30, what="a restarted trainer to take a run")
        on_b.post(f"/api/runs/{fresh}/cancel")


def test_a_database_restart_mid_run_loses_and_duplicates_nothing(two, postgres):
    """The trainer actor buffers and retries its writes, the replicas reconnect."""
    a, b = two
    with httpx.Client(base_url=a.url, timeout=10) as on_a, \
            httpx.Client(base_url=b.url, timeout=30) as on_b:
        run_id = launch(on_a)
        first = read_sse(on_b, f"/api/runs/{run_id}/events", stop_after=20)
        postgres.restart(down_for=0.5)
        run = wait_run(on_b, run_id, {"succeeded", "failed", "cancelled"}, timeout=30)
        assert run["status"] == "succeeded", run
        events = read_sse(on_a, f"/api/runs/{run_id}/events")
        assert_well_ordered(events)
        assert [e["data"] for e in events[:20]] == [e["data"] for e in first]
        steps = [e["data"]["step"] for e in events if e["data"].get("kind") == "step"]
        assert steps == list(range(1, 151))


def test_100_launches_over_two_replicas_admit_exactly_the_bound(ray_cluster, postgres,
                                                                 tmp_path):
    """Trainers that hold their run until cancelled (and ignore the flag: they emit
    nothing meanwhile, so the cancel ends their process and Ray restarts them)."""
    env = {**ray_cluster.env, "RUN_EXECUTOR": "ray", "RAY_ADDRESS": ray_cluster.address,
           "RUN_STORE_URL": postgres.new_database(), "RUN_TARGET": "support.fakes:hold",
           "RUN_CONCURRENCY": "2", "RUN_QUEUE_SIZE": "4", "RUN_QUEUE_PER_CLIENT": "100",
           "RAY_NUM_CPUS": "0.5", "RAY_NAMESPACE": "test-hold"}  # fmt: skip
    servers = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        servers.append(LiveServer(tmp_path / name, **env))
    clients = [httpx.Client(base_url=s.url, timeout=20) for s in servers]
    try:
        from concurrent.futures import ThreadPoolExecutor

        def post(i: int) -> httpx.Response:
            return clients[i % 2].post("/api/runs", json={"method": "baseline", "params": {}})

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(post, range(100)))
        admitted = [r.json()["id"] for r in answers if r.status_code == 202]
        refused = [r for r in answers if r.status_code == 429]
        assert len(admitted) == 2 + 4 and len(refused) == 94
        assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
        wait_until(lambda: sum(clients[0].get(f"/api/runs/{i}").json()["status"] == "running"
                               for i in admitted) == 2, timeout=30, what="both trainers busy")
        for i, run_id in enumerate(admitted):  # from either replica; queued ones at once
            assert clients[i % 2].post(f"/api/runs/{run_id}/cancel").status_code == 200
        for run_id in admitted:
            assert wait_run(clients[1], run_id, "cancelled", timeout=10)["status"] == "cancelled"
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.stop()


def test_sigterm_ends_a_ray_replica_cleanly_and_its_run_carries_on(pool_env, tmp_path):
    """`docker stop` of a replica: exit 0 within 10 s, no traceback, the open stream
    ends, and the run, trained by a detached actor, still finishes."""

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = LiveServer(tmp_path / "a", command="serve", **pool_env)
    b = LiveServer(tmp_path / "b", **pool_env)
    try:
        with httpx.Client(base_url=a.url, timeout=10) as on_a:
            run_id = launch(on_a)
            read_sse(on_a, f"/api/runs/{run_id}/events", stop_after=3)
            seen: list[dict] = []
            ended = threading.Event()

            def follow() -> None:
                with contextlib.suppress(httpx.HTTPError, AssertionError):
                    seen.extend(read_sse(on_a, f"/api/runs/{run_id}/events"))
                ended.set()

            threading.Thread(target=follow, daemon=True).start()
            time.sleep(0.5)  # the follower's stream is open
            a.process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            code = a.process.wait(10)
            took = time.monotonic() - sent
        log = a.log()
        assert code == 0, log
        assert took < 10
        assert "Traceback" not in log and "SystemExit" not in log, log
        assert ended.wait(5), "the open event stream was not closed"
        with httpx.Client(base_url=b.url, timeout=10) as on_b:
            run = wait_run(on_b, run_id, {"succeeded", "failed", "cancelled"}, timeout=30)
            assert run["status"] == "succeeded", run
            events = read_sse(on_b, f"/api/runs/{run_id}/events")
            assert_well_ordered(events)
            assert events[-1]["event"] == "done"
    finally:
        a.stop()
        b.stop()
