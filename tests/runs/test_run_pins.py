"""Pinned runs: retention never deletes them (both stores), a reader pins through the
API and the run page's form under RUN_TOKEN, and each method's live run (the one
/methods links to) is pinned automatically, the pin moving to a newer one."""

from __future__ import annotations

import contextlib
import time

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient

from app.main import create_app
from app.runs.factory import open_store
from app.runs.store import Retention, encode_event
from app.web.method_rows import default_params

DAY = 86400.0


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    where = tmp_path / "runs.sqlite3" if request.param == "sqlite" else \
        request.getfixturevalue("pg_url")  # fmt: skip
    opened = open_store(where)
    yield opened
    with contextlib.suppress(Exception):
        opened.close()


def finished(store, run_id: str, created: float, method: str = "kd", params=None) -> None:
    store.create_run(run_id, method, params or {}, "", created)
    store.append_events(run_id, [encode_event(1, {"type": "log", "message": "x"})])
    store.finish(run_id, "succeeded", {"type": "done", "summary": {}})


def test_retention_keeps_pinned_runs_by_age_and_by_cap(store):
    now = time.time()
    for i in range(4):
        finished(store, f"r{i}", now - (40 - i) * DAY)
    assert store.pin("r0", "reader") and store.pin("r1", "methods")
    assert not store.pin("nope", "reader")
    assert store.prune(Retention(days=30), now=now + 31 * DAY) == 2
    assert {r.id for r in store.list_runs(limit=None)} == {"r0", "r1"}
    assert store.get_run("r0").pinned == "reader"
    assert [e.seq for e in store.events_after("r0", 0)] == [1, 2]
    assert store.prune(Retention(max_runs=1)) == 0  # the cap never takes a pinned run
    store.pin("r0", None)
    assert store.prune(Retention(max_runs=1)) == 1
    assert {r.id for r in store.list_runs(limit=None)} == {"r1"}


def test_the_live_pin_moves_to_the_newer_run_and_leaves_a_readers_pin(store):
    finished(store, "a", 1.0)
    finished(store, "b", 2.0)
    finished(store, "c", 3.0)
    store.pin("a", "reader")
    store.pin_live("kd", "b")
    store.pin_live("kd", "c")
    pins = {r.id: r.pinned for r in store.list_runs(limit=None)}
    assert pins == {"a": "reader", "b": None, "c": "methods"}
    store.pin_live("kd", "a")  # a reader's pin is not taken over
    assert store.get_run("a").pinned == "reader" and store.get_run("c").pinned is None


@pytest.fixture
def app_with(seed_notes, tmp_path):
    def make(**overrides):
        return TestClient(create_app(make_settings(seed_notes, tmp_path, **overrides)))

    return make


def test_a_reader_pins_through_the_api_under_the_token(app_with, tmp_path):
    finished(open_store(tmp_path / "runs.sqlite3"), "pinme", time.time())
    with app_with(run_token="t0k") as client:
        assert client.post("/api/runs/pinme/pin").status_code == 401
        assert client.post("/api/runs/pinme/pin", headers={"X-Run-Token": "no"}).status_code == 403
        r = client.post("/api/runs/pinme/pin", headers={"X-Run-Token": "t0k"})
        assert r.status_code == 200 and r.json()["pinned"] == "reader"
        page = client.get("/runs/pinme").text
        assert 'id="pinned" data-pinned="reader"' in page and "/api/runs/pinme/unpin" in page
        assert client.post("/api/runs/nope/pin", headers={"X-Run-Token": "t0k"}).status_code == 404
        r = client.post("/api/runs/pinme/unpin", data={"token": "t0k"},
                        headers={"Accept": "text/html"}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/runs/pinme"
        assert client.get("/api/runs/pinme").json()["pinned"] is None


def test_methods_live_runs_are_pinned_before_retention_runs(app_with, tmp_path):
    store = open_store(tmp_path / "runs.sqlite3")
    old = time.time() - 90 * DAY
    finished(store, "live-old", old, "kd", default_params("kd"))
    finished(store, "other", old, "kd", {**default_params("kd"), "temperature": 2.0})
    store.close()
    # Retention at start-up: 30 days; the live run is kept, the variant is not.
    with app_with(run_retention_days=1 / 86400) as client:
        time.sleep(1.1)
        client.app.state.runs.prune()
        assert client.get("/api/runs/live-old").json()["pinned"] == "methods"
        assert client.get("/api/runs/other").status_code == 404
        assert 'href="/runs/live-old"' in client.get("/methods").text
