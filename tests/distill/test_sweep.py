"""Sweeps: the torch-free part (Holm, p-values, which grids and arms) against hand
computed cases, and a tiny real sweep whose reused control is held exact."""

from __future__ import annotations

import math

import pytest

from app.distill.methods import METHODS
from app.distill.stats import t_quantile
from app.distill.sweep import (
    MAX_POINTS,
    SweepError,
    judge_points,
    reused_arms,
    split_sweep,
    sweep_grids,
)

# -- judging the points -------------------------------------------------------------

SPREAD = [-1.2649111, -0.6324555, 0.0, 0.6324555, 1.2649111]  # 5 values, sd 1


def point(value: float, deltas: list[float]) -> dict:
    """A point whose student beats its control by `deltas` (the control at 0.5)."""
    control = [0.5] * len(deltas)
    student = [0.5 + d for d in deltas]
    return {"value": value, "per_seed": {"student": {"test_acc": student},
                                         "baseline": {"test_acc": control}}}


def with_p(p_target: float) -> list[float]:
    """Five Δ whose paired t-test gives the two-sided p-value `p_target`."""
    t = t_quantile(1 - p_target / 2, 4)
    return [(t / math.sqrt(5) + s) / 100 for s in SPREAD]


def test_holm_across_the_points_can_take_raw_verdicts_back():
    # p = 0.03, 0.04, 0.045: each interval is clear of 0, but Holm needs 0.05/3 first.
    points = [point(v, with_p(p)) for v, p in ((1.0, 0.03), (2.0, 0.04), (4.0, 0.045))]
    (line,) = judge_points(METHODS["kd"], "temperature", points)["lines"]
    assert line["arm"] == "baseline" and line["versus"]["en"] == "the plain-CE control"
    points = line["points"]
    assert [round(p["p"], 4) for p in points] == [0.03, 0.04, 0.045]
    assert [p["verdict_raw"] for p in points] == ["beats"] * 3
    assert [p["verdict_holm"] for p in points] == ["unclear"] * 3
    # Holm's adjusted p: sorted 0.03·3, max(0.04·2, 0.09), max(0.045, 0.09).
    assert [round(p["p_holm"], 4) for p in points] == [0.09, 0.09, 0.09]


def test_holm_keeps_what_survives_and_negatives_read_worse():
    # p = 0.001, 0.02 (a loss), 0.3: 0.001·3 ≤ .05, then 0.02·2 ≤ .05, then 0.3 stops.
    deltas = [with_p(0.001), [-d for d in with_p(0.02)], with_p(0.3)]
    points = [point(v, d) for v, d in zip((1.0, 2.0, 4.0), deltas, strict=True)]
    points = judge_points(METHODS["kd"], "temperature", points)["lines"][0]["points"]
    assert [p["verdict_raw"] for p in points] == ["beats", "worse", "unclear"]
    assert [p["verdict_holm"] for p in points] == ["beats", "worse", "unclear"]


def test_no_verdict_below_three_seeds_or_on_a_zero_width_interval():
    points = [point(1.0, [0.0028] * 3), point(2.0, [0.01, 0.02]), point(4.0, with_p(0.001))]
    points = judge_points(METHODS["kd"], "temperature", points)["lines"][0]["points"]
    assert [p["verdict_raw"] for p in points] == ["no_verdict", "no_verdict", "beats"]
    assert [p["reason"] for p in points] == ["zero_width", "few_seeds", None]
    assert points[2]["verdict_holm"] == "beats"  # a family of one: no-verdicts do not count


def test_each_claim_gets_a_line_over_the_points_naming_its_comparator():
    points = [point(v, with_p(0.001)) for v in (0.02, 0.3)]
    lines = judge_points(METHODS["kd"], "train_fraction", points)["claims"]
    by_id = {line["claim"]: line for line in lines}
    little = by_id["kd.little_data"]
    assert little["comparator"] == "baseline"
    assert [p["in_range"] for p in little["points"]] == [True, False]
    assert [p["adjusted_verdict"] for p in little["points"]] == ["supported"] * 2
    assert by_id["kd.ce"]["points"][0]["in_range"] is None  # not a claim about this range


def test_a_comparator_the_run_lacks_gives_no_verdict_and_says_so():
    points = [point(v, with_p(0.001)) for v in (1.0, 2.0)]
    judged = judge_points(METHODS["dkd"], "beta", points)
    assert [line["arm"] for line in judged["lines"]] == ["baseline"]  # no KD arm trained
    lines = judged["claims"]
    versus_kd = next(line for line in lines if line["comparator"] == "kd_student")
    assert {p["verdict"] for p in versus_kd["points"]} == {"no_verdict"}
    assert {p["reason"] for p in versus_kd["points"]} == {"missing"}


# -- grids and arms ----------------------------------------------------------------


def test_every_declared_grid_is_inside_its_parameter_bounds():
    declared = 0
    for method in METHODS.values():
        for name, grid in sweep_grids(method).items():
            assert name in method.params.model_fields, (method.id, name)
            assert 2 <= len(grid) <= MAX_POINTS and list(grid) == sorted(set(grid))
            for value in grid:
                method.params(**{name: value})  # raises when out of bounds
            declared += 1
    assert declared >= 3


def test_a_sweep_rides_in_the_params_and_is_checked():
    kd = METHODS["kd"]
    model, sweep = split_sweep(kd, {"seeds": 3, "sweep": {"param": "train_fraction"}})
    assert sweep == {"param": "train_fraction", "values": [0.02, 0.05, 0.1, 0.3, 1.0]}
    assert model.train_fraction == 0.02 and model.seeds == 3  # the grid's first point
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
    typed = train({"method": "kd", "params": params, "data_dir": tmp_path, "device": "cpu"},
                  lambda e: events.append(e.wire()))
    summary = typed.wire()
    sweep = summary["sweep"]
    # Typed where it is made (events.SweepResult), and its JSON reads back to itself.
    assert typed.sweep.points[1].value == 8.0 and typed.sweep.lines[0].arm == "baseline"
    assert type(typed).model_validate(summary).wire() == summary
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
                   "data_dir": tmp_path, "device": "cpu"}, lambda e: None).wire()
    second = sweep["points"][1]
    assert second["per_seed"]["baseline"] == plain["per_seed"]["baseline"]
    assert second["per_seed"]["student"] == plain["per_seed"]["student"]
    assert second["delta"] == plain["delta"]
    (line,) = sweep["lines"]
    assert [p["mean"] for p in line["points"]] == [p["delta"]["mean"] for p in sweep["points"]]
    assert {p["verdict_holm"] for p in line["points"]} <= {"beats", "worse", "unclear",
                                                          "no_verdict"}
    live = [e["sweep_point"] for e in events if "sweep_point" in e]
    assert [(p["index"], p["value"]) for p in live] == [(0, 2.0), (1, 8.0)]
    assert [p["lines"][0]["mean"] for p in live] == [p["mean"] for p in line["points"]]
    lines = {line["claim"]: line for line in sweep["claims"]}
    assert [p["swept"]["value"] for p in lines["kd.ce"]["points"]] == [2.0, 8.0]
    assert lines["kd.ce"]["points"][1]["deltas"] == plain["delta"]["deltas"]


def test_arm_depends_names_what_the_arms_take_from_the_run():
    from app.distill.arms import CARRIED
    from app.distill.sweep import ARM_DEPENDS

    assert set(CARRIED) | {"epochs", "stage1_epochs", "arms"} == ARM_DEPENDS
    assert reused_arms(METHODS["dkd"], "beta") == ("baseline", "kd_student")
    assert reused_arms(METHODS["dkd"], "train_fraction") == ()


def test_a_sweep_reuses_a_comparator_arm_exactly(tmp_path):
    from app.distill.trainer import train

    def run(params):
        config = {"method": "dkd", "params": {**TINY, **params}, "data_dir": tmp_path,
                  "device": "cpu"}
        return train(config, lambda e: None).wire()

    sweep = run({"sweep": {"param": "beta", "values": [1.0, 8.0]}})["sweep"]
    assert sweep["reused"] == ["baseline", "kd_student"]
    assert [line["arm"] for line in sweep["lines"]] == ["baseline", "kd_student"]
    plain = run({"beta": 8.0})
    second = sweep["points"][1]
    for arm in ("student", "baseline", "kd_student"):
        assert second["per_seed"][arm] == plain["per_seed"][arm], arm
    by_claim = {c["claim"]: c for c in second["comparisons"]}
    assert by_claim["dkd.kd"]["deltas"] == {c["claim"]: c for c in plain["comparisons"]}[
        "dkd.kd"]["deltas"]
