"""A sweep's loop (torch, worker side): each grid point is a k-seed run of the method
(``trainer.train_point``) whose events carry ``point`` (its index), followed by a
``point`` log line and, at the end, one summary with every point judged
(``sweep.judge_points``). The control is trained at the first point only when the
swept parameter leaves it unchanged (``sweep.reused_arms``); later points pair the
student against those same per-seed numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from app.distill.engine import Stopwatch
from app.distill.spec import Method
from app.distill.stats import paired_stats
from app.distill.sweep import comparator_arms, judge_points, point_line, reused_arms
from app.distill.trainer import train_point

#: The accuracies a point's Δ is taken on: final test, and test at best validation.
DELTA_KEYS = {"delta": "test_acc", "delta_best_val": "best_val_test_acc"}


def _tagged(emit: Callable[[dict], None], index: int) -> Callable[[dict], None]:
    def emit_point(event: dict) -> None:
        emit({**event, "point": index})

    return emit_point


def _reuse_control(summary: dict, control: dict) -> dict:
    """The point's summary paired against the control trained at the first point."""
    per_seed = {**summary["per_seed"], "baseline": control}
    student = per_seed["student"]
    out = {**summary, "per_seed": per_seed}
    for name, key in DELTA_KEYS.items():
        out[name] = paired_stats(student[key], control[key]).as_dict()
    out["delta_acc"] = out["delta"]["mean"]
    out["baseline_final_acc"] = sum(control["test_acc"]) / len(control["test_acc"])
    out["models"] = {**summary["models"], "baseline": out["baseline_final_acc"]}
    return out


def _shown(delta: dict | None) -> str:
    if not delta:
        return ""
    if delta["ci_low"] is None:
        return f", Δ {delta['mean']:+.4f}"
    return f", Δ {delta['mean']:+.4f} [{delta['ci_low']:+.4f}, {delta['ci_high']:+.4f}]"


def train_sweep(method: Method, params, sweep: dict, data_dir: Path, device: torch.device,
                emit: Callable[[dict], None]) -> dict:
    """Train every point of the sweep and return the sweep's summary."""
    watch = Stopwatch()
    name, values = sweep["param"], sweep["values"]
    reused = reused_arms(method, name)
    emit({"type": "log", "level": "info",
          "message": f"sweep of {method.id} over {name} = {values}; trained once and "
                     f"reused: {', '.join(reused) or 'nothing'}"})
    points, control = [], None
    for index, value in enumerate(values):
        reuse = control is not None
        point_params = params.model_copy(
            update={name: value, **({"baseline": False} if reuse else {})}
        )
        point_params = type(params).model_validate(point_params.model_dump())
        summary = train_point(method, point_params, data_dir, device, _tagged(emit, index))
        if reuse:
            summary = _reuse_control(summary, control)
        elif reused and params.baseline:
            control = summary["per_seed"]["baseline"]
        points.append({"value": value, **summary})
        last = points[-1:]
        now = [point_line(method, arm, last) for arm in comparator_arms(method, last)]
        emit({"type": "log", "level": "info", "point": index,
              "message": f"point {index + 1}/{len(values)}: {name} = {value}"
                         f"{_shown(summary.get('delta'))}",
              # What the run page's sweep chart draws as each point ends: its Δ against
              # each comparator, raw (Holm needs every point: it comes with the summary).
              "sweep_point": {"index": index, "value": value, "lines": [
                  {"arm": line["arm"], "versus": line["versus"], **line["points"][0]}
                  for line in now]}})
    judged = judge_points(method, name, points)
    return {
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
    }
