"""Self-distillation without a separate teacher: cskd, byot, msd."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from app.distill.data import NUM_CLASSES
from app.distill.engine import Context, Losses, Scores, ce_step, evaluate, run_phase, score
from app.distill.losses import byot_loss, cskd_loss, msd_loss
from app.distill.models import MultiExitCNN
from app.distill.recipes.common import Result, build_student, with_twin


class PairSampler:
    """For each index, a random *other* training index of the same class (the index
    itself only when its class has a single sample), as CS-KD's PairBatchSampler."""

    def __init__(self, labels: Tensor, seed: int) -> None:
        y = labels.cpu()
        order = torch.argsort(y, stable=True)
        counts = torch.bincount(y, minlength=NUM_CLASSES)
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.empty_like(y)
        rank[order] = torch.arange(len(y)) - starts[y[order]]
        dev = labels.device
        self.y, self.order, self.rank = labels, order.to(dev), rank.to(dev)
        self.counts, self.starts = counts.to(dev), starts.to(dev)
        self.gen = torch.Generator().manual_seed(seed)

    def __call__(self, idx: Tensor) -> Tensor:
        y = self.y[idx]
        count = self.counts[y]
        u = torch.rand(len(idx), generator=self.gen).to(idx.device)
        r = (u * (count - 1).clamp_min(1)).long()
        r = r + ((r >= self.rank[idx]) & (count > 1)).long()
        return self.order[self.starts[y] + r]


def run_cskd(ctx: Context) -> Result:
    """CE on the batch + λ·cskd_loss against each sample's same-class partner, whose
    logits come from a no-grad forward (as alinlab/cs-kd train.py)."""
    p, split = ctx.params, ctx.split
    batches = ctx.batches(p.seed)
    pairs = PairSampler(split.y_train, p.seed + 1)
    student, base = with_twin(ctx, build_student(ctx), p.epochs * len(batches))
    models = {"student": student.model} | ({"baseline": base.model} if base else {})

    def step(idx: Tensor) -> Losses:
        x, y = split.x_train[idx], split.y_train[idx]
        logits = student.model(x)
        with torch.no_grad():
            pair_logits = student.model(split.x_train[pairs(idx)])
        ce = F.cross_entropy(logits, y)
        cls = cskd_loss(logits, pair_logits, p.temperature)
        total = ce + p.lam * cls
        student.update(total)
        out = {"student": {"total": total, "ce": ce, "cls": cls}}
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    return Result(run_phase(ctx, "train", p.epochs, batches, step, lambda: evaluate(models, split)))


@torch.no_grad()
def exit_scores(model: MultiExitCNN, ctx: Context) -> Scores:
    """``student`` (the deepest exit) first, then ``exit1``... shallow to deep."""
    model.eval()
    logits, _ = model.exits(ctx.split.x_test)
    model.train()
    per_exit = {f"exit{i + 1}": score(z, ctx.split.y_test) for i, z in enumerate(logits)}
    return {"student": per_exit[f"exit{len(logits)}"]} | per_exit


def _run_multi_exit(ctx: Context, loss_fn: Callable[..., dict[str, Tensor]]) -> Result:
    p, split = ctx.params, ctx.split
    batches = ctx.batches(p.seed)
    student, base = with_twin(ctx, build_student(ctx, MultiExitCNN), p.epochs * len(batches))

    def step(idx: Tensor) -> Losses:
        x, y = split.x_train[idx], split.y_train[idx]
        logits, feats = student.model.exits(x)
        terms = loss_fn(logits, feats, y, p.temperature, p.alpha, p.feature_weight)
        student.update(terms["total"])
        out = {"student": terms}
        if base is not None:
            out["baseline"] = ce_step(base, x, y)  # the deepest exit alone
        return out

    def scores() -> Scores:
        s = exit_scores(student.model, ctx)
        if base is None:
            return s
        return {"student": s.pop("student")} | evaluate({"baseline": base.model}, split) | s

    return Result(run_phase(ctx, "train", p.epochs, batches, step, scores))


def run_byot(ctx: Context) -> Result:
    return _run_multi_exit(ctx, byot_loss)


def run_msd(ctx: Context) -> Result:
    return _run_multi_exit(ctx, msd_loss)
