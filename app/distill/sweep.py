"""Sweeps (torch-free): when does a method work? One parameter over a grid fixed in
the method's file (a claim's condition, or ``Method.grids``), each grid point a
k-seed run paired against its comparators, each point judged, and the judgements
Holm-adjusted across the points (``claims.adjust``).

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

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.distill import claims
from app.distill.params import LockstepParams
from app.distill.spec import Method

MAX_POINTS = 8
# What the plain CE control of every method depends on: the fields of a run.
CONTROL_COMMON = frozenset(LockstepParams.model_fields) - {"seed", "seeds"}
#: The control line's verdicts, from claims.judge's "better than the control".
CONTROL_VERDICT = {"supported": "beats", "contradicted": "worse", "not_shown": "unclear",
                   "no_verdict": "no_verdict"}
#: {key: (en, zh)}, as stats.VERDICTS; "no_verdict" says why in the reason beside it.
POINT_VERDICTS = {
    "beats": ("beats the control", "优于对照"),
    "worse": ("worse than the control", "不如对照"),
    "unclear": ("no clear difference at this scale", "此规模下无明显差异"),
    "no_verdict": ("no verdict: under 3 seeds or a zero-width interval",
                   "不下结论：种子少于 3 个，或区间宽度为零"),
}


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


def sweep_grids(method: Method) -> dict[str, tuple[float, ...]]:
    """Every grid a sweep of the method may run: its claims' conditions first, then
    the method file's own ``grids``."""
    found: dict[str, tuple[float, ...]] = {}
    for claim in method.claims:
        if claim.condition is not None:
            found.setdefault(claim.condition.param, tuple(claim.condition.grid))
    for name, grid in method.grids.items():
        found.setdefault(name, tuple(grid))
    return found


def control_params(method: Method) -> frozenset[str]:
    """The parameters the method's control arm depends on."""
    return CONTROL_COMMON | method.control_params


#: What a comparator arm (another method's student, arms.py) takes from the run: its
#: data, optimiser, teacher recipe (arms.CARRIED, which imports torch: a test holds the
#: two equal) and step count; nothing else of the run changes it.
ARM_DEPENDS = frozenset({"seed", "seeds", "train_fraction", "batch_size", "lr",
                         "weight_decay", "teacher_epochs", "epochs", "stage1_epochs", "arms"})


def reused_arms(method: Method, param: str) -> tuple[str, ...]:
    """The arms a sweep over `param` trains once and reuses at every point: the
    control where the parameter leaves it unchanged, and the comparator arms (the
    KD student of a DKD sweep over β) where it is none of theirs."""
    out = []
    if "baseline" in method.models and param not in control_params(method):
        out.append("baseline")
    if param not in ARM_DEPENDS:
        out += [versus.arm for versus in method.arms]
    return tuple(out)


def sweep_values(method: Method, spec: SweepSpec) -> tuple[float, ...]:
    grids = sweep_grids(method)
    grid = grids.get(spec.param)
    if grid is None:
        declared = ", ".join(grids) or "none"
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


def _deltas(point: dict, arm: str) -> list[float] | None:
    per_seed = point.get("per_seed") or {}
    if "student" not in per_seed or arm not in per_seed:
        return None
    student, other = per_seed["student"]["test_acc"], per_seed[arm]["test_acc"]
    return [s - o for s, o in zip(student, other, strict=True)]


def _versus_of(method: Method, arm: str) -> dict[str, str]:
    for claim in method.claims:
        if claim.versus.arm == arm:
            return {"zh": claim.versus.zh, "en": claim.versus.en}
    return {"zh": "对照", "en": "the control"}


def comparator_arms(method: Method, points: list[dict]) -> list[str]:
    """The comparators a sweep draws a line for: the control, then each other arm its
    claims compare against, where the run trained it."""
    arms = ["baseline", *(c.versus.arm for c in method.claims if c.versus.method)]
    trained = {arm for p in points for arm in (p.get("per_seed") or {})}
    return [arm for arm in dict.fromkeys(arms) if arm in trained]


def point_line(method: Method, arm: str, points: list[dict]) -> dict:
    """The student's Δ against one comparator at every point, each judged as "better
    than it", raw and Holm-adjusted across the points."""
    judged = claims.adjust([
        claims.judge(d, "better") if (d := _deltas(p, arm)) is not None
        else claims.judge([], "better") | {"reason": "missing"}
        for p in points
    ])
    return {"arm": arm, "versus": _versus_of(method, arm), "points": [
        {"value": p["value"], "mean": j["mean"], "ci_low": j["ci_low"], "ci_high": j["ci_high"],
         "p": j["p_value"], "p_holm": j["adjusted_p_value"], "reason": j["reason"],
         "verdict_raw": CONTROL_VERDICT[j["verdict"]],
         "verdict_holm": CONTROL_VERDICT[j["adjusted_verdict"]]}
        for p, j in zip(points, judged, strict=True)
    ]}


def judge_points(method: Method, param: str, points: list[dict]) -> dict:
    """The sweep's judgements. ``lines``: one per comparator (the control first), the
    student's Δ at each point with its raw verdict and its Holm-adjusted one (across
    the points). ``claims``: for each of the method's claims, its judgements over the
    points (comparator named), Holm-adjusted across the points; ``in_range`` marks the
    points inside a conditional claim's range (None: the claim names no range of
    this parameter)."""
    lines = [point_line(method, arm, points) for arm in comparator_arms(method, points)]
    claim_lines = []
    for claim in method.claims:
        judged = [claims.judged(claim, _deltas(p, claim.versus.arm),
                                swept={"param": param, "value": p["value"]})
                  for p in points]
        condition = claim.condition
        for j in judged:
            j["in_range"] = (condition.holds_at(j["swept"]["value"])
                             if condition is not None and condition.param == param else None)
        claim_lines.append({"claim": claim.id, "comparator": claim.versus.arm,
                            "versus": {"zh": claim.versus.zh, "en": claim.versus.en},
                            "statement": {"zh": claim.zh, "en": claim.en},
                            "points": [claims.labelled(j) for j in claims.adjust(judged)]})
    return {"lines": lines, "claims": claim_lines}
