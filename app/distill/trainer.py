"""``train(config, emit)``: run one demo over its k seeds and report it through ``emit``.

The same call serves the CLI, the tests, the benchmarks and the web's worker process;
it knows nothing about any of them. Events follow docs/contracts.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from app.distill.arms import train_arms
from app.distill.claims import adjust, judged, labelled
from app.distill.data import load_split
from app.distill.engine import Context, Emitter, Stopwatch
from app.distill.events import (
    SUMMARY_VERSION,
    Comparison,
    DoneEvent,
    Paired,
    SeedResults,
    SplitSizes,
    Summary,
    TrainerEvent,
)
from app.distill.loops import Result
from app.distill.methods import METHODS, Method, RunConfig
from app.distill.plan import plan
from app.distill.stats import arm_stats, paired_stats


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available")
    return torch.device(name)


def train(config: RunConfig | dict, emit: Callable[[TrainerEvent], None]) -> Summary:
    """Validate ``config.params`` with the method's model, train its seeds together,
    emit every event (the models of app/distill/events.py), and return the summary
    (also the payload of the final ``done`` event).

    Raises ``pydantic.ValidationError`` for bad parameters, ``ValueError`` for a
    device that is not there; the same config gives the same metrics on CPU, and seed
    s of a k-seed run the metrics of a 1-seed run from s (to float rounding).
    """
    config = RunConfig.model_validate(config)
    method = METHODS[config.method]
    planned = plan(method, config.params)
    params = planned.params
    device = resolve_device(config.device)
    previous_threads = torch.get_num_threads()
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    try:
        if planned.sweep is not None:
            from app.distill.sweeper import train_sweep  # the sweep's own loop

            summary = train_sweep(method, params, planned.sweep, Path(config.data_dir),
                                  device, emit)
        elif planned.versus is not None:
            from app.distill.sweeper import train_versus

            summary = train_versus(method, params, planned.versus, Path(config.data_dir),
                                   device, emit)
        else:
            summary = train_point(method, params, Path(config.data_dir), device, emit)
        emit(DoneEvent(summary=summary))
        return summary
    finally:
        if config.threads > 0:
            torch.set_num_threads(previous_threads)


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
    result = method.recipe(ctx)
    arms = train_arms(method.id, ctx)
    return summarize(method.id, seeds, sizes, result, watch.seconds(), arms, params)


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
