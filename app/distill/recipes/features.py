"""Methods that distil intermediate features from a teacher: sp, fsp."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app.distill.engine import Context, Losses, Scores, evaluate, run_phase, twin
from app.distill.losses import fsp_loss, sp_loss
from app.distill.recipes.common import Result, build_student, train_single, wants_baseline
from app.distill.teacher import Recipe, get_teacher


def run_sp(ctx: Context) -> Result:
    """CE + γ·SP on the last conv stage's maps (the paper uses the last block)."""
    p = ctx.params
    teacher, t_scores = get_teacher(ctx, Recipe("cnn15", p.teacher_epochs, 1.0))

    def terms(model: nn.Module, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        with torch.no_grad():
            _, t_maps = teacher.features(x)
        logits, maps = model.features(x)
        ce = F.cross_entropy(logits, y)
        sp = sp_loss(maps[-1], t_maps[-1])
        return {"total": ce + p.gamma * sp, "ce": ce, "sp": sp}

    history = train_single(ctx, terms, fixed={"teacher": t_scores})
    return Result(history, t_scores["acc"])


def run_fsp(ctx: Context) -> Result:
    """Stage 1: the student's body (every layer but the classifier) minimises the FSP
    loss against the teacher's stage maps; stage 2 (``train``): CE, as the baseline,
    which starts from the student's weights as they were before stage 1."""
    p, split = ctx.params, ctx.split
    teacher, t_scores = get_teacher(ctx, Recipe("cnn15", p.teacher_epochs, 1.0))
    model = build_student(ctx)
    twin_model = twin(model) if wants_baseline(ctx) else None

    batches = ctx.batches(p.seed + 1)
    body = [prm for name, prm in model.named_parameters() if not name.startswith("fc.")]
    learner = ctx.learner(model, p.stage1_epochs * len(batches), parameters=body)

    def step(idx: Tensor) -> Losses:
        x = split.x_train[idx]
        with torch.no_grad():
            _, t_maps = teacher.features(x)
        _, maps = model.features(x)
        fsp = fsp_loss(maps, t_maps)
        learner.update(p.fsp_weight * fsp)
        return {"student": {"total": p.fsp_weight * fsp, "fsp": fsp}}

    def scores() -> Scores:
        return evaluate({"student": model}, split) | {"teacher": t_scores}

    run_phase(ctx, "stage1", p.stage1_epochs, batches, step, scores)

    def terms(m: nn.Module, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        return {"total": F.cross_entropy(m(x), y)}

    history = train_single(ctx, terms, model, twin_model, fixed={"teacher": t_scores})
    return Result(history, t_scores["acc"])
