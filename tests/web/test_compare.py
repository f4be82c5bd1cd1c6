"""/runs/compare and its JSON twins over runs written straight into the store: the
parameter diff, the paired Δ on shared seeds, the long-format download, bad ids."""

from __future__ import annotations

import csv
import io
import time

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.distill.stats import paired_stats
from app.main import create_app
from app.runs.store import encode_event
from app.settings import Settings

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def client(seed_notes, tmp_path_factory):
    settings = Settings(
        notes_dir=seed_notes, data_dir=tmp_path_factory.mktemp("compare"), run_warm_workers=0
    )
    with TestClient(create_app(settings)) as client:
        store = client.app.state.runs.store
        store_run(store, "a1", "tfkd_reg", {"epochs": 5, "temperature": 20.0}, [0, 1, 2],
                  [0.90, 0.92, 0.91])  # fmt: skip
        store_run(store, "b2", "lsr", {"epochs": 5, "epsilon": 0.1}, [1, 2, 3],
                  [0.93, 0.90, 0.95])  # fmt: skip
        store_run(store, "c3", "lsr", {"epochs": 5, "epsilon": 0.1}, [7], [0.5])
        yield client


def store_run(store, run_id, method, params, seeds, student):
    store.create_run(run_id, method, params, "t", time.time())
    events = [
        {"type": "phase", "phase": "train", "state": "start", "seeds": seeds},
        {"type": "metric", "kind": "step", "phase": "train", "epoch": 1, "step": 1,
         "losses": {"student": {"total": [1.0 + s for s in seeds]}}},
        {"type": "metric", "kind": "epoch", "phase": "train", "epoch": 1,
         "models": {"student": {"acc": student}}},
    ]  # fmt: skip
    store.append_events(run_id, [encode_event(i, e) for i, e in enumerate(events, start=1)])
    summary = {"seeds": seeds, "final_acc": sum(student) / len(student),
               "per_seed": {"student": {"test_acc": student}}}  # fmt: skip
    store.finish(run_id, "succeeded", {"type": "done", "summary": summary}, summary=summary)


def test_only_differing_params_are_listed(client):
    body = client.get("/api/compare?ids=a1,b2").json()
    diff = {row["name"]: row["values"] for row in body["differing_params"]}
    assert diff == {
        "method": ["tfkd_reg", "lsr"],
        "temperature": [20.0, None],
        "epsilon": [None, 0.1],
    }
    same = client.get("/api/compare?ids=b2&ids=c3").json()
    assert same["differing_params"] == []


def test_runs_sharing_seeds_pair_on_those_seeds_only(client):
    body = client.get("/api/compare?ids=a1,b2,c3").json()
    assert len(body["pairs"]) == 1  # c3's seed 7 is in neither of the others
    pair = body["pairs"][0]
    assert (pair["a"], pair["b"], pair["seeds"]) == ("a1", "b2", [1, 2])
    expected = paired_stats([0.93, 0.90], [0.92, 0.91])  # b2 − a1 on seeds 1 and 2
    assert pair["delta"]["mean"] == pytest.approx(expected.mean)
    assert pair["delta"]["ci_high"] == pytest.approx(expected.ci_high)
    assert pair["delta"]["verdict"] == expected.verdict == "few_seeds"  # two seeds: none
    assert body["pairs_adjusted"] is False


def test_the_page_shows_the_diff_and_the_pair(client):
    soup = BeautifulSoup(client.get("/runs/compare?ids=a1,b2", headers=HTML).text, "html.parser")
    assert [tr["data-param"] for tr in soup.select("#param-diff tbody tr")] == [
        "method", "temperature", "epsilon",
    ]  # fmt: skip
    cells = [td.get_text() for td in soup.select("#param-diff tr[data-param=epsilon] td")]
    assert cells == ["—", "0.1"]
    pair = soup.select_one("#pairs tbody tr")
    assert pair["data-a"] == "a1" and pair["data-b"] == "b2"
    assert "b2 (lsr) − a1 (tfkd_reg)" in pair.get_text()
    assert soup.select_one("#download-csv")["href"] == "/api/compare/metrics.csv?ids=a1,b2"


def test_long_download_has_one_row_per_number(client):
    text = client.get("/api/compare/metrics.csv?ids=a1,b2").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["run", "method", "model", "seed", "phase", "epoch", "step",
                             "metric", "value"]  # fmt: skip
    assert len(rows) == 12  # 2 runs × 3 seeds × (one loss + one accuracy)
    acc = [(r["run"], r["seed"], r["value"]) for r in rows if r["metric"] == "acc"]
    assert ("b2", "3", "0.95") in acc and ("a1", "0", "0.9") in acc
    steps = {r["step"] for r in rows if r["metric"] == "total"}
    assert steps == {"1"}
    assert client.get("/api/compare/metrics.json?ids=a1,b2").json()["rows"][0]["run"] == "a1"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/compare?ids=a1,nope", 404),
        ("/api/compare?ids=,", 400),
        ("/api/compare", 422),
        ("/api/compare?ids=" + ",".join(f"r{i}" for i in range(21)), 400),
        ("/runs/compare?ids=nope", 404),
        ("/api/compare/metrics.csv?ids=nope", 404),
    ],
)
def test_bad_ids_get_a_clear_error(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.json()["detail"]


def test_old_overlay_links_redirect_to_compare(client):
    response = client.get("/runs?compare=a1&compare=b2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/runs/compare?ids=a1%2Cb2"
