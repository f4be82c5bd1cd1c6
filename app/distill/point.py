"""One point of a demo: the method's k seeds trained together, and their summary
(per-seed results of every model, the paired Δ, the claims judged). ``trainer.train``
calls it for a plain run; ``sweeper`` for each grid point or comparison side.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import ValidationError

from app.distill.arms import arm_params, train_arms
from app.distill.claims import adjust, judged, labelled
from app.distill.data import load_split
from app.distill.engine import Context, Emitter, Stopwatch
from app.distill.events import (
    SUMMARY_VERSION,
    Comparison,
    Paired,
    SeedResults,
    SplitSizes,
    Summary,
    TrainerEvent,
)
from app.distill.loops import Result
from app.distill.methods import METHODS, Method
from app.distill.stats import arm_stats, paired_stats
from app.distill.teacher_cache import estimate_s, record_cost, steps_cost_key


def train_point(method: Method, params, data_dir: Path, device: torch.device,
                emit: Callable[[TrainerEvent], None]) -> Summary:
    """Train the method at `params` over its seeds; its summary (no `done` event)."""
    watch = Stopwatch()
    seeds = params.seed_list()
    split = load_split(seeds, params.train_fraction, device)
    emitter = Emitter(emit)
    sizes = SplitSizes(**split.sizes())
    emitter.log(
        f"{method.id} on {device.type} ({torch.get_num_threads()} threads), seeds "
        f"{seeds[0]}–{seeds[-1]}: {sizes.train} training, {sizes.val} validation, "
        f"{sizes.test} test digits per seed"
    )
    ctx = Context(params, seeds, split, device, data_dir, emitter)
    # Every phase start says how many steps the run's own phases take in all and what
    # they took last time (teachers apart: each says its own), so the page can show
    # one bar and one ETA for the whole run.
    steps = planned_steps(method, params, len(ctx.batches()))
    cost_key = steps_cost_key(method.id, len(seeds))
    estimate = estimate_s(data_dir, cost_key, steps, device.type)
    emitter.plan = {"run_steps": steps} | ({} if estimate is None else {"run_estimate_s": estimate})
    result = method.recipe(ctx)
    arms = train_arms(method.id, ctx)
    wall = watch.seconds()
    record_cost(data_dir, cost_key, wall - ctx.shared.get("teacher_s", 0.0), steps,
                device.type, torch.get_num_threads())
    return summarize(method.id, seeds, sizes, result, wall, arms, params)


def planned_steps(method: Method, params, per_epoch: int) -> int:
    """The optimiser steps of a run's own phases (stage 1 and train) and of its
    comparator arms', at ``per_epoch`` steps an epoch; teachers not counted."""
    def own(p) -> int:
        return (p.epochs + getattr(p, "stage1_epochs", 0)) * per_epoch

    total = own(params)
    if getattr(params, "arms", False):
        for versus in method.arms:
            try:
                total += own(arm_params(params, versus))
            except ValidationError:
                continue  # not trained (train_arms says so)
    return total


def per_model(result: Result) -> dict[str, SeedResults]:
    """Every model's per-seed accuracies: final validation and test, and test at the
    model's best validation epoch (a frozen teacher's are its fixed scores)."""
    last = result.history[-1]
    out = {}
    for name, final in result.final_test.items():
        epochs = result.best_epochs.get(name, [len(result.history)] * len(final["acc"]))
        out[name] = SeedResults(
            test_acc=final["acc"],
            val_acc=last[name]["acc"],
            best_val_epoch=epochs,
            best_val_test_acc=result.best_test[name]["acc"],
        )
    return out


def summarize(method: str, seeds: list[int], sizes: SplitSizes, result: Result,
              wall_s: float, arms: dict[str, Result] | None = None,
              params=None) -> Summary:
    """Per-seed test accuracies of every model (the comparator arms' students under
    their arm names), the paired Δ of the student against the baseline with its 95%
    CI and verdict (final models, and each at its best validation epoch), their
    means, the wall time, and every claim of the method judged on this run."""
    models = per_model(result)
    for name, arm in (arms or {}).items():
        models[name] = per_model(arm)["student"]

    def mean(name: str) -> float | None:
        return arm_stats(models[name].test_acc)["mean"] if name in models else None

    def delta(key: str) -> Paired | None:
        if "baseline" not in models:
            return None
        student, baseline = models["student"], models["baseline"]
        return Paired.of(paired_stats(getattr(student, key), getattr(baseline, key)))

    final_delta = delta("test_acc")
    return Summary(
        version=SUMMARY_VERSION,
        method=method,
        seeds=seeds,
        split=sizes,
        final_acc=mean("student"),
        baseline_final_acc=mean("baseline"),
        delta_acc=final_delta.mean if final_delta else None,
        teacher_acc=mean("teacher"),
        models={name: mean(name) for name in models},
        per_seed=models,
        delta=final_delta,
        delta_best_val=delta("best_val_test_acc"),
        wall_s=round(wall_s, 3),
        comparisons=comparisons(method, params, models) if params is not None else [],
        versus=None,  # set by a run against another method (sweeper.train_versus)
        sweep=None,  # set by a sweep (sweeper.train_sweep); both on the wire as null
    )


def comparisons(method_id: str, params, per_seed: dict[str, SeedResults]) -> list[Comparison]:
    """Every claim of the method judged on this run: Δ per seed of the student's final
    test accuracy against the claim's comparator (the run's control or an arm), its
    95% CI and verdict, Holm-adjusted across the run's claims; a conditional claim
    says the value of its parameter here and whether the paper's range holds it."""
    out = []
    student = per_seed["student"].test_acc
    for claim in METHODS[method_id].claims:
        other = per_seed.get(claim.versus.arm)
        deltas = (None if other is None else
                  [a - b for a, b in zip(student, other.test_acc, strict=True)])
        swept = None
        if claim.condition is not None:
            value = getattr(params, claim.condition.param)
            swept = {"param": claim.condition.param, "value": value,
                     "in_range": claim.condition.holds_at(value)}
        out.append(judged(claim, deltas, swept))
    return [Comparison.model_validate(labelled(j)) for j in adjust(out)]
