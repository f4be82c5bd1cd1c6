"""The demo pages: the paper page's panel, a run's page and the history, served
in-process over a real run service (real worker, tiny parameters)."""

from __future__ import annotations

import json
import time

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.distill.methods import METHODS
from app.main import create_app
from app.settings import Settings

HTML = {"accept": "text/html"}
TINY = {"epochs": 1, "train_fraction": 0.05, "batch_size": 64}


@pytest.fixture(scope="module")
def demo_client(seed_notes, tmp_path_factory):
    settings = Settings(notes_dir=seed_notes, data_dir=tmp_path_factory.mktemp("demo-data"))
    with TestClient(create_app(settings)) as client:
        yield client


def soup_of(client, url, status=200):
    response = client.get(url, headers=HTML)
    assert response.status_code == status, response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def wait_finished(client, run_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def test_tfkd_paper_offers_its_three_methods_with_forms(demo_client):
    soup = soup_of(demo_client, "/papers/1909.11723")
    forms = soup.select("#demo form.run-form")
    assert sorted(f["data-method"] for f in forms) == ["lsr", "tfkd_reg", "tfkd_self"]
    form = soup.select_one('form[data-method="tfkd_reg"]')
    assert form["action"] == "/api/runs" and form["method"] == "post"
    temperature = form.select_one('input[name="temperature"]')
    schema = METHODS["tfkd_reg"].params.model_json_schema()["properties"]["temperature"]
    assert float(temperature["value"]) == schema["default"]
    assert float(temperature["max"]) == schema["maximum"]
    assert float(temperature["min"]) == schema["minimum"]
    baseline = form.select_one('select[name="baseline"] option[selected]')
    assert baseline["value"] == "true"


def test_every_seed_paper_has_a_demo(demo_client):
    for slug in [p["slug"] for p in demo_client.get("/api/papers").json()["papers"]]:
        soup = soup_of(demo_client, f"/papers/{slug}")
        assert soup.select("#demo form.run-form"), slug


def test_form_post_runs_and_redirects_to_the_run_page(demo_client):
    form = {"method": "kd", **{k: str(v) for k, v in TINY.items()}, "baseline": "false",
            "teacher_epochs": "1"}  # fmt: skip
    response = demo_client.post("/api/runs", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    run_url = response.headers["location"]
    run_id = run_url.rsplit("/", 1)[1]
    run = wait_finished(demo_client, run_id)
    assert run["status"] == "succeeded", run
    soup = soup_of(demo_client, run_url)
    assert soup.select_one("#run-status")["data-status"] == "succeeded"
    boot = json.loads(soup.select_one("#run-boot").string)
    assert boot["id"] == run_id and boot["summary"]["final_acc"] > 0
    assert not soup.select_one("#run-summary").has_attr("hidden")
    params = {th.get_text(): td.get_text() for th, td in
              zip(soup.select(".params th"), soup.select(".params td"), strict=True)}  # fmt: skip
    assert params["epochs"] == "1" and params["baseline"] == "False"
    assert boot["summary"]["baseline_final_acc"] is None  # no twin was asked for

    history = soup_of(demo_client, f"/runs?compare={run_id}")
    assert run_id in [tr["data-run-id"] for tr in history.select("tr[data-run-id]")]
    assert json.loads(history.select_one("#compare-ids").string) == [run_id]


def test_tfkd_reg_run_page_carries_the_virtual_teacher(demo_client):
    response = demo_client.post(
        "/api/runs", json={"method": "tfkd_reg", "params": {**TINY, "temperature": 20}}
    )
    assert response.status_code == 202
    soup = soup_of(demo_client, response.json()["url"])
    teacher = json.loads(soup.select_one("#run-boot").string)["virtual_teacher"]
    assert len(teacher) == 10 and abs(sum(teacher) - 1) < 1e-9
    assert 0.1 < teacher[0] < 0.11  # T=20 makes the hand-made teacher nearly uniform
    wait_finished(demo_client, response.json()["id"])


def test_bad_form_post_from_a_browser_gets_a_readable_page(demo_client):
    form = {"method": "kd", "epochs": "1000"}
    response = demo_client.post("/api/runs", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code == 422
    soup = BeautifulSoup(response.text, "html.parser")
    assert "epochs" in soup.select_one(".error-message").get_text()
    # The same mistake from an API client stays JSON.
    api = demo_client.post("/api/runs", json={"method": "kd", "params": {"epochs": 1000}})
    assert api.status_code == 422 and api.json()["detail"][0]["loc"][-1] == "epochs"


def test_unknown_run_and_bad_history_filter(demo_client):
    assert "找不到页面" in soup_of(demo_client, "/runs/nope", status=404).h1.get_text()
    soup_of(demo_client, "/runs?method=nope", status=400)


def test_paper_page_shows_the_reproduction_row(demo_client):
    from app import PROJECT_ROOT

    kd = json.loads((PROJECT_ROOT / "docs" / "reproduction.json").read_text())["methods"]["kd"]
    soup = soup_of(demo_client, "/papers/1503.02531")
    cells = [td.get_text() for td in soup.select("#method-kd table.repro td")]
    mean, std = kd["student"]["mean"] * 100, kd["student"]["std"] * 100
    assert cells[0] == f"{mean:.1f} ± {std:.1f}"
    assert cells[2] == f"{kd['delta'] * 100:+.1f}"
    assert cells[4] == kd["verdict"]
