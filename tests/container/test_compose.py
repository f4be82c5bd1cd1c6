"""deploy/compose.yaml brought up for real (CPU profile): Postgres, the Ray head and a
CPU worker, two web replicas and Caddy, under the sub-path /kd, every service healthy.
Then, through Caddy's published port on 127.0.0.1, the faults: the replica serving a
stream killed, Postgres restarted, the Ray worker killed, 100 launches against the
bound, and `down` then `up` keeping every run. The tests run in file order and share
the stack; each wait is bounded."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support.containers import FIGURES, compose_binary
from support.servers import ROOT, free_port
from support.standins import ensure_base
from support.waits import assert_well_ordered, read_sse, wait_run

pytestmark = [pytest.mark.container, pytest.mark.slow]

PREFIX = "/kd"
#: Long enough to be hit mid-run (tens of seconds on two busy cores), two seeds.
RUN = {"method": "kd", "params": {"epochs": 12, "teacher_epochs": 2, "train_fraction": 0.3,
                                  "seeds": 2}}


class Stack:
    """One Compose project over a copy of deploy/ (its secrets made as the README
    makes them), so that nothing is written into the checkout."""

    def __init__(self, tmp_path):
        self.dir = tmp_path / "deploy"
        shutil.copytree(ROOT / "deploy", self.dir, ignore=shutil.ignore_patterns("secrets"))
        made = self.dir / "secrets"
        made.mkdir()
        password = secrets.token_hex(24)
        (made / "ray_auth_token").write_text(secrets.token_hex(32) + "\n")
        (made / "pg_password").write_text(password + "\n")
        self.token = secrets.token_hex(16)
        (made / "run_token").write_text(self.token + "\n")
        self.project = f"kd-test-{uuid.uuid4().hex[:6]}"
        self.port = free_port()
        self.env = {"KD_PORT": str(self.port), "ROOT_PATH": PREFIX, "METRICS_ENABLED": "true",
                    "PATH": "/usr/local/bin:/usr/bin:/bin"}  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}{PREFIX}"

    def compose(self, *args: str, timeout: float = 600) -> str:
        argv = [*compose_binary(), "-f", str(self.dir / "compose.yaml"), "-p", self.project,
                *args]  # fmt: skip
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
        assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"[-4000:]
        return done.stdout

    def up(self) -> float:
        started = time.monotonic()
        self.compose("up", "-d", "--no-build", "--wait", "--wait-timeout", "600", timeout=900)
        return time.monotonic() - started

    def container(self, service: str) -> str:
        return f"{self.project}-{service}-1"

    def docker(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(["docker", *args], capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def viewers(self, service: str) -> float:
        """Open event streams on one replica, from its /metrics (read inside it)."""
        script = ("import urllib.request; print(urllib.request.urlopen("
                  "'http://127.0.0.1:8000/metrics', timeout=5).read().decode())")  # fmt: skip
        out = self.docker("exec", self.container(service), "python", "-c", script)
        line = next(x for x in out.splitlines() if x.startswith("kd_event_stream_viewers "))
        return float(line.split()[1])

    def crash(self, service: str) -> None:
        """SIGKILL the container's main process from the host: the container dies as
        on a crash or the OOM killer (`docker kill` counts as a manual stop, which a
        restart policy leaves stopped)."""
        import os
        import signal

        pid = int(self.docker("inspect", "-f", "{{.State.Pid}}", self.container(service)))
        os.kill(pid, signal.SIGKILL)

    def health(self, service: str) -> str:
        out = self.docker("inspect", self.container(service))
        return json.loads(out)[0]["State"].get("Health", {}).get("Status", "none")

    def wait_healthy(self, service: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while self.health(service) != "healthy":
            assert time.monotonic() < deadline, f"{service} not healthy after {timeout} s"
            time.sleep(1)


@pytest.fixture(scope="module")
def stack(engine, scale_image, tmp_path_factory):
    for base in ("postgres:16", "caddy:2"):
        ensure_base(engine, base)
    stack = Stack(tmp_path_factory.mktemp("compose"))
    try:
        FIGURES["compose up, empty project to every service healthy"] = f"{stack.up():.0f} s"
        yield stack
    finally:
        with contextlib.suppress(Exception):
            logs = stack.compose("logs", "--no-color", "--tail", "60", timeout=120)
            print(logs[-20000:])
        stack.compose("down", "-v", "--remove-orphans", timeout=300)


@pytest.fixture
def http(stack):
    with httpx.Client(base_url=stack.url, timeout=30,
                      headers={"X-Run-Token": stack.token}) as client:  # fmt: skip
        yield client


def launch(http: httpx.Client, run: dict = RUN) -> str:
    r = http.post("/api/runs", json=run)
    assert r.status_code == 202, r.text
    assert r.json()["url"].startswith(f"{PREFIX}/runs/")  # ROOT_PATH through Caddy
    return r.json()["id"]


def follow_across_faults(http: httpx.Client, run_id: str, after: list[dict],
                         deadline: float = 600) -> list[dict]:
    """Read the run's stream to its end, reconnecting with Last-Event-ID whenever the
    connection breaks (as EventSource does), through Caddy each time."""
    events = list(after)
    end = time.monotonic() + deadline
    while not events or events[-1]["event"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < end, f"run {run_id} still streaming after {deadline} s"
        headers = {"Last-Event-ID": str(events[-1]["id"])} if events else {}
        try:
            events += read_sse(http, f"/api/runs/{run_id}/events", headers=headers,
                               deadline=deadline)  # fmt: skip
        except (httpx.HTTPError, AssertionError):
            time.sleep(0.5)  # the proxy has not yet seen the replica go
    return events


def test_every_service_is_healthy_behind_caddy_under_the_sub_path(stack, http):
    for service in ("postgres", "ray-head", "ray-cpu-worker", "web-a", "web-b", "proxy"):
        assert stack.health(service) == "healthy", service
    page = http.get("/papers/1503.02531")
    assert page.status_code == 200 and f'href="{PREFIX}/methods"' in page.text
    assert http.get("/", headers={"Accept-Encoding": "gzip"}).headers["content-encoding"] in (
        "gzip", "zstd")
    assert http.get("/metrics").status_code == 404  # the proxy keeps it internal


def test_killing_the_replica_serving_the_stream_loses_no_event(stack, http):
    run_id = launch(http)
    first = read_sse(http, f"/api/runs/{run_id}/events", stop_after=3, deadline=300)
    with http.stream("GET", f"/api/runs/{run_id}/events",
                     headers={"Last-Event-ID": str(first[-1]["id"])}) as stream:  # fmt: skip
        assert stream.status_code == 200
        time.sleep(1)
        serving = [s for s in ("web-a", "web-b") if stack.viewers(s) > 0]
        assert len(serving) == 1, serving
        stack.docker("kill", stack.container(serving[0]))
        with contextlib.suppress(httpx.HTTPError):
            for _ in stream.iter_lines():
                pass  # until the connection drops
    events = follow_across_faults(http, run_id, first)
    assert_well_ordered(events)
    assert events[-1]["event"] == "done"
    stack.docker("start", stack.container(serving[0]))
    stack.wait_healthy(serving[0])


def test_restarting_postgres_mid_run_loses_or_repeats_no_event(stack, http):
    run_id = launch(http)
    first = read_sse(http, f"/api/runs/{run_id}/events", stop_after=3, deadline=300)
    stack.docker("restart", stack.container("postgres"))
    events = follow_across_faults(http, run_id, first)
    assert_well_ordered(events)
    assert events[-1]["event"] == "done"
    assert wait_run(http, run_id, "succeeded", timeout=60)["status"] == "succeeded"


def test_a_killed_ray_worker_fails_its_run_within_5_s_and_the_next_succeeds(stack, http):
    run_id = launch(http)
    read_sse(http, f"/api/runs/{run_id}/events", stop_after=3, deadline=300)
    stack.crash("ray-cpu-worker")
    killed = time.monotonic()
    run = wait_run(http, run_id, {"failed", "succeeded", "cancelled"}, timeout=30)
    assert run["status"] == "failed", run
    assert time.monotonic() - killed < 5.0
    assert "Ray worker" in run["error"] or "heartbeat" in run["error"], run["error"]
    stack.wait_healthy("ray-cpu-worker", timeout=240)  # back by its restart policy
    again = launch(http)
    assert wait_run(http, again, {"succeeded", "failed"}, timeout=600)["status"] == "succeeded"


def test_100_launches_through_caddy_admit_exactly_the_bound(stack, http):
    def one(_):
        return http.post("/api/runs", json=RUN)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(100)))
    admitted = [r for r in answers if r.status_code == 202]
    refused = [r for r in answers if r.status_code == 429]
    assert len(admitted) + len(refused) == 100, {r.status_code for r in answers}
    # One client (the test, behind the proxy): its per-client bound, 4 in compose.yaml.
    assert len(admitted) == 4, len(admitted)
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    for r in admitted:
        assert http.post(f"/api/runs/{r.json()['id']}/cancel").status_code == 200


def test_down_then_up_keeps_every_run_and_its_events(stack, http):
    before = {r["id"]: r for r in http.get("/api/runs", params={"limit": 200}).json()["runs"]}
    assert len(before) >= 8
    events = {i: read_sse(http, f"/api/runs/{i}/events") for i in list(before)[:3]}
    stack.compose("down", timeout=300)
    FIGURES["compose up again, volumes kept"] = f"{stack.up():.0f} s"
    after = {r["id"]: r for r in http.get("/api/runs", params={"limit": 200}).json()["runs"]}
    assert set(after) == set(before)
    assert {i: r["status"] for i, r in after.items()} == {i: r["status"] for i, r in before.items()}
    for run_id, kept in events.items():
        assert [e["data"] for e in read_sse(http, f"/api/runs/{run_id}/events")] == \
            [e["data"] for e in kept]  # fmt: skip
