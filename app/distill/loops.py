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
    Learner,
    Losses,
    Terms,
    ce_step,
    evaluate,
    evaluator,
    run_phase,
    score,
    twin,
)
from app.distill.losses import cross_entropy, kd_loss
from app.distill.models import MultiExitCNN, SmallCNN

# A method's terms on one batch for one model: x (k, B, 1, 8, 8), y (k, B) → Terms.
TermsFn = Callable[[nn.Module, Tensor, Tensor], Terms]


@dataclass
class Result:
    """The train phase's per-epoch evaluations, and the frozen teacher's, if any."""

    history: list[Evaluation]
    teacher: Evaluation | None = None


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
    return {"total": cross_entropy(model(x), y)}


def train_single(
    ctx: Context,
    terms: TermsFn,
    model: nn.Module | None = None,
    base: Learner | None = None,
    fixed: Evaluation | None = None,
) -> list[Evaluation]:
    """The loop of every one-network method: ``terms`` gives the student's loss terms
    on a batch; the control takes a CE step on the same batch. ``model`` replaces the
    fresh student and ``base`` its fresh control (FSP trains both in stage 1 first);
    ``fixed`` scores (a frozen teacher's) join every epoch."""
    p = ctx.params
    batches = ctx.batches()
    steps = p.epochs * len(batches)
    model = build_student(ctx) if model is None else model
    if base is None:
        base = control(ctx, model, steps)
    student = ctx.learner(model, steps)
    models = {"student": model} | ({"baseline": base.model} if base else {})

    def step(idx: Tensor) -> Losses:
        x, y = ctx.split.batch(idx)
        out = {"student": terms(model, x, y)}
        student.update(out["student"]["total"])
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    return run_phase(ctx, "train", p.epochs, batches, step, evaluator(models, ctx.split, fixed))


def distill_from(ctx: Context, teacher: nn.Module, scores: Evaluation) -> Result:
    """(1 − α)·CE + α·kd_loss against a frozen teacher stack (seed i's teacher
    teaches seed i's student)."""
    p = ctx.params
    alpha, temp = p.alpha, p.temperature

    def terms(model: nn.Module, x: Tensor, y: Tensor) -> Terms:
        with torch.no_grad():
            t_logits = teacher(x)
        logits = model(x)
        ce = cross_entropy(logits, y)
        kd = kd_loss(logits, t_logits, temp)
        return {"total": (1 - alpha) * ce + alpha * kd, "ce": ce, "kd": kd}

    return Result(train_single(ctx, terms, fixed=scores), scores)


@torch.no_grad()
def exit_scores(model: MultiExitCNN, x: Tensor, y: Tensor) -> dict:
    """``student`` (the deepest exit) first, then ``exit1``... shallow to deep."""
    was_training = model.training
    model.eval()
    logits, _ = model.exits(x)
    model.train(was_training)
    per_exit = {f"exit{i + 1}": score(z, y) for i, z in enumerate(logits)}
    return {"student": per_exit[f"exit{len(logits)}"]} | per_exit


def train_multi_exit(ctx: Context, loss_fn: Callable[..., Terms]) -> Result:
    """BYOT and MSD: ``loss_fn(exit logits, exit features, y, T, α, λ)`` trains every
    exit; the control trains the deepest exit alone with CE, as a one-exit network."""
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

    def scores(x: Tensor, y: Tensor) -> dict:
        s = exit_scores(model, x, y)
        if base is None:
            return s
        return {"student": s.pop("student")} | evaluate({"baseline": base.model}, x, y) | s

    def evaluation() -> Evaluation:
        return Evaluation(scores(split.x_val, split.y_val), scores(split.x_test, split.y_test))

    return Result(run_phase(ctx, "train", p.epochs, batches, step, evaluation))
