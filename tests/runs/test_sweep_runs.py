"""A sweep is a run: it is admitted, stored and listed like one, with the sweep in
its params, and a bad sweep is a 422 naming the field (fake trainer; the real sweep
is trained in tests/distill/test_sweep.py)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from support.runs import running_manager, wait_status

from app.settings import Settings
from app.web import errors, runs_api

pytestmark = pytest.mark.anyio


def _client(runs, tmp_path) -> httpx.AsyncClient:
    app = FastAPI()
    errors.install(app)
    app.include_router(runs_api.router)
    app.state.runs = runs
    app.state.settings = Settings(data_dir=tmp_path)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test",
                             timeout=10)


async def test_a_sweep_is_admitted_stored_and_listed_as_a_run(tmp_path):
    async with running_manager(tmp_path, "quick") as runs, _client(runs, tmp_path) as http:
        sweep = {"param": "temperature", "values": [2, 8]}
        r = await http.post("/api/runs", json={"method": "kd", "params": {"sweep": sweep}})
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]
        await wait_status(runs, run_id, "succeeded")
        record = (await http.get(f"/api/runs/{run_id}")).json()
        assert record["params"]["sweep"] == {"param": "temperature", "values": [2.0, 8.0]}
        assert record["params"]["temperature"] == 2.0  # the first point
        listed = (await http.get("/api/runs")).json()["runs"]
        assert [run["id"] for run in listed] == [run_id]


@pytest.mark.parametrize(
    ("sweep", "loc", "words"),
    [
        ({"param": "alpha"}, ["sweep", "param"], "declares no grid"),
        ({"param": "temperature", "values": [3]}, ["sweep", "values"], "declared grid"),
        ([1, 2], ["sweep"], "dictionary"),
    ],
)
async def test_a_bad_sweep_is_a_422_naming_the_field(tmp_path, sweep, loc, words):
    async with running_manager(tmp_path, "quick") as runs, _client(runs, tmp_path) as http:
        r = await http.post("/api/runs", json={"method": "kd", "params": {"sweep": sweep}})
        assert r.status_code == 422
        (detail,) = r.json()["detail"]
        assert detail["loc"] == ["body", "params", *loc] and words in detail["msg"]
        assert (await http.get("/api/runs")).json()["runs"] == []
