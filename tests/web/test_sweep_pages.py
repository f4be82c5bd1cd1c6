"""A sweep from the pages: the form on the method and paper pages, the run page's
chart and per-point table (raw and Holm), the history row and the CSV, over a real
run service and worker with tiny parameters."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from support.pages import soup_of, wait_finished

from app.distill.methods import METHODS
from app.distill.sweep import sweep_grids
from app.main import create_app
from app.settings import Settings

TINY = {"epochs": 1, "teacher_epochs": 1, "seeds": 3, "batch_size": 64}


@pytest.fixture(scope="module")
def client(seed_notes, tmp_path_factory):
    settings = Settings(notes_dir=seed_notes, data_dir=tmp_path_factory.mktemp("sweep-data"))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize("url", ["/methods/kd", "/papers/1503.02531"])
def test_the_method_and_paper_pages_offer_the_declared_grids(client, url):
    form = soup_of(client, url).select_one('form.sweep-form[data-method="kd"]')
    options = form.select('select[name="params"] option')
    assert [json.loads(o["value"]) for o in options] == [
        {"sweep": {"param": name}} for name in sweep_grids(METHODS["kd"])
    ]
    # The parameter by its label, not its Python name.
    assert options[0].get_text() == "训练数据比例：0.02, 0.05, 0.1, 0.3, 1.0"
    assert "Holm" in form.get_text()


def test_a_method_without_a_grid_offers_no_sweep(client):
    assert soup_of(client, "/methods/lsr").select_one("form.sweep-form") is None


def test_a_sweep_runs_and_its_page_shows_every_point(client):
    params = {**TINY, "sweep": {"param": "temperature", "values": [2.0, 8.0]}}
    r = client.post("/api/runs", json={"method": "kd", "params": params})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    run = wait_finished(client, run_id)
    assert run["status"] == "succeeded", run["error"]
    points = run["summary"]["sweep"]["points"]
    assert [p["value"] for p in points] == [2.0, 8.0]

    soup = soup_of(client, f"/runs/{run_id}")
    assert soup.select_one("#sweep-chart") is not None
    assert soup.select_one('script[src$="/static/js/sweep.js"]') is not None
    boot = json.loads(soup.select_one("#run-boot").get_text())
    assert boot["sweep"] == {"param": "temperature", "values": [2.0, 8.0]}
    result = soup.select_one("#sweep-result")
    assert "只训练一次、各点复用：baseline" in result.get_text()
    (table,) = result.select("table.sweep-points")
    assert table["data-arm"] == "baseline" and "纯交叉熵对照" in table.caption.get_text()
    rows = [[c.get_text(" ", strip=True) for c in tr.select("th, td")]
            for tr in table.select("tbody tr")]  # fmt: skip
    assert [row[0] for row in rows] == ["2.0", "8.0"]
    line = run["summary"]["sweep"]["lines"][0]
    for row, point in zip(rows, line["points"], strict=True):
        assert row[1] == f"{point['mean'] * 100:+.2f}"
    holm = [s.get_text() for s in table.select("tbody tr td:nth-of-type(6) .verdict")]
    assert len(holm) == 2 and all(holm)
    claims = result.select_one("table.sweep-claims")
    assert "蒸馏出的学生优于只用硬标签训练的同一学生" in claims.get_text()

    history = soup_of(client, "/runs?method=kd")
    assert "扫描 temperature（2 点）" in history.get_text()
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/runs/{run_id}/metrics.csv").text)))
    assert {row["point"] for row in rows} == {"0", "1"}  # each row says its grid point
    assert "baseline" not in {row["model"] for row in rows if row["point"] == "1"}
