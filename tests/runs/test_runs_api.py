"""The runs API in-process (httpx over ASGI) against a manager with fake trainers:
status codes, shapes and messages. The real server and trainer are exercised in
test_runs_server.py."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import httpx
import pytest
from fastapi import FastAPI
from support.fakes import SEEDS
from support.runs import running_manager, wait_status

from app.runs.metrics import COLUMNS
from app.settings import Settings
from app.web import errors, runs_api

pytestmark = pytest.mark.anyio


def _app(runs, tmp_path, **settings) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.include_router(runs_api.router)
    app.state.runs = runs
    app.state.settings = Settings(data_dir=tmp_path, **settings)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test",
                             timeout=10)


def parse_sse(text: str) -> list[dict]:
    """Events of an SSE body: id, event, data (decoded)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                key, _, value = line.partition(":")
                fields[key] = value.removeprefix(" ")
        if "data" in fields:
            events.append({"id": int(fields["id"]), "event": fields["event"],
                           "data": json.loads(fields["data"])})
    return events


async def test_launch_inspect_list_and_download(tmp_path):
    async with running_manager(tmp_path, "quick") as runs, _client(_app(runs, tmp_path)) as http:
        r = await http.post("/api/runs", json={"method": "baseline", "params": {"epochs": 2}})
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["url"] == f"/runs/{body['id']}" and r.headers["location"] == body["url"]
        await wait_status(runs, body["id"], "succeeded")

        run = (await http.get(f"/api/runs/{body['id']}")).json()
        assert run["status"] == "succeeded" and run["params"]["epochs"] == 2
        assert run["events_url"] == f"/api/runs/{body['id']}/events"
        assert run["position"] is None and run["summary"]["final_acc"] == 0.9
        assert run["progress"]["step"] == 10 and "client" not in run

        listed = (await http.get("/api/runs", params={"method": "baseline"})).json()["runs"]
        assert [x["id"] for x in listed] == [body["id"]]
        assert (await http.get("/api/runs", params={"method": "kd"})).json()["runs"] == []
        assert (await http.get("/api/runs", params={"status": "failed"})).json()["runs"] == []

        metrics = (await http.get(f"/api/runs/{body['id']}/metrics.json")).json()
        points = metrics["points"]
        assert metrics["columns"] == list(COLUMNS) and "seed" in metrics["columns"]
        steps = [p for p in points if p["kind"] == "step"]
        epochs = [p for p in points if p["kind"] == "epoch"]
        # One row per seed: 10 steps x 2 terms, and 3 epoch numbers (student acc and
        # loss, baseline acc), each for the fake's 2 seeds.
        assert len(steps) == 40 and len(epochs) == 6
        first = {"model": "student", "name": "total", "step": 1}
        assert steps[0] == {**steps[0], **first, "seed": SEEDS[0], "value": 1.0}
        assert steps[1] == {**steps[1], **first, "seed": SEEDS[1], "value": 2.0}

        r = await http.get(f"/api/runs/{body['id']}/metrics.csv")
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert len(rows) == len(points) and rows[0]["name"] == "total"
        assert [row["seed"] for row in rows[:2]] == [str(s) for s in SEEDS]


async def test_the_event_stream_of_a_finished_run_replays_and_ends(tmp_path):
    async with running_manager(tmp_path, "quick") as runs, _client(_app(runs, tmp_path)) as http:
        run_id = (await http.post("/api/runs", json={"method": "baseline"})).json()["id"]
        await wait_status(runs, run_id, "succeeded")
        r = await http.get(f"/api/runs/{run_id}/events")
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-accel-buffering"] == "no"
        events = parse_sse(r.text)
        assert [e["id"] for e in events] == list(range(1, 15))
        assert all(e["event"] == e["data"]["type"] and e["id"] == e["data"]["seq"] for e in events)
        assert events[-1]["event"] == "done"

        resumed = parse_sse((await http.get(f"/api/runs/{run_id}/events?after=12")).text)
        assert [e["id"] for e in resumed] == [13, 14]
        header = {"Last-Event-ID": "13"}
        resumed = parse_sse((await http.get(f"/api/runs/{run_id}/events", headers=header)).text)
        assert [e["id"] for e in resumed] == [14]
        assert parse_sse((await http.get(f"/api/runs/{run_id}/events?after=14")).text) == []

        bad = await http.get(f"/api/runs/{run_id}/events", headers={"Last-Event-ID": "x"})
        assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["detail"]
        assert (await http.get(f"/api/runs/{run_id}/events?after=-1")).status_code == 422


async def test_bad_input_is_a_4xx_with_a_message(tmp_path):
    async with running_manager(tmp_path, "quick") as runs, _client(_app(runs, tmp_path)) as http:
        r = await http.post("/api/runs", json={"method": "kd", "params": {"epochs": 0,
                                                                          "alpha": "x"}})
        assert r.status_code == 422
        detail = r.json()["detail"]
        assert {tuple(d["loc"]) for d in detail} == {("body", "params", "epochs"),
                                                      ("body", "params", "alpha")}
        assert all(d["msg"] for d in detail)

        r = await http.post("/api/runs", json={"method": "nope"})
        assert r.status_code == 404 and "unknown method" in r.json()["detail"]
        r = await http.post("/api/runs", json={"params": {}})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "method"]
        r = await http.post("/api/runs", json={"method": "kd", "parms": {}})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "parms"]
        r = await http.post("/api/runs", json={"method": "kd", "params": [1]})
        assert r.status_code == 422
        r = await http.post("/api/runs", content=b"{not json",
                            headers={"content-type": "application/json"})
        assert r.status_code == 400 and "JSON" in r.json()["detail"]
        r = await http.post("/api/runs", content=b"[1]", headers={"content-type":
                                                                  "application/json"})
        assert r.status_code == 400
        r = await http.post("/api/runs", content=b"x", headers={"content-type": "text/plain"})
        assert r.status_code == 415
        r = await http.post("/api/runs", content=b"{}" + b" " * 70000,
                            headers={"content-type": "application/json"})
        assert r.status_code == 413
        async def pieces():
            for piece in (b"{", b" " * 70000, b"}"):
                yield piece

        r = await http.post("/api/runs", content=pieces(),
                            headers={"content-type": "application/json"})  # chunked, no length
        assert r.status_code == 413

        for path in ("/api/runs/nope", "/api/runs/nope/metrics.json",
                     "/api/runs/nope/metrics.csv", "/api/runs/nope/events"):
            r = await http.get(path)
            assert r.status_code == 404 and r.json()["detail"] == "no run 'nope'", path
        assert (await http.post("/api/runs/nope/cancel")).status_code == 404
        r = await http.get("/api/runs", params={"method": "nope"})
        assert r.status_code == 422
        r = await http.get("/api/runs", params={"status": "sleeping"})
        assert r.status_code == 422
        r = await http.get("/api/runs", params={"paper": "no-such-paper"})
        assert r.status_code == 404
        assert (await http.get("/api/runs", params={"limit": 0})).status_code == 422
        assert runs.list_runs() == []


async def test_paper_filter_maps_an_arxiv_id_to_its_methods(tmp_path):
    async with running_manager(tmp_path, "quick") as runs, _client(_app(runs, tmp_path)) as http:
        kd = (await http.post("/api/runs", json={"method": "kd"})).json()["id"]
        await wait_status(runs, kd, "succeeded")
        lsr = (await http.post("/api/runs", json={"method": "lsr"})).json()["id"]
        await wait_status(runs, lsr, "succeeded")
        ids = lambda r: [x["id"] for x in r.json()["runs"]]  # noqa: E731
        assert ids(await http.get("/api/runs", params={"paper": "1503.02531"})) == [kd]
        assert ids(await http.get("/api/runs", params={"paper": "1909.11723"})) == [lsr]
        assert ids(await http.get("/api/runs")) == [lsr, kd]  # newest first


async def test_queue_full_and_per_client_limit_are_429_with_retry_after(tmp_path):
    async with running_manager(tmp_path, "slow", queue_size=1, per_client=3) as runs, \
            _client(_app(runs, tmp_path)) as http:
        first = (await http.post("/api/runs", json={"method": "baseline"})).json()
        await wait_status(runs, first["id"], "running")
        second = (await http.post("/api/runs", json={"method": "baseline"})).json()
        assert second["status"] == "queued" and second["position"] == 1
        assert (await http.get(f"/api/runs/{second['id']}")).json()["position"] == 1
        r = await http.post("/api/runs", json={"method": "baseline"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "queue is full" in r.json()["detail"]

        r = await http.post(f"/api/runs/{first['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        r = await http.post(f"/api/runs/{first['id']}/cancel")
        assert r.status_code == 409 and "already finished" in r.json()["detail"]
        await wait_status(runs, second["id"], "running")
        runs.limits = dataclasses.replace(runs.limits, per_client=1)
        r = await http.post("/api/runs", json={"method": "baseline"})
        assert r.status_code == 429 and "at most 1" in r.json()["detail"]
        assert (await http.post(f"/api/runs/{second['id']}/cancel")).status_code == 200


async def test_the_run_token_guards_launch_and_cancel_only(tmp_path):
    async with running_manager(tmp_path, "slow") as runs, \
            _client(_app(runs, tmp_path, run_token="s3cret")) as http:
        r = await http.post("/api/runs", json={"method": "baseline"})
        assert r.status_code == 401 and "X-Run-Token" in r.json()["detail"]
        r = await http.post("/api/runs", json={"method": "baseline"},
                            headers={"X-Run-Token": "wrong"})
        assert r.status_code == 403 and "wrong" in r.json()["detail"]
        r = await http.post("/api/runs", json={"method": "baseline"},
                            headers={"X-Run-Token": "s3cret"})
        assert r.status_code == 202
        run_id = r.json()["id"]
        assert (await http.get(f"/api/runs/{run_id}")).status_code == 200  # browsing stays open
        assert (await http.get("/api/runs")).status_code == 200
        assert (await http.post(f"/api/runs/{run_id}/cancel")).status_code == 401
        r = await http.post(f"/api/runs/{run_id}/cancel", data={"token": "s3cret"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled"


async def test_an_html_form_launches_and_redirects_to_the_run_page(tmp_path):
    async with running_manager(tmp_path, "quick") as runs, _client(_app(runs, tmp_path)) as http:
        # Blank fields keep their defaults; values arrive as strings and are coerced.
        r = await http.post("/api/runs", data={"method": "kd", "epochs": "3", "alpha": ""},
                            headers={"accept": "text/html"})
        assert r.status_code == 303
        run_id = r.headers["location"].removeprefix("/runs/")
        run = (await http.get(f"/api/runs/{run_id}")).json()
        assert run["params"]["epochs"] == 3 and run["params"]["alpha"] == 0.9
        # Without Accept: text/html a form post gets the JSON answer.
        r = await http.post("/api/runs", data={"method": "kd", "params": '{"epochs": 2}'})
        assert r.status_code == 202
        assert (await http.get(f"/api/runs/{r.json()['id']}")).json()["params"]["epochs"] == 2
        r = await http.post("/api/runs", data={"method": "kd", "params": "{oops"})
        assert r.status_code == 400
