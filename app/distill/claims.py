"""What the papers claim, and how a run's paired seeds judge it (torch-free).

A **claim** is one sentence of a paper about its method against a **comparator**:
the run's own control arm, or another method's student at that method's defaults
(the KD student with the same teacher, LSR, BYOT), trained on the same seeds, so on
the same splits, initial weights and batches. Its direction is better, worse, or
comparable within a margin in points; a conditional claim names the parameter and
the range it is about.

The **verdict** comes from the 95% interval of the paired per-seed Δ (method −
comparator, fractions of the test set): *supported* when the interval lies on the
claimed side (for "comparable": wholly inside ±margin), *contradicted* when it lies
on the other side (wholly beyond the margin), else *not shown at this scale*. Fewer
than 3 seeds, or a zero-width interval (every seed the same Δ), gives no verdict,
with the reason. Many claims shown together are judged again by Holm's step-down
procedure at a family-wise 5% (``adjust``), from the p-values that match the
intervals: a raw p < 0.05 exactly when the 95% interval decides.

Reader-facing strings come as {"zh": ..., "en": ...} pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.distill.stats import t_quantile, t_sf

ALPHA = 0.05
MIN_SEEDS = 3
#: Points within which "comparable" counts, where a paper says comparable and gives
#: no number: ours, stated with each such claim.
COMPARABLE_MARGIN = 1.0
Direction = Literal["better", "worse", "comparable"]
Verdict = Literal["supported", "contradicted", "not_shown", "no_verdict"]

#: verdict → {"zh", "en"}
VERDICT_TEXT: dict[str, dict[str, str]] = {
    "supported": {"zh": "支持论文的说法", "en": "supported"},
    "contradicted": {"zh": "与论文的说法相反", "en": "contradicted"},
    "not_shown": {"zh": "此规模下未能显示", "en": "not shown at this scale"},
    "no_verdict": {"zh": "不下结论", "en": "no verdict"},
}
#: why no verdict → {"zh", "en"}
REASON_TEXT: dict[str, dict[str, str]] = {
    "few_seeds": {"zh": f"少于 {MIN_SEEDS} 个种子，区间说明不了什么",
                  "en": f"fewer than {MIN_SEEDS} seeds: the interval says nothing"},
    "zero_width": {"zh": "每个种子的 Δ 完全相同：零宽区间不是证据",
                   "en": "every seed gave the same Δ: a zero-width interval is no evidence"},
    "missing": {"zh": "这次运行没有训练该对照臂", "en": "this run did not train that arm"},
}
DIRECTION_TEXT = {
    "better": {"zh": "优于", "en": "better than"},
    "worse": {"zh": "不如", "en": "worse than"},
    "comparable": {"zh": "相当于", "en": "comparable to"},
}


class Versus(BaseModel):
    """A comparator. ``method`` None: the run's own control arm (``model``, by default
    "baseline"). Otherwise the student of ``method`` at its defaults changed by
    ``params``, trained on the run's seeds with the run's data and optimiser."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    model: str = "baseline"
    zh: str
    en: str

    @property
    def arm(self) -> str:
        """The model name its per-seed numbers have in the run's summary."""
        if self.method is None:
            return self.model
        extra = "".join(f"_{k}{v}" for k, v in sorted(self.params.items()))
        return f"{self.method}{extra}_student"


CE_CONTROL = Versus(zh="纯交叉熵对照", en="the plain-CE control")
STAGED_CE_CONTROL = Versus(zh="按计算量匹配的交叉熵对照", en="the compute-matched CE control")
DEEPEST_CE_CONTROL = Versus(zh="只用最深出口交叉熵训练的同一网络",
                            en="the same network trained with CE on its deepest exit")
PLAIN_TEACHER_KD = Versus(zh="从普通教师做 KD 的对照", en="KD from the plain teacher (the control)")
KD_STUDENT = Versus(method="kd", zh="同一教师的 KD 学生", en="the KD student with the same teacher")
LSR_STUDENT = Versus(method="lsr", zh="LSR（标签平滑）学生", en="the LSR (label smoothing) student")
BYOT_STUDENT = Versus(method="byot", zh="BYOT 的最深出口", en="BYOT's deepest exit")


class Condition(BaseModel):
    """The parameter a conditional claim is about, the range where the paper makes
    it, and the grid a sweep measures (fixed here, before any result is seen)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    param: str
    low: float
    high: float
    grid: tuple[float, ...]
    zh: str
    en: str

    def holds_at(self, value: float) -> bool:
        return self.low <= value <= self.high


class Claim(BaseModel):
    """One claim of one paper about a method, and where the paper makes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    zh: str
    en: str
    versus: Versus
    direction: Direction
    margin: float = Field(0.0, ge=0.0, description="points; for 'comparable' only")
    paper: str  # arXiv id or title, as Method.papers
    where: str  # section, table or figure of the paper (or "the notes")
    source: str = ""  # what we checked it against, and any correction
    condition: Condition | None = None

    def text(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


# -- judging one claim -------------------------------------------------------------


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = math.fsum(values) / n
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


def _two_sided(t: float, df: int) -> float:
    return min(1.0, 2.0 * t_sf(abs(t), df))


def judge(deltas: Sequence[float], direction: Direction, margin: float = 0.0) -> dict:
    """The claim's raw verdict from the paired Δ (fractions; ``margin`` in points).

    ``p_value`` is the p-value of the outcome the interval can decide, scaled so that
    p < 0.05 exactly when the 95% interval decides it: two-sided against Δ = 0 for
    better/worse; for comparable the smaller of the equivalence test (both one-sided
    tests against ±margin, doubled) and the test of lying beyond the margin (doubled);
    ``outcome`` is the verdict that p-value would give.
    """
    d = [float(x) for x in deltas]
    if any(not math.isfinite(x) for x in d):
        raise ValueError(f"deltas must be finite, got {d}")
    out: dict[str, Any] = {"deltas": d, "n": len(d), "direction": direction,
                           "margin": margin, "mean": None, "sd": None, "ci_low": None,
                           "ci_high": None, "p_value": None, "outcome": None,
                           "verdict": "no_verdict", "reason": None}
    if len(d) < MIN_SEEDS:
        out["mean"] = math.fsum(d) / len(d) if d else None
        return out | {"reason": "few_seeds"}
    mean, sd = _mean_sd(d)
    out |= {"mean": mean, "sd": sd}
    if sd == 0.0:
        return out | {"ci_low": mean, "ci_high": mean, "reason": "zero_width"}
    df, se = len(d) - 1, sd / math.sqrt(len(d))
    half = t_quantile(1.0 - ALPHA / 2, df) * se
    lo, hi = mean - half, mean + half
    out |= {"ci_low": lo, "ci_high": hi}
    if direction == "comparable":
        m = margin / 100.0
        p_in = min(1.0, 2.0 * max(t_sf((mean + m) / se, df), t_sf((m - mean) / se, df)))
        p_out = min(1.0, 2.0 * min(t_sf((mean - m) / se, df), t_sf((-m - mean) / se, df)))
        inside, outside = -m < lo and hi < m, lo > m or hi < -m
        p, outcome = (p_in, "supported") if p_in <= p_out else (p_out, "contradicted")
        verdict = "supported" if inside else "contradicted" if outside else "not_shown"
    else:
        claimed = 1 if direction == "better" else -1
        p = _two_sided(mean / se, df)
        outcome = "supported" if claimed * mean > 0 else "contradicted"
        side = 1 if lo > 0 else -1 if hi < 0 else 0  # where the interval lies, if clear of 0
        verdict = ("not_shown" if side == 0 else
                   "supported" if side == claimed else "contradicted")
    return out | {"p_value": p, "outcome": outcome, "verdict": verdict}


# -- many claims at once -------------------------------------------------------------


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input's order: sorted ascending,
    p_(i) · (m − i + 1) (i from 1), made monotone and capped at 1. Rejecting where
    the adjusted value is ≤ α keeps the family-wise error at α."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        p = float(p_values[i])
        if not (0.0 <= p <= 1.0):
            raise ValueError(f"p-values must lie in [0, 1], got {p}")
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def adjust(judgements: Sequence[dict]) -> list[dict]:
    """Each judgement with ``adjusted_p_value`` and ``adjusted_verdict``: Holm across
    those that have a p-value (the family); one without keeps its no-verdict."""
    family = [i for i, j in enumerate(judgements) if j.get("p_value") is not None]
    adjusted = holm([judgements[i]["p_value"] for i in family])
    out = [dict(j, adjusted_p_value=None, adjusted_verdict=j["verdict"]) for j in judgements]
    for i, p in zip(family, adjusted, strict=True):
        decided = p <= ALPHA
        out[i] |= {"adjusted_p_value": p,
                   "adjusted_verdict": out[i]["outcome"] if decided else "not_shown"}
    return out


def chance(count: int) -> dict[str, Any]:
    """What chance alone gives for ``count`` independent 95% intervals where no
    method differs from its comparator: the expected number of false verdicts, the
    chance of at least one, both sentences; Holm keeps the latter at 5% or below."""
    expected = ALPHA * count
    at_least_one = 1.0 - (1.0 - ALPHA) ** count
    pct = round(100 * at_least_one)
    return {
        "count": count, "expected_false": expected, "p_any_false": at_least_one,
        "zh": f"本页有 {count} 个 95% 区间：即使所有方法都与对照毫无差别，单凭偶然平均也会有 "
              f"{expected:.1f} 个给出结论（至少一个的概率 {pct}%）。Holm 校正后的结论把"
              f"出现任何一个假结论的概率控制在 5% 以内。",
        "en": f"{count} 95% intervals on this page: if no method differed from its "
              f"comparator, chance alone would give {expected:.1f} false verdicts on "
              f"average ({pct}% chance of at least one). The Holm-adjusted verdicts keep "
              f"the chance of any false one at 5% or less.",
    }


def verdict_text(verdict: str, reason: str | None = None) -> dict[str, str]:
    """The verdict in both languages, with the reason where there is none."""
    text = dict(VERDICT_TEXT[verdict])
    if verdict == "no_verdict" and reason in REASON_TEXT:
        r = REASON_TEXT[reason]
        text = {"zh": f"{text['zh']}：{r['zh']}", "en": f"{text['en']}: {r['en']}"}
    return text


def sentence(claim: Claim, method_title: str = "") -> dict[str, str]:
    """"<method> better than <comparator>" in both languages, comparator named."""
    d = DIRECTION_TEXT[claim.direction]
    tail_zh = f"（±{claim.margin:g} 个百分点内）" if claim.direction == "comparable" else ""
    tail_en = f" (within ±{claim.margin:g} points)" if claim.direction == "comparable" else ""
    who = method_title or claim.id.split(".")[0]
    return {"zh": f"{who} {d['zh']}{claim.versus.zh}{tail_zh}",
            "en": f"{who} {d['en']} {claim.versus.en}{tail_en}"}


def judged(claim: Claim, deltas: Sequence[float] | None, swept: dict | None = None) -> dict:
    """A claim's JSON-ready judgement on one run (no adjustment yet): the claim's
    identity, comparator and wording beside the numbers; ``deltas`` None when the
    run lacks the comparator's arm."""
    if deltas is None:
        j = {"deltas": [], "n": 0, "mean": None, "sd": None, "ci_low": None,
             "ci_high": None, "p_value": None, "outcome": None, "verdict": "no_verdict",
             "reason": "missing", "direction": claim.direction, "margin": claim.margin}
    else:
        j = judge(deltas, claim.direction, claim.margin)
    versus = claim.versus
    return j | {"claim": claim.id, "statement": {"zh": claim.zh, "en": claim.en},
                "arm": "student",
                "comparator": {"model": versus.arm, "method": versus.method,
                               "params": versus.params},
                "versus": {"zh": versus.zh, "en": versus.en},
                "where": claim.where, "paper": claim.paper, "swept": swept}


def labelled(j: dict) -> dict:
    """A judgement with its raw and adjusted verdicts spelt out in both languages."""
    raw = verdict_text(j["verdict"], j.get("reason"))
    adj = verdict_text(j.get("adjusted_verdict") or j["verdict"], j.get("reason"))
    return j | {"label": raw, "adjusted_label": adj}
