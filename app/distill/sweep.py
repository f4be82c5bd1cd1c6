"""Sweeps (torch-free): when does a method work? One parameter over a grid declared in
the method's file, each grid point a k-seed run paired against its control, and a
verdict per point, Holm-adjusted across the points.

A sweep rides in a run's parameters as ``params["sweep"] = {"param": ..., "values":
[...]}``, so it goes through the same queue, limits, token, history and CSV as any
run; ``split_sweep`` is the one place that reads it (the run service when it admits
the run, the trainer when it trains it).

Which arms a sweep can train once: the CE control depends on what every run has
(optimiser, data, epochs) and on what the method lists in ``control_params``; a
swept parameter outside those leaves the control unchanged, so it is trained at the
first point and its per-seed numbers are reused at the others (a test holds the
reuse exact). A pretrained teacher is cached per seed on disk and never depends on
a student parameter, so every point after the first loads it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.distill.params import LockstepParams
from app.distill.spec import Method
from app.distill.stats import _central_prob

#: The verdicts a point can get: the interval's, plus one for no evidence. {key: (en, zh)}
POINT_VERDICTS = {
    "beats": ("beats the control", "优于对照"),
    "worse": ("worse than the control", "不如对照"),
    "unclear": ("no clear difference at this scale", "此规模下无明显差异"),
    "no_verdict": ("no verdict: under 3 seeds or a zero-width interval",
                   "不下结论：种子少于 3 个，或区间宽度为零"),
}
MAX_POINTS = 8
FAMILY_ALPHA = 0.05
# What the plain CE control of every method depends on: the fields of a run.
CONTROL_COMMON = frozenset(LockstepParams.model_fields) - {"seed", "seeds"}


class SweepSpec(BaseModel):
    """The sweep a run asks for: a parameter with a declared grid, and the grid's
    values to train (all of them when omitted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    param: str = Field(description="A parameter of the method that declares a grid.")
    values: tuple[float, ...] | None = Field(
        None, description="Points of the declared grid to train; all when omitted."
    )


class SweepError(ValueError):
    """A sweep the method cannot run; `field` names what is wrong, for a 422."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def control_params(method: Method) -> frozenset[str]:
    """The parameters the method's control arm depends on."""
    return CONTROL_COMMON | method.control_params


def reused_arms(method: Method, param: str) -> tuple[str, ...]:
    """The arms a sweep over `param` trains once and reuses at every point."""
    if "baseline" in method.models and param not in control_params(method):
        return ("baseline",)
    return ()


def sweep_values(method: Method, spec: SweepSpec) -> tuple[float, ...]:
    grid = method.grids.get(spec.param)
    if grid is None:
        declared = ", ".join(method.grids) or "none"
        raise SweepError("sweep.param", f"{method.id} declares no grid for {spec.param!r} "
                                        f"(grids: {declared})")
    values = grid if spec.values is None else spec.values
    off_grid = [v for v in values if v not in grid]
    if off_grid:
        raise SweepError("sweep.values", f"{off_grid} not on the declared grid {list(grid)}")
    if len(set(values)) != len(values) or not 2 <= len(values) <= MAX_POINTS:
        raise SweepError("sweep.values", f"a sweep needs 2 to {MAX_POINTS} distinct points")
    return tuple(values)


def split_sweep(method: Method, params: dict[str, Any]) -> tuple[BaseModel, dict | None]:
    """A run's parameters as the method's model, and its sweep (param, values) or None.
    Raises ValidationError for the method's own fields, SweepError for the sweep.
    The swept parameter's value in `params` is the grid's first point, so the model
    holds the parameters every point shares."""
    params = dict(params)
    raw = params.pop("sweep", None)
    if raw is None:
        return method.params.model_validate(params), None
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise SweepError("sweep", exc.errors()[0]["msg"]) from None
    values = sweep_values(method, spec)
    model = method.params.model_validate({**params, spec.param: values[0]})
    return model, {"param": spec.param, "values": list(values)}


# -- judging the points ------------------------------------------------------------


def two_sided_p(deltas: Sequence[float]) -> float | None:
    """The paired t-test's two-sided p-value of mean Δ = 0; None below 3 seeds or
    for a zero-width interval, which give no verdict."""
    n = len(deltas)
    if n < 3:
        return None
    mean = math.fsum(deltas) / n
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in deltas) / (n - 1))
    if sd == 0:
        return None
    t = abs(mean) / (sd / math.sqrt(n))
    return max(0.0, 1.0 - _central_prob(math.atan(t / math.sqrt(n - 1)), n - 1))


def holm(pvalues: Sequence[float | None], alpha: float = FAMILY_ALPHA) -> list[bool]:
    """Holm's step-down at family-wise `alpha`: which hypotheses are rejected. A None
    (no test) is never rejected and does not count towards the family."""
    tested = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    rejected = [False] * len(pvalues)
    for rank, (p, i) in enumerate(tested):
        if p > alpha / (len(tested) - rank):
            break
        rejected[i] = True
    return rejected


def judge_points(points: list[dict]) -> list[dict]:
    """Each point's raw verdict (its 95% CI) beside its Holm-adjusted one (across the
    sweep's points): 'beats'/'worse' only where Holm rejects Δ = 0 too."""
    pvalues = [two_sided_p(p["delta"]["deltas"]) if p.get("delta") else None for p in points]
    rejected = holm(pvalues)
    for point, p, reject in zip(points, pvalues, rejected, strict=True):
        delta = point.get("delta")
        point["p"] = p
        if delta is None:
            point["verdict_raw"] = point["verdict_holm"] = None
            continue
        raw = delta["verdict"] if p is not None else "no_verdict"
        point["verdict_raw"] = raw
        point["verdict_holm"] = raw if reject or raw not in ("beats", "worse") else "unclear"
        if p is None:
            point["verdict_holm"] = "no_verdict"
    return points
