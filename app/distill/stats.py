"""Paired statistics for "does a distillation method beat its baseline?".

The web process imports this module, so it uses the standard library only: no torch,
no numpy, no scipy. Both arms are run on the same seeds, so the comparison is paired:
per-seed deltas (method - baseline), their mean and a Student-t confidence interval.
The verdict comes from that interval alone; win counts are reported but never decide,
because 4 small wins and 1 large loss are not evidence of an improvement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Verdict key -> (English label, Chinese label).
VERDICTS = {
    "beats": ("beats the baseline", "优于基线"),
    "worse": ("worse than the baseline", "不如基线"),
    "unclear": ("no clear difference at this scale", "此规模下无明显差异"),
    "one_seed": ("one seed: no verdict", "仅一个种子：不下结论"),
    "few_seeds": ("fewer than 3 seeds: no verdict", "少于 3 个种子：不下结论"),
    "zero_width": ("every seed gave the same Δ: no verdict from a zero-width interval",
                   "各种子的 Δ 完全相同：零宽区间不下结论"),
}

_BISECT_STEPS = 200  # far more than float precision needs; the loop stops earlier


def _central_prob(theta: float, df: int) -> float:
    """P(|T| < t) for theta = atan(t / sqrt(df)): Abramowitz & Stegun 26.7.3 / 26.7.4.

    Exact finite sums for integer df, so no table and no special functions are needed.
    All terms are positive and shrink at least by cos^2(theta) each step, so the sum
    stops once the geometric bound on the tail is below double precision.
    """
    s, c = math.sin(theta), math.cos(theta)
    c2 = c * c
    odd = df % 2 == 1
    if odd:
        if df == 1:
            return 2.0 * theta / math.pi
        term, k, last = c, 0, (df - 3) // 2  # terms cos^(2k+1), coefficient 2·4…/(1·3…)
    else:
        term, k, last = 1.0, 0, (df - 2) // 2  # terms cos^(2k), coefficient 1·3…/(2·4…)
    total = term
    while k < last:
        k += 1
        ratio = (2 * k) / (2 * k + 1) if odd else (2 * k - 1) / (2 * k)
        term *= ratio * c2
        total += term
        if s * s > 0 and term < 1e-17 * total * s * s:
            break
    if odd:
        return 2.0 / math.pi * (theta + s * total)
    return s * total


def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t with integer df >= 1 (p in (0,1)).

    Solves P(|T| < t) = 2p - 1 by bisection on theta in [0, pi/2] (a bounded bracket,
    whatever the tail), then maps back with t = sqrt(df) * tan(theta). p < 0.5 uses the
    symmetry t(1-p) = -t(p).
    """
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    if not (math.isfinite(p) and 0.0 < p < 1.0):
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    target = 2.0 * p - 1.0
    lo, hi = 0.0, math.pi / 2
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):  # the bracket can shrink no further in floating point
            break
        if _central_prob(mid, df) < target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(df) * math.tan(0.5 * (lo + hi))


def t_sf(t: float, df: int) -> float:
    """P(T > t) for Student's t with integer df >= 1: the upper tail, from the same
    exact finite sums as ``t_quantile`` (so a p-value and an interval agree)."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    if math.isnan(t):
        raise ValueError("t is NaN")
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    central = _central_prob(math.atan(abs(t) / math.sqrt(df)), df)  # P(|T| < |t|)
    tail = max(0.0, (1.0 - central) / 2.0)
    return tail if t >= 0 else 1.0 - tail


def _check_values(name: str, values: Sequence[float]) -> list[float]:
    """Floats, refusing empty input and NaN/inf: one bad run must not poison a verdict."""
    out = [float(v) for v in values]
    if not out:
        raise ValueError(f"{name} is empty: need at least one value per seed")
    bad = [v for v in out if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{name} has non-finite values (NaN/inf): {bad}")
    return out


def _mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample sd (n - 1); sd is None for one value, where it is undefined."""
    n = len(values)
    mean = math.fsum(values) / n
    if n == 1:
        return mean, None
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


def _verdict(n: int, ci_low: float | None, ci_high: float | None) -> str:
    """From the interval alone: only an interval clear of 0 says anything, and only
    from 3 seeds up and a spread between them (two seeds each one digit better, or
    any seeds all with the same Δ, give a zero-width or near-meaningless interval)."""
    if n == 1 or ci_low is None or ci_high is None:
        return "one_seed"
    if n < 3:
        return "few_seeds"
    if ci_low == ci_high:
        return "zero_width"
    if ci_low > 0:
        return "beats"
    if ci_high < 0:
        return "worse"
    return "unclear"


@dataclass(frozen=True)
class PairedStats:
    """Per-seed deltas (method - baseline), their summary and the verdict."""

    deltas: tuple[float, ...]
    n: int
    mean: float
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    wins: int
    ties: int
    losses: int
    verdict: str
    confidence: float = 0.95

    def label(self, lang: str = "en") -> str:
        """The verdict in English ("en") or Chinese ("zh")."""
        if lang.startswith("zh"):
            return VERDICTS[self.verdict][1]
        if lang.startswith("en"):
            return VERDICTS[self.verdict][0]
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")

    def as_dict(self) -> dict:
        """JSON-ready: plain lists, floats, ints, None and both labels."""
        return {
            "deltas": list(self.deltas),
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "wins": self.wins,
            "ties": self.ties,
            "losses": self.losses,
            "verdict": self.verdict,
            "label_en": self.label("en"),
            "label_zh": self.label("zh"),
            "confidence": self.confidence,
        }


def paired_stats(
    method: Sequence[float],
    baseline: Sequence[float],
    *,
    confidence: float = 0.95,
    tie_tol: float = 1e-9,
) -> PairedStats:
    """Compare method and baseline run on the same seeds (same order).

    The CI is mean ± t_{(1+c)/2, n-1} · sd / sqrt(n). With sd == 0 it collapses to the
    mean: no verdict ("zero_width"); below 3 seeds none either ("few_seeds").
    """
    if not (math.isfinite(confidence) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not (math.isfinite(tie_tol) and tie_tol >= 0):
        raise ValueError(f"tie_tol must be a finite number >= 0, got {tie_tol!r}")
    if len(method) != len(baseline):
        raise ValueError(
            f"method and baseline need one value per seed: {len(method)} != {len(baseline)}"
        )
    m, b = _check_values("method", method), _check_values("baseline", baseline)
    deltas = tuple(x - y for x, y in zip(m, b, strict=True))
    n = len(deltas)
    mean, sd = _mean_sd(deltas)
    ci_low = ci_high = None
    if sd is not None:
        half = t_quantile((1.0 + confidence) / 2.0, n - 1) * sd / math.sqrt(n)
        ci_low, ci_high = mean - half, mean + half
    ties = sum(1 for d in deltas if abs(d) <= tie_tol)
    wins = sum(1 for d in deltas if d > tie_tol)
    return PairedStats(
        deltas=deltas,
        n=n,
        mean=mean,
        sd=sd,
        ci_low=ci_low,
        ci_high=ci_high,
        wins=wins,
        ties=ties,
        losses=n - wins - ties,
        verdict=_verdict(n, ci_low, ci_high),
        confidence=confidence,
    )


def arm_stats(values: Sequence[float]) -> dict:
    """Summary of one arm across seeds: {"mean", "sd" (None for n == 1), "n", "values"}."""
    vals = _check_values("values", values)
    mean, sd = _mean_sd(vals)
    return {"mean": mean, "sd": sd, "n": len(vals), "values": vals}
