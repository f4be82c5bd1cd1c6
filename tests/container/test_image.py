"""The image as a user meets it, run for real on a Docker engine: healthy, serving,
training, keeping its data in its volume, non-root, read-only, torch-free in the web
process, small enough, and stopping cleanly. Replaces scripts/container-check.sh."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from support.containers import FIGURES, published, wait_healthy
from support.waits import assert_well_ordered, read_sse, wait_run

pytestmark = [pytest.mark.container, pytest.mark.slow]

MAX_MB = {"kd-notes:test": 1300, "kd-notes:scale": 1600}
PAPER = ("1503.02531", "Distilling the Knowledge in a Neural Network")
QUICK_RUN = {"method": "kd", "params": {"epochs": 1, "teacher_epochs": 1, "train_fraction": 0.1}}


def run_container(engine, image: str, volume: str, **extra):
    """The image as the README runs it: data in a named volume, read-only root, /tmp
    a tmpfs, port 8000 published on 127.0.0.1 only."""
    return engine.containers.run(
        image, detach=True, name=f"kd-test-{uuid.uuid4().hex[:8]}",
        ports={"8000/tcp": ("127.0.0.1", None)}, volumes={volume: {"bind": "/data"}},
        read_only=True, tmpfs={"/tmp": "size=256m"}, environment={"RUN_QUEUE_PER_CLIENT": "8"},
        **extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def volume(engine):
    vol = engine.volumes.create(f"kd-test-data-{uuid.uuid4().hex[:8]}")
    yield vol.name
    vol.remove(force=True)


@pytest.fixture(scope="module")
def served(engine, one_machine_image, volume):
    container = run_container(engine, one_machine_image, volume)
    try:
        healthy = wait_healthy(container, timeout=120)
        FIGURES["kd-notes:test run to healthy"] = f"{healthy:.0f} s (HEALTHCHECK every 30 s)"
        yield container
    finally:
        container.remove(force=True)


def http(container) -> httpx.Client:
    return httpx.Client(base_url=published(container, 8000), timeout=10)


def test_it_becomes_healthy_and_serves_a_paper_and_its_json(served):
    with http(served) as client:
        page = client.get(f"/papers/{PAPER[0]}")
        assert page.status_code == 200 and PAPER[1] in page.text
        data = client.get(f"/api/papers/{PAPER[0]}")
        assert data.status_code == 200 and data.json()["title"] == PAPER[1]


def test_it_runs_as_a_non_root_user_on_a_read_only_root(served):
    uid = served.exec_run(["python", "-c", "import os; print(os.getuid())"]).output.strip()
    assert uid.isdigit() and int(uid) != 0
    assert served.attrs["HostConfig"]["ReadonlyRootfs"] is True
    wrote = served.exec_run(["sh", "-c", "touch /srv/probe"])
    assert wrote.exit_code != 0 and b"Read-only file system" in wrote.output


def test_the_web_process_never_loads_torch(served):
    with http(served) as client:  # the pages that import the most
        for path in ("/methods", "/api/methods", "/runs"):
            assert client.get(path).status_code == 200, path
    maps = served.exec_run(["cat", "/proc/1/maps"]).output.decode()
    cmdline = served.exec_run(["cat", "/proc/1/cmdline"]).output
    assert b"app" in cmdline and "libtorch" not in maps


def test_a_demo_run_succeeds_and_survives_a_restart(served):
    with http(served) as client:
        r = client.post("/api/runs", json=QUICK_RUN)
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]
        run = wait_run(client, run_id, {"succeeded", "failed"}, timeout=600)
        assert run["status"] == "succeeded", run
        events = read_sse(client, f"/api/runs/{run_id}/events")
    assert_well_ordered(events)
    served.restart(timeout=10)
    wait_healthy(served, timeout=120)
    with http(served) as client:  # a new host port after the restart
        assert client.get(f"/api/runs/{run_id}").json()["status"] == "succeeded"
        again = read_sse(client, f"/api/runs/{run_id}/events")
    assert [e["id"] for e in again] == [e["id"] for e in events]


def test_docker_stop_is_clean_and_marks_the_training_run_interrupted(engine, served, volume):
    with http(served) as client:
        r = client.post("/api/runs", json={**QUICK_RUN, "params": {
            **QUICK_RUN["params"], "epochs": 20, "train_fraction": 0.5}})
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]
        seen = read_sse(client, f"/api/runs/{run_id}/events", stop_after=3, deadline=300)
    started = time.monotonic()
    served.stop(timeout=10)
    took = time.monotonic() - started
    served.reload()
    state = served.attrs["State"]
    logs = served.logs().decode(errors="replace")
    assert state["ExitCode"] == 0, logs[-3000:]
    assert took < 10, took
    assert "Traceback" not in logs, logs[-3000:]
    served.start()
    wait_healthy(served, timeout=120)
    with http(served) as client:
        run = client.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "interrupted", run
        kept = read_sse(client, f"/api/runs/{run_id}/events")
    assert_well_ordered(kept)
    assert [e["data"] for e in kept[: len(seen)]] == [e["data"] for e in seen]
    assert kept[-1]["event"] == "failed" and kept[-1]["data"]["status"] == "interrupted"


@pytest.mark.parametrize("image", ["one_machine_image", "scale_image"])
def test_the_image_is_no_bigger_than_its_limit(engine, image, request):
    tag = request.getfixturevalue(image)
    mb = engine.images.get(tag).attrs["Size"] / 1e6
    assert mb <= MAX_MB[tag], f"{tag} is {mb:.0f} MB, over {MAX_MB[tag]} MB"


def test_the_scale_image_has_ray_and_psycopg_and_cpu_torch(engine, scale_image):
    out = engine.containers.run(scale_image, [
        "python", "-c", "import ray, psycopg, torch; print(torch.version.cuda)"],
        remove=True, network_mode="none")  # fmt: skip
    assert out.strip() == b"None"
