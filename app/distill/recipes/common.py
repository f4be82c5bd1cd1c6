"""Helpers shared by the recipes: the student and its lockstep twin, the usual loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

from app.distill.engine import (
    Context,
    Learner,
    Losses,
    Scores,
    ce_step,
    evaluate,
    run_phase,
    seeded,
    twin,
)
from app.distill.models import SmallCNN

# Terms of one step for one model; "total" is what is minimised.
TermsFn = Callable[[nn.Module, Tensor, Tensor], dict[str, Tensor]]


@dataclass
class Result:
    """The train phase's per-epoch scores, and the teacher's accuracy if any."""

    history: list[Scores]
    teacher_acc: float | None = None


def wants_baseline(ctx: Context) -> bool:
    return bool(getattr(ctx.params, "baseline", False))


def build_student(ctx: Context, factory: Callable[[], nn.Module] = SmallCNN) -> nn.Module:
    """The student's initial weights depend on the seed only."""
    with seeded(ctx.params.seed):
        return factory().to(ctx.device)


def with_twin(
    ctx: Context, model: nn.Module, steps: int, twin_model: nn.Module | None = None
) -> tuple[Learner, Learner | None]:
    """The student's learner and, unless ``baseline=false``, a plain-CE twin's learner
    made from a copy of the same initial weights (or ``twin_model``, copied earlier)."""
    base = None
    if wants_baseline(ctx):
        base = ctx.learner(twin(model) if twin_model is None else twin_model, steps)
    return ctx.learner(model, steps), base


def train_single(
    ctx: Context,
    terms: TermsFn,
    model: nn.Module | None = None,
    twin_model: nn.Module | None = None,
    fixed: Scores | None = None,
) -> list[Scores]:
    """The loop of every one-network method: ``terms`` gives the student's loss terms
    on a batch; the twin takes a CE step on the same batch. ``model`` and
    ``twin_model`` replace the fresh student and its copy (FSP's stage 1 changes the
    student first); ``fixed`` scores (a frozen teacher's) join every epoch event."""
    p, split = ctx.params, ctx.split
    batches = ctx.batches(p.seed)
    model = build_student(ctx) if model is None else model
    student, base = with_twin(ctx, model, p.epochs * len(batches), twin_model)
    models = {"student": student.model} | ({"baseline": base.model} if base else {})

    def step(idx: Tensor) -> Losses:
        x, y = split.x_train[idx], split.y_train[idx]
        out = {"student": terms(student.model, x, y)}
        student.update(out["student"]["total"])
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    def scores() -> Scores:
        return evaluate(models, split) | (fixed or {})

    return run_phase(ctx, "train", p.epochs, batches, step, scores)

