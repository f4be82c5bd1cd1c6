"""/methods and /api/methods: live rows from the store, reference rows from
docs/reproduction.json, sorting, the forest plot's numbers, and re-run all through
the same admission as a single launch."""

from __future__ import annotations

import json
import time

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app import PROJECT_ROOT
from app.distill.methods import METHODS
from app.distill.stats import paired_stats
from app.main import create_app
from app.settings import Settings
from app.web.method_rows import default_params

HTML = {"accept": "text/html"}
SHOWN = [m for m in METHODS if m != "baseline"]


@pytest.fixture()
def app_client(seed_notes, tmp_path):
    def make(**settings):
        base = Settings(notes_dir=seed_notes, data_dir=tmp_path / "data", **settings)
        return TestClient(create_app(base))

    return make


def record_run(client, method, student, baseline, params=None, status="succeeded", age=0.0):
    """A finished run written straight into the store, as the run service writes one."""
    store = client.app.state.runs.store
    run_id = f"{method}-{len(store.list_runs(limit=500))}"
    store.create_run(run_id, method, params or default_params(method), "t", time.time() - age)
    seeds = list(range(len(student)))
    summary = {
        "method": method,
        "seeds": seeds,
        "final_acc": sum(student) / len(student),
        "baseline_final_acc": sum(baseline) / len(baseline),
        "delta": paired_stats(student, baseline).as_dict(),
    }
    store.finish(run_id, status, {"type": "done", "summary": summary}, summary=summary)
    return run_id


def test_every_method_but_the_baseline_has_a_row_with_its_reference(app_client):
    with app_client() as client:
        body = client.get("/api/methods").json()
    assert [row["id"] for row in body["methods"]] == SHOWN
    kd = next(row for row in body["methods"] if row["id"] == "kd")
    reference = json.loads((PROJECT_ROOT / "docs" / "reproduction.json").read_text("utf-8"))
    assert kd["reference"]["delta"]["mean"] == pytest.approx(
        reference["methods"]["kd"]["delta"]["mean"]
    )
    assert kd["reference"]["seeds"] == len(reference["seeds"])
    assert kd["live"] is None
    hinton = {"url": "/papers/1503.02531", "title": "Distilling the Knowledge in a Neural Network"}
    assert kd["papers"] == [hinton]
    assert kd["url"] == "/methods/kd"


def test_the_live_row_is_the_latest_succeeded_default_run(app_client):
    with app_client() as client:
        record_run(client, "kd", [0.9, 0.91, 0.92], [0.8, 0.8, 0.8], age=30)
        newest = record_run(client, "kd", [0.9, 0.9, 0.9], [0.91, 0.92, 0.90], age=20)
        # Newer, but not a default run, and not a success: neither may be shown.
        changed = default_params("kd") | {"temperature": 2.0}
        record_run(client, "kd", [0.1] * 3, [0.9] * 3, params=changed, age=10)
        record_run(client, "kd", [0.1] * 3, [0.9] * 3, status="failed", age=5)
        kd = next(r for r in client.get("/api/methods").json()["methods"] if r["id"] == "kd")
    assert kd["live"]["run_id"] == newest
    assert kd["live"]["url"] == f"/runs/{newest}"
    expected = paired_stats([0.9, 0.9, 0.9], [0.91, 0.92, 0.90])
    assert kd["live"]["delta"]["mean"] == pytest.approx(expected.mean)
    assert kd["live"]["delta"]["ci_low"] == pytest.approx(expected.ci_low)
    assert kd["live"]["delta"]["verdict"] == expected.verdict
    assert kd["live"]["seeds"] == [0, 1, 2]


def test_sorting_by_live_delta_puts_the_largest_first_and_missing_last(app_client):
    with app_client() as client:
        record_run(client, "sp", [0.95, 0.96], [0.90, 0.90])
        record_run(client, "lsr", [0.91, 0.93], [0.90, 0.90])
        rows = client.get("/api/methods?sort=live").json()["methods"]
        assert client.get("/api/methods?sort=nonsense").status_code == 422
    assert [r["id"] for r in rows[:2]] == ["sp", "lsr"]
    assert all(r["live"] is None for r in rows[2:])
    assert [r["id"] for r in rows[2:]] == [m for m in SHOWN if m not in ("sp", "lsr")]


def test_the_page_shows_both_rows_labelled_and_the_plot_numbers(app_client):
    with app_client() as client:
        run_id = record_run(client, "dml", [0.9, 0.92], [0.88, 0.89])
        soup = BeautifulSoup(client.get("/methods", headers=HTML).text, "html.parser")
        fragment = client.get("/methods?fragment=1&sort=reference", headers=HTML).text
    row = soup.select_one('tr[data-method="dml"]')
    assert row["data-live-run"] == run_id
    assert row.select_one("a.live-run")["href"] == f"/runs/{run_id}"
    assert row.select_one("th a")["href"] == "/methods/dml"
    head = soup.select_one("thead").get_text()
    assert "本服务器" in head and "参考" in head
    forest = json.loads(soup.select_one("#forest-data").string)
    dml = next(r for r in forest["rows"] if r["id"] == "dml")
    expected = paired_stats([0.9, 0.92], [0.88, 0.89])
    assert dml["live"]["low"] == pytest.approx(expected.ci_low * 100)
    assert dml["reference"]["n"] == forest["reference_seeds"]
    assert not fragment.lstrip().startswith("<!doctype")
    assert 'data-sort="reference"' in fragment


def test_paper_page_shows_the_live_row_beside_the_reference(app_client):
    with app_client() as client:
        run_id = record_run(client, "kd", [0.93, 0.95], [0.9, 0.91])
        soup = BeautifulSoup(client.get("/papers/1503.02531", headers=HTML).text, "html.parser")
    table = soup.select_one("#method-kd table.repro")
    live = table.select_one("tr.live-row")
    assert live is not None and live.select_one("a")["href"] == f"/runs/{run_id}"
    assert "本服务器" in live.get_text()
    assert table.select_one("tr.reference-row") is not None


def test_rerun_all_obeys_the_per_client_limit_and_says_why(app_client):
    with app_client(run_queue_per_client=2, run_concurrency=1, run_warm_workers=0) as client:
        response = client.post("/api/methods/rerun", json={})
        body = response.json()
        for q in body["queued"]:
            client.post(f"/api/runs/{q['id']}/cancel", json={})
    assert response.status_code == 202
    assert [q["method"] for q in body["queued"]] == SHOWN[:2]
    assert [r["method"] for r in body["refused"]] == SHOWN[2:]
    assert {r["status_code"] for r in body["refused"]} == {429}
    assert "at most 2" in body["refused"][0]["detail"]


def test_rerun_all_needs_the_run_token_when_the_server_sets_one(app_client):
    with app_client(run_token="s3cret", run_warm_workers=0) as client:
        missing = client.post("/api/methods/rerun", json={})
        wrong = client.post("/api/methods/rerun", json={"token": "nope"})
        token = {"x-run-token": "s3cret"}
        bad = client.post("/api/methods/rerun", json={"methods": "kd"}, headers=token)
        unknown = client.post("/api/methods/rerun", json={"methods": ["nope"]}, headers=token)
    assert (missing.status_code, wrong.status_code, bad.status_code) == (401, 403, 422)
    assert unknown.status_code == 422
    assert "unknown method 'nope'" in unknown.json()["detail"][0]["msg"]


def test_nothing_queued_answers_429_with_retry_after(app_client):
    with app_client(run_queue_per_client=1, run_concurrency=1, run_warm_workers=0) as client:
        first = client.post("/api/methods/rerun", json={"methods": ["kd"]})
        again = client.post("/api/methods/rerun", json={"methods": ["sp", "lsr"]})
        client.post(f"/api/runs/{first.json()['queued'][0]['id']}/cancel", json={})
    assert first.status_code == 202
    assert again.status_code == 429 and int(again.headers["retry-after"]) >= 1
    assert again.json()["queued"] == [] and len(again.json()["refused"]) == 2


def test_a_default_run_behind_several_variants_is_still_found(app_client):
    with app_client() as client:
        default = record_run(client, "sp", [0.9, 0.9], [0.8, 0.8], age=100)
        for i in range(6):  # newer variants push it past the first look
            changed = default_params("sp") | {"gamma": 100.0 + i}
            record_run(client, "sp", [0.5] * 2, [0.5] * 2, params=changed, age=50 - i)
        sp = next(r for r in client.get("/api/methods").json()["methods"] if r["id"] == "sp")
    assert sp["live"]["run_id"] == default


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_has_a_page_with_formula_params_papers_and_a_run_form(app_client, method):
    with app_client() as client:
        soup = BeautifulSoup(client.get(f"/methods/{method}", headers=HTML).text, "html.parser")
        twin = client.get(f"/api/methods/{method}").json()
    spec = METHODS[method]
    # Each `$…$` of the formula is MathML on the page (app/catalog/mathml.py), the prose
    # between them text; the JSON twin keeps the source.
    formula = soup.select_one("#formula")
    assert spec.formula and len(formula.find_all("math")) == spec.formula.count("$") // 2 > 0
    assert "$" not in formula.get_text() and not formula.select("code.math-error")
    schema = spec.params.model_json_schema()["properties"]
    assert [tr["data-param"] for tr in soup.select("#method-params tbody tr")] == list(schema)
    assert [p["name"] for p in twin["params"]] == list(schema)
    form = soup.select_one("form.run-form")
    assert form["data-method"] == method and form["action"] == "/api/runs"
    assert {i["name"] for i in form.select("input, select") if i.get("name")} >= set(schema)
    links = [a["href"] for a in soup.select("#method-papers a")]
    assert [p["url"] for p in twin["papers"]] == [h for h in links if h.startswith("/papers/")]
    assert twin["control_en"] == spec.control_en and twin["formula"] == spec.formula


def test_a_method_page_links_its_papers_and_shows_live_and_reference(app_client):
    with app_client() as client:
        run_id = record_run(client, "kd", [0.93, 0.95], [0.9, 0.91])
        soup = BeautifulSoup(client.get("/methods/kd", headers=HTML).text, "html.parser")
        epochs = client.get("/api/methods/kd").json()["params"][0]
        missing = client.get("/methods/nope", headers=HTML)
        missing_json = client.get("/api/methods/nope")
    hrefs = [a["href"] for a in soup.select("#method-papers a")]
    assert hrefs == ["/papers/1503.02531", "https://arxiv.org/abs/1503.02531"]
    assert soup.select_one("tr.live-row a")["href"] == f"/runs/{run_id}"
    assert soup.select("tr.reference-row")  # the committed rows, default first
    assert (epochs["name"], epochs["minimum"], epochs["maximum"]) == ("epochs", 1, 30)
    assert missing.status_code == 404 and missing_json.status_code == 404
    assert "no method 'nope'" in missing_json.json()["detail"]
