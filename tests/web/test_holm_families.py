"""One Holm family for the reference, read the same on every page, and every page
that shows intervals together says which family each is in, how many it holds and
how many false verdicts chance alone would give there. The notes' comparisons with
parameters (`byot(alpha=0, feature_weight=0)`) are measured by the reproduction."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support.pages import soup_of

from app import PROJECT_ROOT
from app.catalog.parser import parse_notes_dir
from app.distill.claims import chance
from app.main import create_app
from app.settings import Settings
from app.web.claim_views import page_chance
from app.web.evidence import reference_judgements

DOCS = PROJECT_ROOT / "docs"
FIXTURES = Path(__file__).parents[1] / "catalog" / "fixtures"
DOUBT = "byot vs byot(alpha=0, feature_weight=0)"


@pytest.fixture(scope="module")
def reproduction() -> dict:
    return json.loads((DOCS / "reproduction.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    notes = tmp_path_factory.mktemp("doubts")
    shutil.copy(FIXTURES / "doubts.md", notes / "doubts.md")
    settings = Settings(notes_dir=notes, data_dir=tmp_path_factory.mktemp("families-data"))
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_reproduction_measures_the_notes_comparisons_with_parameters(reproduction):
    notes = {j["comparison"]: j for j in reproduction["comparisons"]}
    assert set(notes) == {"tfkd_reg vs lsr", DOUBT, "msd vs byot"}
    doubt = notes[DOUBT]
    byot = reproduction["methods"]["byot"]["per_seed"]["student"]["test_acc"]
    row = next(r for r in reproduction["variants"]
               if r["method"] == "byot" and r["over"] == {"alpha": 0, "feature_weight": 0})
    off = row["per_seed"]["student"]["test_acc"]
    assert len(off) == len(byot) == 10
    assert doubt["deltas"] == [a - b for a, b in zip(byot, off, strict=True)]
    assert doubt["adjusted_p_value"] >= doubt["p_value"]
    # A comparison that is a claim's own test reads that claim's judgement.
    assert notes["msd vs byot"]["same_as"] == "msd.byot"
    claim = next(j for j in reproduction["claims"] if j["claim"] == "msd.byot")
    assert notes["msd vs byot"]["deltas"] == claim["deltas"]
    assert notes["msd vs byot"]["adjusted_p_value"] == claim["adjusted_p_value"]
    assert any(DOUBT in m["note"] or "byot (alpha=0)" in m["note"]
               for m in reproduction["meta"]["merged"])  # provenance of the merged row


def test_the_family_is_the_claims_and_the_distinct_comparisons(reproduction):
    members = [j for j in reproduction["claims"] + reproduction["comparisons"]
               if j["p_value"] is not None and not j.get("same_as")]
    assert reproduction["chance"]["count"] == len(members) == 25
    adjusted = sorted(j["adjusted_p_value"] for j in members)
    raw = sorted(j["p_value"] for j in members)
    assert adjusted[0] == pytest.approx(min(1.0, len(members) * raw[0]))  # Holm's first step
    md = (DOCS / "reproduction.md").read_text(encoding="utf-8")
    assert f"one family, the {len(members)} intervals" in md
    assert chance(len(members))["en"] in md
    assert "## Comparisons in the notes" in md and f"`{DOUBT}`" in md
    for sweep in reproduction["sweeps"]:  # each sweep says its own family
        n = sum(1 for j in sweep["points"] if j["p_value"] is not None)
        assert chance(n)["en"].replace("on this page", "in this sweep") in md


def test_the_paper_pages_reference_verdicts_are_the_reproductions(reproduction):
    judged = reference_judgements(parse_notes_dir(FIXTURES))
    for j in reproduction["claims"]:
        assert judged[j["claim"]]["adjusted_verdict"] == j["adjusted_verdict"], j["claim"]
        assert judged[j["claim"]]["adjusted_p_value"] == j["adjusted_p_value"]
        assert judged[j["claim"]]["family"] == "reference"
    doubt = next(v for k, v in judged.items() if k.endswith(DOUBT))
    stored = next(j for j in reproduction["comparisons"] if j["comparison"] == DOUBT)
    assert doubt["family"] == "reference" and doubt["deltas"] == stored["deltas"]
    # A conditional claim reads its sweep's point at the method's default.
    assert judged["kd.little_data"]["family"] == "sweep"
    assert judged["kd.little_data"]["swept"]["value"] == 0.1


def test_a_page_note_names_every_family_its_size_and_chance():
    note = page_chance({"live": (3, 3), "reference": (4, 25), "control": (2, 2)})
    assert note["count"] == 9 and note["families"]["reference"] == {"shown": 4, "family": 25}
    assert "9 95% intervals on this page" in note["en"]
    assert "of the reproduction's one Holm family of 25" in note["en"]
    assert "chance alone would give 1.2 false verdicts (72% chance" in note["en"]  # 25 × 5%
    assert "one Holm family across this page: if nothing differed, chance alone would " \
           "give 0.2 false verdicts (14% chance" in note["en"]  # 3 × 5%, 1 − 0.95³
    assert "2 intervals, unadjusted" in note["en"]
    assert "共 25 个" in note["zh"]
    assert page_chance({"control": (2, 2)})["en"].endswith("unadjusted: if nothing differed, "
                                                           "chance alone would give 0.1 false "
                                                           "verdicts (10% chance of at least "
                                                           "one).")


def test_methods_says_its_families(client, reproduction):
    body = client.get("/api/methods").json()
    families = body["chance"]["families"]
    assert families["reference"]["family"] == reproduction["chance"]["count"]
    assert families["reference"]["shown"] == len(
        [j for j in reproduction["claims"] if j["p_value"] is not None])
    assert "live" not in families  # no live run yet: nothing from this server
    page = soup_of(client, "/methods?lang=en")
    note = page.select_one(".claims .chance-note").get_text(" ", strip=True)
    assert f"Holm family of {reproduction['chance']['count']}" in note
    zh = soup_of(client, "/methods?lang=zh").select_one(".claims .chance-note").get_text()
    assert f"同一个 Holm 族（共 {reproduction['chance']['count']} 个" in zh


def test_the_paper_page_says_its_families(client, reproduction):
    page = soup_of(client, "/papers/1905.08094?lang=en")
    note = page.select_one(".chance").get_text(" ", strip=True)
    assert f"Holm family of {reproduction['chance']['count']}" in note
    assert "intervals on this page" in note
    zh = soup_of(client, "/papers/1905.08094?lang=zh").select_one(".chance").get_text()
    assert f"同一个 Holm 族（共 {reproduction['chance']['count']} 个" in zh and "本页有" in zh


def test_a_comparison_the_reproduction_lacks_says_so_in_a_family_of_its_own(tmp_path):
    (tmp_path / "mine.md").write_text(
        "# 笔记\n\n## Logits\n\n"
        "- [Distilling the Knowledge in a Neural Network](https://arxiv.org/abs/1503.02531)"
        " (NIPS2014)\n    - 4分\n    - 对比: kd(alpha=0.5) vs lsr\n    - 对比: kd vs lsr\n",
        encoding="utf-8")
    judged = reference_judgements(parse_notes_dir(tmp_path))
    lacking = next(v for k, v in judged.items() if k.endswith("kd(alpha=0.5) vs lsr"))
    assert lacking["verdict"] == "no_verdict" and lacking["family"] == "extra"
    both_rows = next(v for k, v in judged.items() if k.endswith(":kd vs lsr"))
    assert both_rows["family"] == "extra" and both_rows["p_value"] is not None
    # Alone in the extra family: Holm over one interval is the raw p.
    assert both_rows["adjusted_p_value"] == pytest.approx(both_rows["p_value"])
