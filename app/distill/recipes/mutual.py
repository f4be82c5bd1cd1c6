"""Deep mutual learning: two peers of the student's architecture teach each other."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from app.distill.engine import Context, Losses, ce_step, evaluate, run_phase, seeded
from app.distill.losses import dml_loss
from app.distill.models import SmallCNN
from app.distill.recipes.common import Result, build_student, with_twin

PEER_SEED_OFFSET = 104729


def run_dml(ctx: Context) -> Result:
    """Both peers' losses come from one forward pass of each; one backward of their
    sum (each target detached, so each peer gets only its own gradient), then both
    optimisers step."""
    p, split = ctx.params, ctx.split
    batches = ctx.batches(p.seed)
    steps = p.epochs * len(batches)
    student, base = with_twin(ctx, build_student(ctx), steps)
    with seeded(p.seed + PEER_SEED_OFFSET):
        peer = ctx.learner(SmallCNN().to(ctx.device), steps)
    models = {"student": student.model, "peer": peer.model}
    models |= {"baseline": base.model} if base else {}

    def step(idx: Tensor) -> Losses:
        x, y = split.x_train[idx], split.y_train[idx]
        z1, z2 = student.model(x), peer.model(x)
        l1, l2 = dml_loss(z1, [z2], y), dml_loss(z2, [z1], y)
        for learner in (student, peer):
            learner.opt.zero_grad(set_to_none=True)
        (l1 + l2).backward()
        for learner in (student, peer):
            learner.opt.step()
            learner.advance()
        ce1, ce2 = F.cross_entropy(z1.detach(), y), F.cross_entropy(z2.detach(), y)
        out = {"student": {"total": l1, "ce": ce1, "kl": l1.detach() - ce1},
               "peer": {"total": l2, "ce": ce2, "kl": l2.detach() - ce2}}
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    return Result(run_phase(ctx, "train", p.epochs, batches, step, lambda: evaluate(models, split)))
