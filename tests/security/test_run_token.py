"""RUN_TOKEN: unset by default (the app works out of the box); when set, launching
and cancelling need it, as the X-Run-Token header or a `token` field (JSON or
form), never in the URL; reading stays open. tests/runs covers the basic
401/403 and the form field on cancel; this covers the rest."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from support.security import KNOWN_RUN

from app.settings import Settings

TOKEN = "s3cret-token"
HTML = {"Accept": "text/html"}


def test_unset_by_default_and_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("RUN_TOKEN", raising=False)
    assert Settings(_env_file=None).run_token is None
    monkeypatch.setenv("RUN_TOKEN", TOKEN)
    assert Settings(_env_file=None).run_token == TOKEN


def test_without_a_token_anyone_may_launch_and_cancel(make_app):
    with TestClient(make_app("hold")) as client:
        launched = client.post("/api/runs", json={"method": "kd"})
        assert launched.status_code == 202
        cancelled = client.post(f"/api/runs/{launched.json()['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


@pytest.fixture
def guarded(make_app):
    with TestClient(make_app("hold", run_token=TOKEN, run_queue_per_client=10)) as client:
        yield client
        for run in client.get("/api/runs", params={"status": "running"}).json()["runs"]:
            client.post(f"/api/runs/{run['id']}/cancel", headers={"X-Run-Token": TOKEN})
        for run in client.get("/api/runs", params={"status": "queued"}).json()["runs"]:
            client.post(f"/api/runs/{run['id']}/cancel", headers={"X-Run-Token": TOKEN})


def run_count(client: TestClient) -> int:
    return len(client.get("/api/runs").json()["runs"])


def test_every_way_of_sending_the_token_works(guarded):
    ways = [
        {"json": {"method": "kd"}, "headers": {"X-Run-Token": TOKEN}},
        {"json": {"method": "kd", "token": TOKEN}},
        {"data": {"method": "kd", "token": TOKEN}},
        {"data": {"method": "kd", "token": TOKEN}, "headers": HTML, "follow_redirects": False},
    ]
    launched = [guarded.post("/api/runs", **way) for way in ways]
    assert [r.status_code for r in launched] == [202, 202, 202, 303]
    ids = [r.json()["id"] for r in launched[:3]]
    ids.append(launched[3].headers["location"].rsplit("/", 1)[1])
    cancels = [
        {"headers": {"X-Run-Token": TOKEN}},
        {"json": {"token": TOKEN}},
        {"data": {"token": TOKEN}},
        {"data": {"token": TOKEN}, "headers": HTML, "follow_redirects": False},
    ]
    done = [
        guarded.post(f"/api/runs/{i}/cancel", **way) for i, way in zip(ids, cancels, strict=True)
    ]
    assert [r.status_code for r in done] == [200, 200, 200, 303]
    assert all(guarded.get(f"/api/runs/{i}").json()["status"] == "cancelled" for i in ids)


def test_a_missing_or_wrong_token_changes_nothing(guarded):
    running = guarded.post("/api/runs", json={"method": "kd"}, headers={"X-Run-Token": TOKEN})
    run_id = running.json()["id"]
    attempts = [
        ({"json": {"method": "kd"}}, 401),
        ({"json": {"method": "kd", "token": ""}}, 401),
        ({"json": {"method": "kd", "token": TOKEN.upper()}}, 403),
        ({"json": {"method": "kd", "token": 12345}}, 403),
        ({"json": {"method": "kd"}, "headers": {"X-Run-Token": TOKEN[:-1]}}, 403),
        ({"data": {"method": "kd", "token": "nope"}}, 403),
        # A token in the URL would end up in logs and browser history: not taken.
        ({"json": {"method": "kd"}, "params": {"token": TOKEN}}, 401),
    ]
    for kwargs, status in attempts:
        assert guarded.post("/api/runs", **kwargs).status_code == status, kwargs
        assert guarded.post(f"/api/runs/{run_id}/cancel", **kwargs).status_code == status
    assert run_count(guarded) == 1
    assert guarded.get(f"/api/runs/{run_id}").json()["status"] in ("queued", "running")
    # A browser gets a page that says what is missing, not JSON.
    page = guarded.post("/api/runs", data={"method": "kd"}, headers=HTML)
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
    assert "令牌" in page.text


def test_reading_stays_open(guarded):
    run_id = guarded.post(
        "/api/runs", json={"method": "kd"}, headers={"X-Run-Token": TOKEN}
    ).json()["id"]
    guarded.post(f"/api/runs/{run_id}/cancel", headers={"X-Run-Token": TOKEN})
    for url in (
        "/",
        "/papers/1503.02531",
        "/runs",
        f"/runs/{run_id}",
        "/docs",
        "/feed.xml",
        "/api/papers",
        "/api/runs",
        f"/api/runs/{run_id}",
        f"/api/runs/{run_id}/events",
        f"/api/runs/{run_id}/metrics.json",
        f"/api/runs/{run_id}/metrics.csv",
    ):
        assert guarded.get(url).status_code == 200, url
    # The demo forms ask for the token when the server wants one.
    assert 'name="token"' in guarded.get("/papers/1503.02531").text


def test_a_real_server_without_the_setting_needs_no_token(live_server):
    # The live server runs with the environment's defaults: no RUN_TOKEN set.
    status, _, _ = live_server.raw(f"/api/runs/{KNOWN_RUN}/cancel", "POST")
    assert status == 409  # judged on the run (finished), not refused for a token
