"""A sweep's and a comparison's loops (torch, worker side).

A sweep: each grid point is a k-seed run of the method (``point.train_point``)
whose events carry ``point`` (its index), a log line with the point's Δ as it ends,
and one summary with every point judged (``sweep.judge_points``). The control is
trained at the first point only when the swept parameter leaves it unchanged
(``sweep.reused_arms``); later points pair the student against those same numbers.

A comparison (``plan.VersusSpec``): the method (point 0), then the comparator's
method on the same seeds (point 1), the two students paired seed by seed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from app.distill import claims
from app.distill.engine import Stopwatch
from app.distill.events import LogEvent, SeedResults, Summary, TrainerEvent, as_event
from app.distill.methods import METHODS
from app.distill.plan import comparator_params
from app.distill.point import comparisons, train_point
from app.distill.spec import Method
from app.distill.stats import paired_stats
from app.distill.sweep import comparator_arms, judge_points, point_line, reused_arms

#: The accuracies a point's Δ is taken on: final test, and test at best validation.
DELTA_KEYS = {"delta": "test_acc", "delta_best_val": "best_val_test_acc"}


Emit = Callable[[TrainerEvent], None]


def _tagged(emit: Emit, index: int, points: int) -> Emit:
    """Every event of one point (one side) with its `point` index added, and how many
    `points` the run has (its page shows one bar for them all)."""

    def emit_point(event: TrainerEvent) -> None:
        emit(as_event({**as_event(event).wire(), "point": index, "points": points}))

    return emit_point


def _point(method: Method, params, data_dir: Path, device: torch.device, emit: Emit) -> dict:
    """One point's summary, as the JSON the sweep's summary nests."""
    return train_point(method, params, data_dir, device, emit).model_dump(mode="json")


def _reuse(summary: dict, trained: dict, method: Method, params) -> dict:
    """The point's summary with the arms trained at the first point put back: the
    control's Δ and the claims' comparisons computed again against them."""
    per_seed = {**summary["per_seed"], **trained}
    student = per_seed["student"]
    out = {**summary, "per_seed": per_seed}
    if "baseline" in trained:
        control = trained["baseline"]
        for name, key in DELTA_KEYS.items():
            out[name] = paired_stats(student[key], control[key]).as_dict()
        out["delta_acc"] = out["delta"]["mean"]
        out["baseline_final_acc"] = sum(control["test_acc"]) / len(control["test_acc"])
    means = {arm: sum(r["test_acc"]) / len(r["test_acc"]) for arm, r in trained.items()}
    out["models"] = {**summary["models"], **means}
    typed = {arm: SeedResults.model_validate(r) for arm, r in per_seed.items()}
    out["comparisons"] = [c.model_dump(mode="json")
                          for c in comparisons(method.id, params, typed)]
    return out


def _shown(delta: dict | None) -> str:
    if not delta:
        return ""
    if delta["ci_low"] is None:
        return f", Δ {delta['mean']:+.4f}"
    return f", Δ {delta['mean']:+.4f} [{delta['ci_low']:+.4f}, {delta['ci_high']:+.4f}]"


def train_sweep(method: Method, params, sweep: dict, data_dir: Path, device: torch.device,
                emit: Emit) -> Summary:
    """Train every point of the sweep and return the sweep's summary."""
    watch = Stopwatch()
    name, values = sweep["param"], sweep["values"]
    reused = reused_arms(method, name)
    emit(LogEvent(message=f"sweep of {method.id} over {name} = {values}; trained once and "
                          f"reused: {', '.join(reused) or 'nothing'}"))
    points: list[dict] = []
    trained: dict = {}  # arm -> its per-seed results from the first point
    for index, value in enumerate(values):
        reuse = bool(trained)
        off = {"baseline": False} if "baseline" in trained else {}
        if reuse and any(arm != "baseline" for arm in trained):
            off["arms"] = False
        point_params = params.model_copy(update={name: value, **off})
        point_params = type(params).model_validate(point_params.model_dump())
        summary = _point(method, point_params, data_dir, device, _tagged(emit, index, len(values)))
        if reuse:
            summary = _reuse(summary, trained, method, point_params)
        else:
            trained = {arm: summary["per_seed"][arm] for arm in reused
                       if arm in summary["per_seed"]}
        points.append({"value": value, **summary})
        last = points[-1:]
        now = [point_line(method, arm, last) for arm in comparator_arms(method, last)]
        emit(LogEvent(
            message=f"point {index + 1}/{len(values)}: {name} = {value}"
                    f"{_shown(summary.get('delta'))}",
            point=index,
            # What the run page's sweep chart draws as each point ends: its Δ against
            # each comparator, raw (Holm needs every point: it comes with the summary).
            sweep_point={"index": index, "value": value, "lines": [
                {"arm": line["arm"], "versus": line["versus"], **line["points"][0]}
                for line in now]},
        ))
    judged = judge_points(method, name, points)
    return Summary.model_validate({
        "method": method.id,
        "seeds": params.seed_list(),
        "sweep": {"param": name, "values": values, "reused": list(reused),
                  "points": points, "lines": judged["lines"], "claims": judged["claims"],
                  "family_alpha": 0.05,
                  "adjustment": "holm"},
        "delta": None,
        "delta_acc": None,
        "final_acc": None,
        "baseline_final_acc": None,
        "wall_s": round(watch.seconds(), 3),
    })


def _controls_equal(own: dict, other: dict) -> bool | None:
    """Whether both sides' CE controls gave the same per-seed numbers: the check that
    the two methods saw the same splits, initial weights and batches (None when a
    side has no control to compare)."""
    a, b = own["per_seed"].get("baseline"), other["per_seed"].get("baseline")
    if a is None or b is None:
        return None
    return a["test_acc"] == b["test_acc"] and a["val_acc"] == b["val_acc"]


def train_versus(method: Method, params, versus: dict, data_dir: Path, device: torch.device,
                 emit: Emit) -> Summary:
    """Train the method (events tagged point 0), then the comparator's method on the
    same seeds (point 1), and pair the two students seed by seed: the run's summary,
    with ``versus`` holding the comparison judged as "method better than comparator"."""
    watch = Stopwatch()
    other_method = METHODS[versus["method"]]
    label = _label(versus)
    emit(LogEvent(message=f"comparison: {method.id} vs {label} on the same seeds"))
    own = _point(method, params, data_dir, device, _tagged(emit, 0, 2))
    other = _point(other_method, comparator_params(versus, params), data_dir, device,
                   _tagged(emit, 1, 2))
    mine, theirs = own["per_seed"]["student"], other["per_seed"]["student"]
    deltas = [a - b for a, b in zip(mine["test_acc"], theirs["test_acc"], strict=True)]
    judged = claims.adjust([claims.judge(deltas, "better")])[0]  # a family of one
    return Summary.model_validate({**own, "wall_s": round(watch.seconds(), 3), "versus": {
        "method": versus["method"], "params": versus["params"], "label": label,
        "student": theirs, "final_acc": other["final_acc"],
        "delta": paired_stats(mine["test_acc"], theirs["test_acc"]).as_dict(),
        "delta_best_val": paired_stats(mine["best_val_test_acc"],
                                       theirs["best_val_test_acc"]).as_dict(),
        "judgement": claims.labelled(judged),
        "controls_equal": _controls_equal(own, other),
    }})


def _label(versus: dict) -> str:
    args = ", ".join(f"{k}={v}" for k, v in versus["params"].items())
    return f"{versus['method']}({args})" if args else versus["method"]
