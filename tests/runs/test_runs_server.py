"""End to end: a real uvicorn server (create_app) on 127.0.0.1, real worker
processes, the real trainer with tiny parameters. Every stream has a deadline."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from support.servers import LiveServer
from support.waits import assert_well_ordered, read_sse

pytestmark = pytest.mark.e2e

TINY = {"epochs": 1, "train_fraction": 0.05, "batch_size": 32, "seeds": 2}
TINY_KD = {**TINY, "teacher_epochs": 1}
#: Minutes of training: something to cancel, kill or interrupt.
LONG = {"epochs": 30, "train_fraction": 1.0, "batch_size": 8}
ENV = {"RUN_CONCURRENCY": "1", "RUN_QUEUE_SIZE": "1", "RUN_QUEUE_PER_CLIENT": "4",
       "TORCH_THREADS": "1", "DEVICE": "cpu"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    srv = LiveServer(data, **ENV)
    yield srv
    srv.stop()


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def launch(http: httpx.Client, method: str, params: dict) -> str:
    r = http.post("/api/runs", json={"method": method, "params": params})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def wait_status(http: httpx.Client, run_id: str, statuses: set[str], timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = http.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses:
            return run
        assert time.monotonic() < deadline, f"run still {run['status']}"
        time.sleep(0.05)


def test_a_run_streams_live_in_order_and_succeeds(server, http):
    run_id = launch(http, "baseline", TINY)
    events = read_sse(http, f"/api/runs/{run_id}/events")
    assert_well_ordered(events)
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "done" and "metric" in kinds and kinds.count("phase") >= 2
    steps = [e["data"] for e in events if e["event"] == "metric" and e["data"]["kind"] == "step"]
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))

    run = http.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "succeeded" and run["summary"] == events[-1]["data"]["summary"]
    assert run["progress"]["epoch"] == 1 and run["last_seq"] == len(events)
    points = http.get(f"/api/runs/{run_id}/metrics.json").json()["points"]
    assert {p["seq"] for p in points} == {e["id"] for e in events if e["event"] == "metric"}
    # Two seeds trained together: every number is a pair, exported as two rows.
    assert all(len(v) == 2 for v in steps[0]["losses"]["student"].values())
    assert {p["seed"] for p in points} == {0, 1}


def test_a_kd_stream_resumes_after_a_dropped_connection(server, http):
    run_id = launch(http, "kd", TINY_KD)
    first = read_sse(http, f"/api/runs/{run_id}/events", stop_after=4)  # then drop it
    assert [e["id"] for e in first] == [1, 2, 3, 4]
    rest = read_sse(http, f"/api/runs/{run_id}/events",
                    headers={"Last-Event-ID": str(first[-1]["id"])}, deadline=90)
    together = first + rest
    assert_well_ordered(together)
    assert together[-1]["event"] == "done"
    assert {e["data"]["phase"] for e in together if e["event"] == "phase"} == {"teacher", "train"}
    # The store holds exactly what the two connections delivered.
    replay = read_sse(http, f"/api/runs/{run_id}/events?after=0")
    assert [e["data"] for e in replay] == [e["data"] for e in together]
    # Hinton et al.'s paper, by the catalog's slug (its arXiv id), lists this run.
    of_paper = http.get("/api/runs", params={"paper": "1503.02531"}).json()["runs"]
    assert [r["id"] for r in of_paper] == [run_id]


def test_cancel_stops_the_worker_and_keeps_the_events(server, http):
    run_id = launch(http, "baseline", LONG)
    seen = read_sse(http, f"/api/runs/{run_id}/events", stop_after=4)
    workers = server.worker_pids()
    assert len(workers) == 1, workers  # one slot, its worker busy, no spare
    worker = workers[0]
    started = time.monotonic()
    r = http.post(f"/api/runs/{run_id}/cancel")
    elapsed = time.monotonic() - started
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert elapsed < 1.0, f"cancel took {elapsed:.2f} s"
    assert not _alive(worker)
    events = read_sse(http, f"/api/runs/{run_id}/events")
    assert_well_ordered(events)
    assert events[-1]["event"] == "cancelled" and len(events) > len(seen)
    assert [e["data"] for e in events[:4]] == [e["data"] for e in seen]
    assert http.post(f"/api/runs/{run_id}/cancel").status_code == 409


def test_kill_9_of_the_worker_fails_the_run_and_the_server_carries_on(server, http):
    run_id = launch(http, "baseline", LONG)
    read_sse(http, f"/api/runs/{run_id}/events", stop_after=4)
    workers = server.worker_pids()
    assert len(workers) == 1, workers
    os.kill(workers[0], signal.SIGKILL)
    run = wait_status(http, run_id, {"failed"}, timeout=5)
    assert run["error"].startswith("worker exited with signal 9")
    events = read_sse(http, f"/api/runs/{run_id}/events")
    assert events[-1]["event"] == "failed" and events[-1]["data"]["error"] == run["error"]
    # A fresh worker takes the next run.
    next_id = launch(http, "baseline", TINY)
    assert wait_status(http, next_id, {"succeeded", "failed"})["status"] == "succeeded"


def test_a_full_queue_answers_429_with_retry_after(server, http):
    running = launch(http, "baseline", LONG)
    wait_status(http, running, {"running"})
    queued = launch(http, "baseline", TINY)
    assert http.get(f"/api/runs/{queued}").json()["position"] == 1
    r = http.post("/api/runs", json={"method": "baseline", "params": TINY})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "queue is full" in r.json()["detail"]
    assert http.post(f"/api/runs/{queued}/cancel").json()["status"] == "cancelled"
    assert http.post(f"/api/runs/{running}/cancel").json()["status"] == "cancelled"


def test_bad_parameters_422_and_unknown_method_404(server, http):
    r = http.post("/api/runs", json={"method": "kd", "params": {"epochs": 1000, "tau": 1}})
    assert r.status_code == 422
    assert {tuple(d["loc"]) for d in r.json()["detail"]} == {
        ("body", "params", "epochs"), ("body", "params", "tau")}
    r = http.post("/api/runs", json={"method": "distill-everything"})
    assert r.status_code == 404 and "unknown method" in r.json()["detail"]
    r = http.post("/api/runs", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400


def test_the_server_process_never_imports_torch(server, http):
    """After the runs above, torch's library is mapped in the workers and not in
    the server: a check that would see torch if the server had imported it."""
    assert http.get("/api/runs", params={"status": "succeeded"}).json()["runs"]
    deadline = time.monotonic() + 30  # the warm worker may still be importing torch
    while not any("libtorch" in _maps(pid) for pid in server.worker_pids()):
        assert time.monotonic() < deadline, "no worker with torch loaded"
        time.sleep(0.1)
    assert "libtorch" not in server.mapped_files()
    assert "/torch/" not in server.mapped_files()


def test_a_server_restart_mid_run_leaves_it_interrupted_with_its_events(tmp_path):
    first = LiveServer(tmp_path, log_path=tmp_path / "first.log", **ENV)
    try:
        with httpx.Client(base_url=first.url, timeout=10) as http:
            run_id = launch(http, "baseline", LONG)
            seen = read_sse(http, f"/api/runs/{run_id}/events", stop_after=4)
            [worker] = first.worker_pids()
    finally:
        first.crash()  # kill -9: no chance to tidy up
    second = LiveServer(tmp_path, log_path=tmp_path / "second.log", **ENV)
    try:
        with httpx.Client(base_url=second.url, timeout=10) as http:
            run = http.get(f"/api/runs/{run_id}").json()
            assert run["status"] == "interrupted" and "interrupted" in run["error"]
            events = read_sse(http, f"/api/runs/{run_id}/events")
            assert_well_ordered(events)
            assert [e["data"] for e in events[:4]] == [e["data"] for e in seen]
            assert events[-1]["event"] == "failed"
            assert events[-1]["data"]["status"] == "interrupted"
            # The orphaned worker notices its parent is gone at its next event.
            deadline = time.monotonic() + 10
            while _alive(worker) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not _alive(worker)
    finally:
        second.stop()


def _maps(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/maps") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False
