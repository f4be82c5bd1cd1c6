"""Methods that act on the logits of one network: baseline, kd, lsr, tfkd_self, tfkd_reg."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app.distill.engine import Context
from app.distill.losses import kd_loss, label_smoothing_loss, tfkd_reg_loss
from app.distill.recipes.common import Result, train_single
from app.distill.teacher import Recipe, get_teacher


def run_baseline(ctx: Context) -> Result:
    def terms(model: nn.Module, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        return {"total": F.cross_entropy(model(x), y)}

    return Result(train_single(ctx, terms))


def _distill_from(ctx: Context, teacher: nn.Module, t_scores: dict[str, float]) -> Result:
    """(1 − α)·CE + α·kd_loss against a frozen teacher."""
    p = ctx.params
    alpha, temp = p.alpha, p.temperature

    def terms(model: nn.Module, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        with torch.no_grad():
            t_logits = teacher(x)
        logits = model(x)
        ce = F.cross_entropy(logits, y)
        kd = kd_loss(logits, t_logits, temp)
        return {"total": (1 - alpha) * ce + alpha * kd, "ce": ce, "kd": kd}

    history = train_single(ctx, terms, fixed={"teacher": t_scores})
    return Result(history, t_scores["acc"])


def run_kd(ctx: Context) -> Result:
    """Hinton KD: the deep teacher trains on every training digit."""
    teacher, t_scores = get_teacher(ctx, Recipe("cnn15", ctx.params.teacher_epochs, 1.0))
    return _distill_from(ctx, teacher, t_scores)


def run_tfkd_self(ctx: Context) -> Result:
    """Tf-KD self: the teacher is the student's architecture, trained as the baseline
    is (CE, the run's batch size, lr and training subset; ``teacher_epochs`` epochs)
    but from other initial weights: no extra data, no stronger network."""
    p = ctx.params
    recipe = Recipe("cnn3", p.teacher_epochs, p.train_fraction, p.lr, p.batch_size,
                    p.weight_decay)
    teacher, t_scores = get_teacher(ctx, recipe)
    return _distill_from(ctx, teacher, t_scores)


def run_lsr(ctx: Context) -> Result:
    eps = ctx.params.epsilon

    def terms(model: nn.Module, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        return {"total": label_smoothing_loss(model(x), y, eps)}

    return Result(train_single(ctx, terms))


def run_tfkd_reg(ctx: Context) -> Result:
    p = ctx.params

    def terms(model: nn.Module, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        logits = model(x)
        ce = F.cross_entropy(logits, y)
        reg = tfkd_reg_loss(logits, y, p.temperature, p.correct_prob)
        return {"total": (1 - p.alpha) * ce + p.alpha * reg, "ce": ce, "reg": reg}

    return Result(train_single(ctx, terms))
