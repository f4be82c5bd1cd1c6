"""The paired statistics behind "does a method beat its baseline?": t quantiles against the
published t table and closed forms, verdicts on cases worked out by hand, every refusal,
and that the module stays importable without torch."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from app.distill.stats import VERDICTS, PairedStats, arm_stats, paired_stats, t_quantile

REPO_ROOT = Path(__file__).resolve().parents[2]

# More digits of the table values used in the hand computations below.
T_975_DF4 = 2.776445  # two-sided 95%, 4 df (5 seeds)
T_975_DF3 = 3.182446  # two-sided 95%, 3 df (4 seeds)
T_95_DF4 = 2.131847  # one-sided 95% / two-sided 90%, 4 df


# --- t quantiles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "expected"),
    [
        (1, 12.706),
        (2, 4.303),
        (3, 3.182),
        (4, 2.776),
        (5, 2.571),
        (7, 2.365),
        (9, 2.262),
        (19, 2.093),
        (30, 2.042),
    ],
)
def test_t_quantile_two_sided_95_matches_the_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-3)


def test_t_quantile_one_sided_95():
    assert t_quantile(0.95, 4) == pytest.approx(2.132, abs=1e-3)


@pytest.mark.parametrize("p", [0.6, 0.75, 0.9, 0.975, 0.995, 0.9999])
def test_t_quantile_df1_is_the_cauchy_closed_form(p):
    # df = 1 is the Cauchy distribution: t = tan(pi * (p - 1/2)).
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9)


@pytest.mark.parametrize("p", [0.6, 0.75, 0.9, 0.975, 0.995, 0.9999])
def test_t_quantile_df2_closed_form(p):
    # df = 2 inverts in closed form: t = (2p - 1) / sqrt(2 p (1 - p)).
    expected = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert t_quantile(p, 2) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 10, 51])
@pytest.mark.parametrize("p", [0.51, 0.8, 0.975, 0.999])
def test_t_quantile_is_symmetric(p, df):
    assert t_quantile(1 - p, df) == pytest.approx(-t_quantile(p, df), rel=1e-9)
    assert t_quantile(1 - p, df) < 0 < t_quantile(p, df)


@pytest.mark.parametrize("df", [1, 2, 7, 100])
def test_t_quantile_median_is_zero(df):
    assert t_quantile(0.5, df) == 0.0


def test_t_quantile_shrinks_with_df_towards_the_normal():
    values = [t_quantile(0.975, df) for df in (1, 2, 3, 5, 10, 30, 100, 1000)]
    assert values == sorted(values, reverse=True)
    big = t_quantile(0.975, 10_000)
    assert big == pytest.approx(1.960, abs=1e-3)
    assert big > 1.959963  # heavier tails than the normal, whatever the df


@pytest.mark.parametrize("df", [0, -1, 2.5, True])
def test_t_quantile_rejects_bad_df(df):
    with pytest.raises(ValueError, match="df"):
        t_quantile(0.975, df)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, math.nan, math.inf])
def test_t_quantile_rejects_p_outside_0_1(p):
    with pytest.raises(ValueError, match="p must be in"):
        t_quantile(p, 4)


# --- paired_stats: cases worked out by hand -----------------------------------------------


def test_beats_by_hand():
    s = paired_stats([0.92, 0.95, 0.93, 0.96, 0.94], [0.90, 0.94, 0.93, 0.93, 0.92])
    # deltas 0.02, 0.01, 0.00, 0.03, 0.02 -> sum 0.08, mean 0.08 / 5 = 0.016
    # deviations 0.004, -0.006, -0.016, 0.014, 0.004
    # squares 16e-6 + 36e-6 + 256e-6 + 196e-6 + 16e-6 = 520e-6; / (5 - 1) = 130e-6
    sd = math.sqrt(0.00013)  # 0.0114018
    half = T_975_DF4 * sd / math.sqrt(5)  # 2.776445 * 0.0050990 = 0.0141571
    assert s.deltas == pytest.approx((0.02, 0.01, 0.0, 0.03, 0.02), abs=1e-12)
    assert s.n == 5
    assert s.mean == pytest.approx(0.016, abs=1e-12)
    assert s.sd == pytest.approx(0.0114018, abs=1e-7)
    assert s.sd == pytest.approx(sd, rel=1e-9)
    assert s.ci_low == pytest.approx(0.016 - half, abs=1e-6)
    assert s.ci_high == pytest.approx(0.016 + half, abs=1e-6)
    assert s.ci_low == pytest.approx(0.00184, abs=1e-5)
    assert s.ci_high == pytest.approx(0.03016, abs=1e-5)
    assert (s.wins, s.ties, s.losses) == (4, 1, 0)
    assert s.verdict == "beats"
    assert s.label() == "beats the baseline"
    assert s.label("zh") == "优于基线"


def test_four_wins_of_five_but_one_big_loss_is_unclear():
    s = paired_stats([0.92, 0.93, 0.94, 0.95, 0.88], [0.90, 0.91, 0.92, 0.93, 0.93])
    # deltas 0.02, 0.02, 0.02, 0.02, -0.05 -> sum 0.03, mean 0.006
    # deviations 0.014 (x4), -0.056 -> squares 4 * 196e-6 + 3136e-6 = 3920e-6; / 4 = 980e-6
    # standard error sqrt(980e-6 / 5) = sqrt(196e-6) = 0.014; half = 2.776445 * 0.014 = 0.038870
    assert s.mean == pytest.approx(0.006, abs=1e-12)
    assert s.sd == pytest.approx(math.sqrt(0.00098), rel=1e-9)
    assert s.ci_low == pytest.approx(0.006 - T_975_DF4 * 0.014, abs=1e-6)  # -0.032870
    assert s.ci_high == pytest.approx(0.006 + T_975_DF4 * 0.014, abs=1e-6)  # 0.044870
    assert (s.wins, s.ties, s.losses) == (4, 0, 1)
    assert s.mean > 0 and s.ci_low < 0 < s.ci_high
    assert s.verdict == "unclear"  # win counts never decide


def test_worse_by_hand():
    s = paired_stats([0.90, 0.91, 0.89, 0.92], [0.93, 0.93, 0.93, 0.95])
    # deltas -0.03, -0.02, -0.04, -0.03 -> mean -0.12 / 4 = -0.03
    # deviations 0, 0.01, -0.01, 0 -> squares 2e-4; / 3 -> sd = sqrt(2e-4 / 3) = 0.0081650
    # standard error sd / 2 = 0.0040825; half = 3.182446 * 0.0040825 = 0.0129924
    half = T_975_DF3 * math.sqrt(2e-4 / 3) / 2
    assert s.mean == pytest.approx(-0.03, abs=1e-12)
    assert s.sd == pytest.approx(0.0081650, abs=1e-7)
    assert s.ci_low == pytest.approx(-0.03 - half, abs=1e-6)  # -0.0429924
    assert s.ci_high == pytest.approx(-0.03 + half, abs=1e-6)  # -0.0170076
    assert (s.wins, s.ties, s.losses) == (0, 0, 4)
    assert s.verdict == "worse"
    assert s.label("zh") == "不如基线"


def test_two_seeds_hardly_ever_decide():
    s = paired_stats([0.75, 1.0], [0.5, 0.5])
    # deltas 0.25, 0.5 -> mean 0.375; sd = sqrt(2 * 0.125^2 / 1) = 0.1767767
    # standard error 0.1767767 / sqrt(2) = 0.125; half = 12.706205 * 0.125 = 1.588276
    assert s.mean == 0.375
    assert s.ci_low == pytest.approx(0.375 - 12.706205 * 0.125, abs=1e-5)
    assert (s.wins, s.losses) == (2, 0)
    assert s.verdict == "few_seeds"  # two seeds never decide, whatever the interval
    lucky = paired_stats([0.9028, 0.9028], [0.9, 0.9])  # each one test digit better
    assert lucky.verdict == "few_seeds"


def test_confidence_changes_the_interval():
    s = paired_stats(
        [0.92, 0.95, 0.93, 0.96, 0.94], [0.90, 0.94, 0.93, 0.93, 0.92], confidence=0.90
    )
    # same deltas as test_beats_by_hand; t(0.95, 4) = 2.131847
    # half = 2.131847 * 0.0050990 = 0.0108704
    half = T_95_DF4 * math.sqrt(0.00013) / math.sqrt(5)
    assert s.ci_low == pytest.approx(0.016 - half, abs=1e-6)
    assert s.ci_high == pytest.approx(0.016 + half, abs=1e-6)
    assert s.confidence == 0.90
    assert s.as_dict()["confidence"] == 0.90


def test_one_seed_gives_no_verdict():
    s = paired_stats([0.9], [0.8])
    assert s.n == 1
    assert s.deltas == pytest.approx((0.1,), abs=1e-12)
    assert s.mean == pytest.approx(0.1, abs=1e-12)
    assert s.sd is None and s.ci_low is None and s.ci_high is None
    assert (s.wins, s.ties, s.losses) == (1, 0, 0)
    assert s.verdict == "one_seed"
    assert s.label() == "one seed: no verdict"
    d = s.as_dict()
    assert d["sd"] is None and d["ci_low"] is None and d["ci_high"] is None
    assert json.loads(json.dumps(d))["ci_low"] is None


def test_zero_sd_collapses_the_interval_to_the_mean_and_gives_no_verdict():
    # Exact binary fractions, so every delta is exactly 0.25 and the sd exactly 0: a
    # zero-width interval is no evidence, however far from 0 it lies.
    s = paired_stats([0.75, 0.5, 1.0], [0.5, 0.25, 0.75])
    assert s.sd == 0.0
    assert s.ci_low == s.ci_high == s.mean == 0.25
    assert s.verdict == "zero_width"
    worse = paired_stats([0.5, 0.25, 0.75], [0.75, 0.5, 1.0])
    assert worse.ci_low == worse.ci_high == -0.25
    assert worse.verdict == "zero_width"


def test_identical_arms_are_all_ties_and_give_no_verdict():
    s = paired_stats([0.9, 0.8, 0.7], [0.9, 0.8, 0.7])
    assert s.mean == 0.0 and s.sd == 0.0
    assert s.ci_low == s.ci_high == 0.0
    assert (s.wins, s.ties, s.losses) == (0, 3, 0)
    assert s.verdict == "zero_width"


def test_tie_tolerance_counts_small_deltas_as_ties():
    # deltas 0.005, -0.005, 0.02 (up to rounding)
    s = paired_stats([0.905, 0.895, 0.92], [0.9, 0.9, 0.9], tie_tol=0.01)
    assert (s.wins, s.ties, s.losses) == (1, 2, 0)
    strict = paired_stats([0.905, 0.895, 0.92], [0.9, 0.9, 0.9])
    assert (strict.wins, strict.ties, strict.losses) == (2, 0, 1)


def test_deltas_keep_seed_order():
    s = paired_stats([0.5, 0.25, 1.0], [0.25, 0.5, 0.5])
    assert s.deltas == (0.25, -0.25, 0.5)


def test_as_dict_is_json_ready_and_has_both_labels():
    s = paired_stats([0.92, 0.95, 0.93, 0.96, 0.94], [0.90, 0.94, 0.93, 0.93, 0.92])
    d = s.as_dict()
    assert set(d) == {
        "deltas",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "wins",
        "ties",
        "losses",
        "verdict",
        "label_en",
        "label_zh",
        "confidence",
    }
    back = json.loads(json.dumps(d, ensure_ascii=False))
    assert back == d
    assert isinstance(d["deltas"], list)
    assert d["label_en"] == VERDICTS["beats"][0] == "beats the baseline"
    assert d["label_zh"] == VERDICTS["beats"][1] == "优于基线"
    assert d["confidence"] == 0.95
    assert d["verdict"] == "beats"


def test_every_verdict_has_both_labels():
    assert set(VERDICTS) == {"beats", "worse", "unclear", "one_seed", "few_seeds",
                             "zero_width"}
    for en, zh in VERDICTS.values():
        assert en and zh and en != zh


def test_paired_stats_is_frozen():
    s = paired_stats([0.9, 0.8], [0.8, 0.7])
    assert isinstance(s, PairedStats)
    with pytest.raises(AttributeError):
        s.verdict = "beats"  # type: ignore[misc]


def test_label_rejects_unknown_language():
    with pytest.raises(ValueError, match="lang"):
        paired_stats([0.9], [0.8]).label("fr")


# --- refusals -----------------------------------------------------------------------------


def test_unequal_lengths_are_refused():
    with pytest.raises(ValueError, match="one value per seed"):
        paired_stats([0.9, 0.8], [0.9])


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="empty"):
        paired_stats([], [])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_method_values_are_refused(bad):
    with pytest.raises(ValueError, match="non-finite"):
        paired_stats([0.9, bad], [0.9, 0.8])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_baseline_values_are_refused(bad):
    with pytest.raises(ValueError, match="non-finite"):
        paired_stats([0.9, 0.8], [bad, 0.8])


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5, 95, math.nan])
def test_confidence_outside_0_1_is_refused(confidence):
    with pytest.raises(ValueError, match="confidence"):
        paired_stats([0.9, 0.8], [0.8, 0.7], confidence=confidence)


@pytest.mark.parametrize("tie_tol", [-1e-9, math.nan, math.inf])
def test_bad_tie_tolerance_is_refused(tie_tol):
    with pytest.raises(ValueError, match="tie_tol"):
        paired_stats([0.9, 0.8], [0.8, 0.7], tie_tol=tie_tol)


# --- arm_stats ----------------------------------------------------------------------------


def test_arm_stats_by_hand():
    a = arm_stats([0.90, 0.92, 0.94])
    # mean 2.76 / 3 = 0.92; deviations -0.02, 0, 0.02 -> squares 8e-4; / 2 -> sd 0.02
    assert a["mean"] == pytest.approx(0.92, abs=1e-12)
    assert a["sd"] == pytest.approx(0.02, abs=1e-12)
    assert a["n"] == 3
    assert a["values"] == [0.90, 0.92, 0.94]
    assert json.loads(json.dumps(a)) == a


def test_arm_stats_one_value_has_no_sd():
    assert arm_stats([0.9]) == {"mean": 0.9, "sd": None, "n": 1, "values": [0.9]}


@pytest.mark.parametrize("values", [[], [0.9, math.nan], [math.inf]])
def test_arm_stats_refuses_empty_and_non_finite(values):
    with pytest.raises(ValueError, match=r"empty|non-finite"):
        arm_stats(values)


# --- no torch in the web process ----------------------------------------------------------


def test_import_does_not_pull_in_torch():
    code = "import sys, app.distill.stats; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
