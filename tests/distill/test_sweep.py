"""Sweeps: the torch-free part (Holm, p-values, which grids and arms) against hand
computed cases, and a tiny real sweep whose reused control is held exact."""

from __future__ import annotations

import math

import pytest

from app.distill.methods import METHODS
from app.distill.sweep import (
    MAX_POINTS,
    SweepError,
    holm,
    judge_points,
    reused_arms,
    split_sweep,
    two_sided_p,
)

# -- Holm and p --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pvalues", "rejected"),
    [
        # sorted 0.005 <= .05/4, 0.01 <= .05/3, 0.03 > .05/2: stop there
        ([0.01, 0.04, 0.03, 0.005], [True, False, False, True]),
        ([0.01, 0.02, 0.03], [True, True, True]),  # .0167, .025, .05
        ([0.02, 0.02], [True, True]),  # .02 <= .025, then .02 <= .05
        ([0.03, 0.01], [True, True]),  # .01 <= .025, then .03 <= .05
        ([0.06], [False]),
        ([0.049], [True]),
        ([None, 0.02, None], [False, True, False]),  # untested points are not counted
        ([], []),
    ],
)
def test_holm_against_hand_computed_cases(pvalues, rejected):
    assert holm(pvalues) == rejected


def test_holm_stops_at_the_first_failure_even_if_a_larger_p_would_pass_alone():
    # 0.001 <= .01; 0.0126 > .05/4 = .0125 stops; 0.04 would pass .05/1 but never gets there.
    assert holm([0.001, 0.0126, 0.013, 0.04, 0.04]) == [True, False, False, False, False]


def test_two_sided_p_by_hand():
    # Δ = 1, 2, 3: mean 2, sd 1, t = 2·√3, df 2: p = 1 − t/√(2 + t²) = 1 − √12/√14.
    assert two_sided_p([1.0, 2.0, 3.0]) == pytest.approx(1 - math.sqrt(12 / 14), abs=1e-12)
    # df = 4, t = 2.776445 is the 97.5% quantile: p = 0.05.
    sd = 1.0
    mean = 2.776445 * sd / math.sqrt(5)
    deltas = [mean + d for d in (-1.2649111, -0.6324555, 0.0, 0.6324555, 1.2649111)]
    assert two_sided_p(deltas) == pytest.approx(0.05, abs=1e-5)


def test_no_p_and_no_verdict_below_three_seeds_or_on_a_zero_width_interval():
    assert two_sided_p([0.01, 0.02]) is None
    assert two_sided_p([0.0028, 0.0028, 0.0028]) is None
    points = [
        {"delta": {"deltas": [0.0028] * 3, "verdict": "beats"}},
        {"delta": {"deltas": [0.05, 0.06, 0.07], "verdict": "beats"}},
        {"delta": None},
    ]
    judged = judge_points(points)
    assert [p["verdict_raw"] for p in judged] == ["no_verdict", "beats", None]
    assert [p["verdict_holm"] for p in judged] == ["no_verdict", "beats", None]


def test_holm_can_take_a_raw_verdict_back():
    # Three points, each raw "beats" at 95%, p ≈ 0.03, 0.04, 0.045: Holm keeps none.
    def point(p_target: float) -> dict:
        # Δ with df 4 and t chosen so the two-sided p is p_target.
        from app.distill.stats import t_quantile

        t = t_quantile(1 - p_target / 2, 4)
        spread = [-1.2649111, -0.6324555, 0.0, 0.6324555, 1.2649111]  # sd 1
        return {"delta": {"deltas": [t / math.sqrt(5) + s for s in spread], "verdict": "beats"}}

    judged = judge_points([point(0.03), point(0.04), point(0.045)])
    assert [round(p["p"], 4) for p in judged] == [0.03, 0.04, 0.045]
    assert [p["verdict_holm"] for p in judged] == ["unclear"] * 3


# -- grids and arms ----------------------------------------------------------------


def test_every_declared_grid_is_inside_its_parameter_bounds():
    declared = 0
    for method in METHODS.values():
        for name, grid in method.grids.items():
            assert name in method.params.model_fields, (method.id, name)
            assert 2 <= len(grid) <= MAX_POINTS and list(grid) == sorted(set(grid))
            for value in grid:
                method.params(**{name: value})  # raises when out of bounds
            declared += 1
    assert declared >= 3


def test_a_sweep_rides_in_the_params_and_is_checked():
    kd = METHODS["kd"]
    model, sweep = split_sweep(kd, {"seeds": 3, "sweep": {"param": "train_fraction"}})
    assert sweep == {"param": "train_fraction", "values": list(kd.grids["train_fraction"])}
    assert model.train_fraction == kd.grids["train_fraction"][0] and model.seeds == 3
    _, sweep = split_sweep(kd, {"sweep": {"param": "temperature", "values": [2.0, 8.0]}})
    assert sweep["values"] == [2.0, 8.0]
    assert split_sweep(kd, {"alpha": 0.5})[1] is None


@pytest.mark.parametrize(
    ("sweep", "field", "words"),
    [
        ({"param": "alpha"}, "sweep.param", "declares no grid for 'alpha'"),
        ({"param": "temperature", "values": [3.0]}, "sweep.values", "not on the declared grid"),
        ({"param": "temperature", "values": [2.0]}, "sweep.values", "2 to 8 distinct points"),
        ({"param": "temperature", "values": [2.0, 2.0]}, "sweep.values", "distinct"),
        ({"param": "temperature", "steps": 3}, "sweep", "Extra inputs"),
        ("temperature", "sweep", "valid dictionary"),
    ],
)
def test_a_bad_sweep_says_what_is_wrong(sweep, field, words):
    with pytest.raises(SweepError) as caught:
        split_sweep(METHODS["kd"], {"sweep": sweep})
    assert caught.value.field == field and words in str(caught.value)


def test_which_arms_a_sweep_trains_once():
    kd = METHODS["kd"]
    assert reused_arms(kd, "temperature") == ("baseline",)
    assert reused_arms(kd, "alpha") == ("baseline",)
    assert reused_arms(kd, "train_fraction") == ()  # the control sees the same digits
    assert reused_arms(kd, "epochs") == ()
    assert reused_arms(METHODS["ls_teacher"], "alpha") == ()  # its control is KD itself
    assert reused_arms(METHODS["fsp"], "stage1_epochs") == ()
    assert reused_arms(METHODS["fsp"], "fsp_weight") == ("baseline",)


# -- a real sweep -------------------------------------------------------------------

TINY = {"seeds": 3, "epochs": 2, "teacher_epochs": 1}


def test_a_sweep_reuses_the_control_exactly_and_tags_every_event(tmp_path):
    from app.distill.trainer import train

    events: list[dict] = []
    params = {**TINY, "sweep": {"param": "temperature", "values": [2.0, 8.0]}}
    summary = train({"method": "kd", "params": params, "data_dir": tmp_path, "device": "cpu"},
                    events.append)
    sweep = summary["sweep"]
    assert sweep["reused"] == ["baseline"] and [p["value"] for p in sweep["points"]] == [2.0, 8.0]
    # The second point trained no control: its student ran alone.
    epochs = [e for e in events if e["type"] == "metric" and e["kind"] == "epoch"
              and e["phase"] != "teacher"]
    assert {e.get("point") for e in events if e["type"] == "metric"} == {0, 1}
    assert all("baseline" in e["models"] for e in epochs if e["point"] == 0)
    assert all("baseline" not in e["models"] for e in epochs if e["point"] == 1)
    assert events[-1]["type"] == "done" and events[-1]["summary"] == summary

    # The control it reused is the one a plain run at the second point trains.
    plain = train({"method": "kd", "params": {**TINY, "temperature": 8.0},
                   "data_dir": tmp_path, "device": "cpu"}, lambda e: None)
    second = sweep["points"][1]
    assert second["per_seed"]["baseline"] == plain["per_seed"]["baseline"]
    assert second["per_seed"]["student"] == plain["per_seed"]["student"]
    assert second["delta"] == plain["delta"]
    assert {p["verdict_holm"] for p in sweep["points"]} <= {"beats", "worse", "unclear",
                                                           "no_verdict"}
