"""The papers' claims on the run page, the method pages and /methods: comparator
named, raw and Holm verdicts in both languages, and what chance alone would give."""

from __future__ import annotations

import time

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.distill.claims import adjust, chance, judged, labelled
from app.distill.methods import METHODS
from app.distill.stats import paired_stats
from app.main import create_app
from app.settings import Settings
from app.web.method_rows import default_params

HTML = {"accept": "text/html"}


@pytest.fixture()
def client(seed_notes, tmp_path):
    settings = Settings(notes_dir=seed_notes, data_dir=tmp_path / "data")
    with TestClient(create_app(settings)) as c:
        yield c


def record(client, method: str, student, others: dict[str, list[float]]) -> str:
    """A finished default run of ``method`` whose summary judges its claims from the
    per-seed accuracies given (``others``: model name → accuracies)."""
    store = client.app.state.runs.store
    run_id = f"{method}-{len(store.list_runs(limit=500))}"
    store.create_run(run_id, method, default_params(method), "t", time.time())
    per_seed = {"student": {"test_acc": student}} | {
        name: {"test_acc": acc} for name, acc in others.items()}
    comparisons = []
    for claim in METHODS[method].claims:
        theirs = others.get(claim.versus.arm)
        deltas = None if theirs is None else [a - b for a, b in zip(student, theirs,
                                                                    strict=True)]
        comparisons.append(judged(claim, deltas))
    comparisons = [labelled(j) for j in adjust(comparisons)]
    summary = {"method": method, "seeds": list(range(len(student))),
               "final_acc": sum(student) / len(student), "per_seed": per_seed,
               "delta": paired_stats(student, others["baseline"]).as_dict(),
               "comparisons": comparisons}
    store.finish(run_id, "succeeded", {"type": "done", "summary": summary}, summary=summary)
    return run_id


STUDENT = [0.93, 0.92, 0.95, 0.91, 0.94]
BASE = [0.90, 0.91, 0.92, 0.90, 0.91]  # Δ +3, +1, +3, +1, +3 points: clear of 0
KD = [0.935, 0.93, 0.945, 0.93, 0.94]  # Δ −0.5 … +0.5: not shown


def test_the_run_page_lists_each_claim_with_its_comparator_and_both_verdicts(client):
    run_id = record(client, "dkd", STUDENT, {"baseline": BASE, "kd_student": KD})
    page = BeautifulSoup(client.get(f"/runs/{run_id}", headers=HTML).text, "html.parser")
    rows = page.select("#run-summary .claims-table tbody tr")
    assert [r["data-claim"] for r in rows] == ["dkd.kd", "dkd.beta"]
    text = rows[0].get_text(" ", strip=True)
    assert "同一教师的 KD 学生" in text
    # One language at a time: the English page names the comparator in English.
    english = BeautifulSoup(client.get(f"/runs/{run_id}?lang=en", headers=HTML).text, "html.parser")
    english_row = english.select_one("#run-summary .claims-table tbody tr")
    english_text = english_row.get_text(" ", strip=True)
    assert "the KD student with the same teacher" in english_text
    assert "此规模下未能显示" in text and "not shown at this scale" in english_text
    note = page.select_one("#run-summary .chance-note").get_text(" ", strip=True)
    english_note = english.select_one("#run-summary .chance-note").get_text(" ", strip=True)
    # Two claim intervals and the run's Δ against its control.
    assert chance(3)["zh"] in note and chance(3)["en"] in english_note


def test_methods_lists_every_claim_and_holms_the_live_ones_across_the_page(client):
    record(client, "kd", STUDENT, {"baseline": BASE})
    record(client, "lsr", [0.912, 0.913, 0.925, 0.905, 0.913], {"baseline": BASE})
    body = client.get("/api/methods").json()
    kd = next(row for row in body["methods"] if row["id"] == "kd")
    assert [c["id"] for c in kd["claims"]] == ["kd.ce", "kd.little_data"]
    live = kd["claims"][0]["live"]
    assert live["verdict"] == "supported"
    lsr = next(row for row in body["methods"] if row["id"] == "lsr")["claims"][0]["live"]
    # The family on the page is kd's two claims and lsr's one: Holm's p ≥ the raw p.
    family = [c["live"] for row in body["methods"] for c in row["claims"] if c["live"]]
    assert len(family) == 3
    assert all(c["adjusted_p_value"] >= c["p_value"] for c in family)
    assert lsr["adjusted_p_value"] == pytest.approx(max(
        min(1.0, (3 - rank) * p) for rank, p in enumerate(
            sorted(c["p_value"] for c in family)) if p <= lsr["p_value"]))
    assert body["chance"]["count"] >= 3
    page = BeautifulSoup(client.get("/methods", headers=HTML).text, "html.parser")
    claim_rows = page.select(".claims .claims-table tbody tr")
    ids = [r["data-claim"] for r in claim_rows]
    assert ids == [c.id for m in METHODS.values() for c in m.claims]
    assert page.select_one(".claims .chance-note").get_text(strip=True)
    assert "从普通教师做 KD" in page.select_one(".methods-page .description").get_text()
    english = BeautifulSoup(client.get("/methods?lang=en", headers=HTML).text, "html.parser")
    assert "KD from a plain teacher" in english.select_one(".methods-page .description").get_text()


def test_a_method_page_shows_its_claims_with_where_the_paper_says_them(client):
    page = BeautifulSoup(client.get("/methods/ls_teacher", headers=HTML).text, "html.parser")
    row = page.select_one(".claims-table tbody tr")
    assert row["data-claim"] == "ls_teacher.kd"
    text = row.get_text(" ", strip=True)
    assert "从普通教师做 KD" in text and METHODS["ls_teacher"].claims[0].where in text
    body = client.get("/api/methods/tfkd_reg").json()
    assert [c["id"] for c in body["claims"]] == ["tfkd_reg.ce", "tfkd_reg.kd", "tfkd_reg.lsr"]
    assert body["claims"][1]["direction"] == "comparable" and body["claims"][1]["margin"] == 1.0


def test_compare_marks_its_pairwise_intervals_unadjusted(client):
    a = record(client, "kd", STUDENT, {"baseline": BASE})
    b = record(client, "lsr", BASE, {"baseline": BASE})
    page = BeautifulSoup(client.get(f"/runs/compare?ids={a},{b}", headers=HTML).text,
                         "html.parser")
    note = page.select_one("#pairs-unadjusted").get_text(" ", strip=True)
    assert "未做多重比较校正" in note
    english = BeautifulSoup(client.get(f"/runs/compare?ids={a},{b}&lang=en", headers=HTML).text,
                            "html.parser")  # fmt: skip
    assert "not adjusted" in english.select_one("#pairs-unadjusted").get_text(" ", strip=True)
    assert client.get(f"/api/compare?ids={a},{b}").json()["pairs_adjusted"] is False


def test_ls_teachers_worse_reads_as_support_for_its_paper(client):
    body = client.get("/api/methods").json()
    ls = next(row for row in body["methods"] if row["id"] == "ls_teacher")
    assert ls["control_claim"] == "worse"
    kd = next(row for row in body["methods"] if row["id"] == "kd")
    assert kd["control_claim"] == "better"
    for lang, words in (("zh", "“不如”支持论文"), ("en", "supports it")):
        page = BeautifulSoup(client.get(f"/methods?lang={lang}", headers=HTML).text,
                             "html.parser")  # fmt: skip
        row = page.select_one('.methods-table tr[data-method="ls_teacher"]')
        assert words in row.get_text(" ", strip=True)
        assert words not in page.select_one(
            '.methods-table tr[data-method="kd"]').get_text(" ", strip=True)
