"""Training loops that several methods share (torch): the student and its control,
the one-network loop, distillation from a frozen teacher, the multi-exit loop.

Every loop trains the run's k seeds together and returns a ``Result``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from app.distill.engine import (
    Context,
    Evaluation,
    Evaluator,
    Learner,
    Losses,
    Scores,
    Terms,
    Watched,
    ce_step,
    run_phase,
    twin,
    watch,
)
from app.distill.losses import cross_entropy, kd_loss
from app.distill.models import MultiExitCNN, SmallCNN

# A method's terms on one batch for one model: x (k, B, 1, 8, 8), y (k, B) → Terms.
TermsFn = Callable[[nn.Module, Tensor, Tensor], Terms]


@dataclass
class Result:
    """The train phase's validation scores per epoch, every model's test scores (final
    weights, and each seed's best validation epoch) and the frozen teacher's, if any."""

    history: list[Scores]
    final_test: Scores
    best_test: Scores
    best_epochs: dict[str, list[int]]
    teacher: Evaluation | None = None


def train_phase(ctx: Context, batches, step, evaluator: Evaluator,
                teacher: Evaluation | None = None) -> Result:
    """The last phase, ``train``: its history, then test scores from ``evaluator``."""
    history = run_phase(ctx, "train", ctx.params.epochs, batches, step, evaluator)
    final, best = evaluator.test()
    return Result(history, final, best, evaluator.best_epochs(), teacher)


def wants_baseline(ctx: Context) -> bool:
    return bool(getattr(ctx.params, "baseline", False))


def build_student(ctx: Context, factory: Callable[[int], nn.Module] = SmallCNN) -> nn.Module:
    """The student stack; seed i's initial weights depend on seed i only."""
    return ctx.build(factory)


def control(ctx: Context, model: nn.Module, steps: int) -> Learner | None:
    """The plain-CE control: a copy of ``model``'s initial weights trained for
    ``steps`` optimiser steps; None when the run asks for no baseline."""
    return ctx.learner(twin(model), steps) if wants_baseline(ctx) else None


def ce_terms(model: nn.Module, x: Tensor, y: Tensor) -> Terms:
    """Plain CE, named as such too (the run page draws every model's CE on one axis)."""
    loss = cross_entropy(model(x), y)
    return {"ce": loss, "total": loss}


def train_single(
    ctx: Context,
    terms: TermsFn,
    model: nn.Module | None = None,
    base: Learner | None = None,
    fixed: Evaluation | None = None,
    extra: nn.Module | None = None,
) -> Result:
    """The loop of every one-network method: ``terms`` gives the student's loss terms
    on a batch; the control takes a CE step on the same batch. ``model`` replaces the
    fresh student and ``base`` its fresh control (FSP trains both in stage 1 first);
    ``fixed`` scores (a frozen teacher's) join every epoch; ``extra`` (a regressor, an
    embedding) trains with the student in its optimiser and is never scored."""
    p = ctx.params
    batches = ctx.batches()
    steps = p.epochs * len(batches)
    model = build_student(ctx) if model is None else model
    if base is None:
        base = control(ctx, model, steps)
    trained = list(model.parameters()) + (list(extra.parameters()) if extra else [])
    student = ctx.learner(model, steps, parameters=trained)
    models = {"student": model} | ({"baseline": base.model} if base else {})

    def step(idx: Tensor) -> Losses:
        x, y = ctx.split.batch(idx)
        out = {"student": terms(model, x, y)}
        student.update(out["student"]["total"])
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    return train_phase(ctx, batches, step, Evaluator(watch(models), ctx.split, fixed), fixed)


def distill_from(ctx: Context, teacher: nn.Module, scores: Evaluation,
                 model: nn.Module | None = None, base: Learner | None = None) -> Result:
    """(1 − α)·CE + α·kd_loss against a frozen teacher stack (seed i's teacher
    teaches seed i's student); ``model`` and ``base`` as in ``train_single``."""
    p = ctx.params
    alpha, temp = p.alpha, p.temperature

    def terms(model: nn.Module, x: Tensor, y: Tensor) -> Terms:
        with torch.no_grad():
            t_logits = teacher(x)
        logits = model(x)
        ce = cross_entropy(logits, y)
        kd = kd_loss(logits, t_logits, temp)
        return {"total": (1 - alpha) * ce + alpha * kd, "ce": ce, "kd": kd}

    return train_single(ctx, terms, model, base, scores)


def stage_one(
    ctx: Context, model: nn.Module, scores: Evaluation, parameters: list[nn.Parameter],
    terms: Callable[[Tensor], Terms],
) -> Learner | None:
    """Stage 1 of a two-stage method (FSP, FitNets): only ``parameters`` learn, from
    ``terms(x)`` (its weighted ``total``). Returns the control, which takes a CE step on
    every batch of both stages (compute-matched) and goes on into stage 2."""
    p, split = ctx.params, ctx.split
    batches = ctx.batches(offset=1)
    base = control(ctx, model, (p.stage1_epochs + p.epochs) * len(batches))
    learner = ctx.learner(model, p.stage1_epochs * len(batches), parameters=parameters)
    models = {"student": model} | ({"baseline": base.model} if base else {})

    def step(idx: Tensor) -> Losses:
        x, y = split.batch(idx)
        out = {"student": terms(x)}
        learner.update(out["student"]["total"])
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    run_phase(ctx, "stage1", p.stage1_epochs, batches, step,
              Evaluator(watch(models), split, scores))  # fmt: skip
    return base


def match_features(
    ctx: Context, match: Callable[[list[Tensor], list[Tensor]], Terms], weights: dict[str, float]
) -> Result:
    """CE + Σ weights[name]·term against the cached plain teacher (one per seed), where
    ``match(student maps, teacher maps)`` gives the named feature terms (the teacher's
    under no_grad). The recipe of every feature-matching method: SP, AT, NST, PKT, RKD."""
    from app.distill.teacher import get_teacher
    from app.distill.teacher_cache import plain_teacher

    teacher, scores = get_teacher(ctx, *plain_teacher(ctx.params))

    def terms(model: nn.Module, x: Tensor, y: Tensor) -> Terms:
        with torch.no_grad():
            _, t_maps = teacher.features(x)
        logits, maps = model.features(x)
        ce = cross_entropy(logits, y)
        matched = match(maps, t_maps)
        total = ce
        for name, term in matched.items():
            total = total + weights[name] * term
        return {"total": total, "ce": ce, **matched}

    return train_single(ctx, terms, fixed=scores)


def pooled(maps: list[Tensor]) -> Tensor:
    """The last stage averaged over positions: the features that enter the classifier
    (RepDistiller's feat[-1])."""
    return maps[-1].mean(dim=(-2, -1))


def train_multi_exit(ctx: Context, loss_fn: Callable[..., Terms]) -> Result:
    """BYOT and MSD: ``loss_fn(exit logits, exit features, y, T, α, λ)`` trains every
    exit; the control trains the deepest exit alone with CE, as a one-exit network.
    Reported: ``student`` (the deepest exit), ``baseline``, ``exit1``... shallow to deep."""
    p, split = ctx.params, ctx.split
    batches = ctx.batches()
    steps = p.epochs * len(batches)
    model = build_student(ctx, MultiExitCNN)
    student, base = ctx.learner(model, steps), control(ctx, model, steps)

    def step(idx: Tensor) -> Losses:
        x, y = split.batch(idx)
        logits, feats = model.exits(x)
        terms = loss_fn(logits, feats, y, p.temperature, p.alpha, p.feature_weight)
        student.update(terms["total"])
        out = {"student": terms}
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    def exits(x: Tensor) -> dict[str, Tensor]:
        logits, _ = model.exits(x)
        return {"student": logits[-1]} | {f"exit{i + 1}": z for i, z in enumerate(logits)}

    watched = [Watched(model, exits)] + (watch({"baseline": base.model}) if base else [])
    return train_phase(ctx, batches, step, Evaluator(watched, split))
