"""How results read on the pages (app/web/results.py), on its own: numbers that are
not there, one seed, and summaries of every age."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.distill.events import Paired
from app.distill.stats import paired_stats
from app.web.results import history_row, mean_sd, paired_view, pct, points, summary_view


@pytest.mark.parametrize("value", [None, float("nan"), float("inf"), "0.5", True, [0.5]])
def test_what_is_not_a_finite_number_shows_as_a_dash(value):
    assert pct(value) == points(value) == "—"
    assert mean_sd({"mean": value, "sd": 0.1}) == "—"


def test_percent_points_and_mean_sd():
    assert pct(0.94123) == "94.12%" and pct(1, digits=0) == "100%"
    assert points(0.026) == "+2.60" and points(-0.005, digits=1) == "-0.5"
    assert mean_sd({"mean": 0.9412, "sd": 0.0123}) == "94.1 ± 1.2"
    assert mean_sd({"mean": 0.9412, "sd": None}) == "94.1"  # one seed: no sd
    assert mean_sd({"mean": 0.01, "sd": 0.02}, signed=True) == "+1.0 ± 2.0"
    assert mean_sd(None) == "—"


def test_paired_view_of_several_seeds_and_of_one():
    stats = paired_stats([0.95, 0.93, 0.94], [0.91, 0.93, 0.90]).as_dict()
    view = paired_view(Paired(**stats))
    assert view["mean"] == f"{stats['mean'] * 100:+.2f}" and view["wtl"] == "2/1/0"
    assert view["ci"] == f"[{stats['ci_low'] * 100:+.2f}, {stats['ci_high'] * 100:+.2f}]"
    assert (view["label_zh"], view["verdict"]) == (stats["label_zh"], stats["verdict"])
    one = paired_view(paired_stats([0.9], [0.8]))  # the statistics, or their JSON form
    assert one["ci"] == "—" and one["mean_sd"] == "+10.00" and one["verdict"] == "one_seed"
    assert paired_view(None) is None
    with pytest.raises(ValidationError):  # what is not one never gets this far
        Paired.model_validate({"mean": "x"})


def test_summary_view_of_nothing_and_of_a_run_without_baseline():
    assert summary_view(None) == {"facts": [], "seeds": []}
    view = summary_view(
        {
            "seeds": [4],
            "final_acc": 0.9,
            "baseline_final_acc": None,
            "delta": None,
            "models": {"student": 0.9},
            "per_seed": {"student": {"test_acc": [0.9]}},
        }
    )
    assert [f["key"] for f in view["facts"]] == ["seeds", "acc", "teacher", "wall"]
    assert view["seeds"] == [{"seed": "4", "student": "90.00%", "baseline": "—", "delta": "—"}]


def test_per_seed_rows_fall_back_to_the_index_when_the_seeds_do_not_match():
    view = summary_view(
        {
            "seeds": [1, 2, 3],
            "per_seed": {"student": {"test_acc": [0.9, None]}, "baseline": {"test_acc": [0.8]}},
        }
    )
    assert view["seeds"] == [
        {"seed": "0", "student": "90.00%", "baseline": "80.00%", "delta": "+10.00"},
        {"seed": "1", "student": "—", "baseline": "—", "delta": "—"},
    ]


def test_history_row_prefers_the_paired_mean_and_knows_older_runs():
    stats = paired_stats([0.9, 0.92], [0.9, 0.9]).as_dict()
    row = history_row(
        {"final_acc": 0.91, "baseline_final_acc": 0.9, "delta_acc": 0.01, "delta": stats}
    )
    assert row == {
        "acc": "91.00%",
        "baseline": "90.00%",
        "delta": "+1.00",
        "label_zh": stats["label_zh"],
        "label_en": stats["label_en"],
    }
    assert history_row({"final_acc": 0.5, "delta_acc": -0.1})["delta"] == "-10.00"
    assert history_row(None) == {
        "acc": "—",
        "baseline": "—",
        "delta": "—",
        "label_zh": "",
        "label_en": "",
    }
