"""Claims as data, their verdicts and Holm's adjustment, against hand-computed cases."""

from __future__ import annotations

import math
import random
import subprocess
import sys

import pytest

from app.distill.claims import (
    ALPHA,
    CE_CONTROL,
    Claim,
    adjust,
    chance,
    holm,
    judge,
    judged,
    labelled,
    verdict_text,
)
from app.distill.methods import METHODS
from app.distill.stats import t_sf


def test_holm_by_hand():
    # sorted: 0.005 (×4 = 0.02), 0.01 (×3 = 0.03), 0.03 (×2 = 0.06), 0.04 (×1 = 0.04,
    # raised to the running maximum 0.06)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.3, 0.5]) == pytest.approx([0.6, 0.6])  # 0.3 × 2; 0.5 × 1 → 0.6
    assert holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    assert holm([0.7, 0.9, 0.8]) == [1.0, 1.0, 1.0]  # capped at 1
    assert holm([0.049]) == [0.049]
    assert holm([]) == []
    with pytest.raises(ValueError):
        holm([1.5])


def test_holm_rejects_fewer_than_the_raw_test():
    # At α = 0.05 with m = 3: the smallest needs ≤ 0.0167, the next ≤ 0.025, the last ≤ 0.05.
    adjusted = holm([0.01, 0.02, 0.04])  # 0.03, 0.04, 0.04: all three rejected
    assert [p <= ALPHA for p in adjusted] == [True, True, True]
    adjusted = holm([0.02, 0.03, 0.04])  # 0.06, 0.06, 0.06: none, though each p < 0.05
    assert [p <= ALPHA for p in adjusted] == [False, False, False]


def test_t_tail_by_hand():
    # df = 4: P(|T| < t) = sin θ (1 + cos²θ / 2), θ = atan(t / 2). t = 2: θ = π/4,
    # sin θ = 0.7071068, cos²θ = 0.5 → 0.8838835; upper tail (1 − 0.8838835)/2 = 0.0580583
    assert t_sf(2.0, 4) == pytest.approx(0.0580583, abs=1e-7)
    assert t_sf(-2.0, 4) == pytest.approx(1 - 0.0580583, abs=1e-7)
    assert t_sf(0.0, 7) == pytest.approx(0.5)
    assert t_sf(1.0, 1) == pytest.approx(0.25)  # Cauchy: atan(1)/π = 1/4 below 1 above 0


def test_better_claim_by_hand():
    j = judge([0.02, 0.01, 0.0, 0.03, 0.02], "better")
    # mean 0.016, sd sqrt(0.00013), se 0.0050990, t = 3.137858; df 4, θ = atan(1.568929)
    # sin θ = 0.843272, cos²θ = 0.288889 → P(|T|<t) = 0.965077, two-sided p = 0.034923
    assert j["mean"] == pytest.approx(0.016)
    assert j["ci_low"] == pytest.approx(0.00184, abs=1e-5)
    assert j["p_value"] == pytest.approx(0.034923, abs=1e-5)
    assert j["verdict"] == "supported" and j["outcome"] == "supported"
    worse = judge([-x for x in [0.02, 0.01, 0.0, 0.03, 0.02]], "better")
    assert worse["verdict"] == "contradicted"
    assert judge([0.02, 0.01, 0.0, 0.03, 0.02], "worse")["verdict"] == "contradicted"
    assert judge([0.02, -0.03, 0.01, 0.0, 0.01], "better")["verdict"] == "not_shown"


def test_comparable_needs_the_whole_interval_inside_the_margin():
    tight = [0.001, -0.002, 0.003, 0.0, 0.002]  # mean 0.0008, CI well inside ±0.01
    assert judge(tight, "comparable", margin=1.0)["verdict"] == "supported"
    assert judge(tight, "comparable", margin=0.1)["verdict"] == "not_shown"
    far = [d - 0.03 for d in tight]  # CI around −2.9 points, wholly beyond −1
    assert judge(far, "comparable", margin=1.0)["verdict"] == "contradicted"
    wide = [0.02, -0.03, 0.01, 0.0, 0.01]  # straddles the margin
    assert judge(wide, "comparable", margin=1.0)["verdict"] == "not_shown"


def test_few_seeds_or_a_zero_width_interval_give_no_verdict_with_the_reason():
    two = judge([0.0028, 0.0028], "better")  # two seeds, each one test digit better
    assert two["verdict"] == "no_verdict" and two["reason"] == "few_seeds"
    assert two["p_value"] is None
    flat = judge([0.25, 0.25, 0.25], "better")
    assert flat["verdict"] == "no_verdict" and flat["reason"] == "zero_width"
    text = verdict_text("no_verdict", "zero_width")
    assert "zero-width" in text["en"] and "零宽" in text["zh"]


def test_a_raw_p_below_5_percent_exactly_when_the_interval_decides():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(3, 10)
        deltas = [rng.gauss(0.005, 0.01) for _ in range(n)]
        for direction, margin in (("better", 0.0), ("worse", 0.0), ("comparable", 1.0)):
            j = judge(deltas, direction, margin)
            if abs(j["p_value"] - ALPHA) < 1e-6:
                continue  # on the edge, float rounding may fall either way
            assert (j["p_value"] < ALPHA) == (j["verdict"] != "not_shown"), (deltas, direction)
            if j["verdict"] != "not_shown":
                assert j["verdict"] == j["outcome"]


def test_adjust_keeps_no_verdicts_and_holms_the_rest():
    js = [judge([0.02, 0.01, 0.0, 0.03, 0.02], "better"),  # p 0.0349
          judge([0.25, 0.25, 0.25], "better"),  # no verdict
          judge([0.03, 0.035, 0.04, 0.032, 0.038], "better")]  # p far below 0.001
    out = adjust(js)
    assert out[1]["adjusted_verdict"] == "no_verdict" and out[1]["adjusted_p_value"] is None
    # Family of two: the tiny p × 2, then 0.0349 × 1 (the larger of the two): both kept.
    assert out[0]["adjusted_p_value"] == pytest.approx(js[0]["p_value"])
    assert out[0]["adjusted_verdict"] == "supported" == out[2]["adjusted_verdict"]
    twice = adjust([js[0], js[0]])  # 0.0349 × 2 = 0.0698 > 0.05: the raw verdict goes
    assert [j["adjusted_verdict"] for j in twice] == ["not_shown", "not_shown"]
    assert twice[0]["verdict"] == "supported"


def test_chance_for_twenty_intervals():
    c = chance(20)
    assert c["expected_false"] == pytest.approx(1.0)
    assert c["p_any_false"] == pytest.approx(1 - 0.95 ** 20)  # 0.6415
    assert "64%" in c["en"] and "64%" in c["zh"] and "1.0" in c["en"]


def test_judged_names_the_comparator_in_both_languages():
    claim = METHODS["crd"].claims[0]
    j = labelled(adjust([judged(claim, [0.01, -0.02, -0.01, -0.015, -0.012])])[0])
    assert j["comparator"] == {"model": "kd_student", "method": "kd", "params": {}}
    assert j["versus"]["zh"] and j["versus"]["en"]
    assert j["label"]["en"] and j["adjusted_label"]["zh"]
    missing = judged(claim, None)
    assert missing["verdict"] == "no_verdict" and missing["reason"] == "missing"


# -- the claims in the method files --------------------------------------------------


def test_every_method_but_the_baseline_states_a_claim():
    assert not METHODS["baseline"].claims
    for method in METHODS.values():
        if method.id != "baseline":
            assert method.claims, method.id


@pytest.mark.parametrize("method", [m for m in METHODS if m != "baseline"])
def test_claims_are_well_formed(method: str):
    m = METHODS[method]
    ids = [c.id for c in m.claims]
    assert len(ids) == len(set(ids))
    for c in m.claims:
        assert isinstance(c, Claim) and c.id.startswith(f"{method}.")
        assert c.zh and c.en and c.where and c.source
        assert c.paper in m.papers, (c.id, c.paper)
        if c.direction == "comparable":
            assert c.margin > 0
        if c.versus.method is not None:
            other = METHODS[c.versus.method]
            other.params.model_validate(c.versus.params)
            assert "student" in other.models
        else:
            assert c.versus.model in m.models
        if c.condition is not None:
            field = m.params.model_fields[c.condition.param]
            assert field is not None
            for value in c.condition.grid:  # every grid point is a valid parameter
                m.params.model_validate({c.condition.param: value})
            assert any(c.condition.holds_at(v) for v in c.condition.grid)


def test_the_corrected_and_the_doubted_claims():
    by_id = {c.id: c for m in METHODS.values() for c in m.claims}
    assert by_id["ls_teacher.kd"].direction == "worse"
    assert by_id["ls_teacher.kd"].versus.method is None  # its own control: KD, plain teacher
    assert "notes" in by_id["msd.byot"].where
    for cid in ("fitnets.kd", "vid.kd", "crd.kd", "dkd.kd", "tfkd_self.kd", "tfkd_reg.kd"):
        assert by_id[cid].versus.method == "kd"
    assert by_id["tfkd_reg.lsr"].versus.method == "lsr"
    assert by_id["kd.little_data"].condition.param == "train_fraction"
    assert by_id["dkd.beta"].condition.param == "beta"
    assert by_id["fsp.fast"].condition.param == "epochs"
    assert by_id["kd.ce"].versus == CE_CONTROL


def test_claims_module_imports_no_torch():
    code = ("import sys; import app.distill.claims, app.distill.methods; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_nan_deltas_are_refused():
    with pytest.raises(ValueError):
        judge([0.1, math.nan, 0.0], "better")
