"""Deep mutual learning, DML (Zhang et al., arXiv 1706.00384)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.distill.claims import CE_CONTROL, Claim
from app.distill.params import LockstepParams
from app.distill.spec import Method

PEER_SEED_OFFSET = 104729


class DMLParams(LockstepParams):
    update: Literal["alternating", "joint"] = Field(
        "alternating",
        description="alternating: the paper's Algorithm 1, peer 1 steps, both predictions "
        "are recomputed on the same batch, then peer 2 steps against peer 1's updated "
        "prediction. joint: both peers step from one shared forward pass.",
    )


def recipe(ctx):
    import torch

    from app.distill.engine import Evaluator, ce_step, watch
    from app.distill.loops import build_student, control, train_phase
    from app.distill.losses import cross_entropy, dml_loss
    from app.distill.models import SmallCNN

    p, split = ctx.params, ctx.split
    batches = ctx.batches()
    steps = p.epochs * len(batches)
    model = build_student(ctx)
    one, base = ctx.learner(model, steps), control(ctx, model, steps)
    two = ctx.learner(ctx.build(SmallCNN, offset=PEER_SEED_OFFSET), steps)
    models = {"student": one.model, "peer": two.model}
    models |= {"baseline": base.model} if base else {}

    def alternating(x, y):
        z1 = one.model(x)
        with torch.no_grad():
            z2 = two.model(x)
        l1 = dml_loss(z1, [z2], y)
        one.update(l1)
        with torch.no_grad():
            z1 = one.model(x)
        z2 = two.model(x)
        l2 = dml_loss(z2, [z1], y)
        two.update(l2)
        return l1, l2, z1, z2

    def joint(x, y):
        z1, z2 = one.model(x), two.model(x)
        l1, l2 = dml_loss(z1, [z2], y), dml_loss(z2, [z1], y)
        for learner in (one, two):
            learner.opt.zero_grad(set_to_none=True)
        (l1 + l2).sum().backward()  # each target is detached: each peer gets its own
        for learner in (one, two):
            learner.opt.step()
            learner.advance()
        return l1, l2, z1, z2

    update = alternating if p.update == "alternating" else joint

    def step(idx):
        x, y = split.batch(idx)
        l1, l2, z1, z2 = update(x, y)
        ce1, ce2 = cross_entropy(z1.detach(), y), cross_entropy(z2.detach(), y)
        l1, l2 = l1.detach(), l2.detach()
        out = {"student": {"total": l1, "ce": ce1, "kl": l1 - ce1},
               "peer": {"total": l2, "ce": ce2, "kl": l2 - ce2}}
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    return train_phase(ctx, batches, step, Evaluator(watch(models), split))


METHOD = Method(
    id="dml",
    title="Deep mutual learning (DML)",
    papers=("1706.00384",),
    summary_zh="两个同结构、不同初始化的网络互相学习：各自 CE + KL(softmax(对方) ‖ softmax(自己))，"
    "对方不回传梯度。默认按论文算法 1 轮流更新：网络 1 先更新，在同一批次上重新计算两者的预测，"
    "网络 2 再以网络 1 更新后的预测为目标更新（作者的 TensorFlow 代码每次更新各取一个新批次，"
    "这里两步用同一批次）。",
    summary_en="Two networks of the student's architecture, initialised differently, teach "
    "each other: each minimises CE + KL(softmax(peer) ‖ softmax(own)), the peer detached. "
    "By default they update in turn, as the paper's Algorithm 1: peer 1 steps, both "
    "predictions are recomputed on the same batch, then peer 2 steps against peer 1's "
    "updated prediction (the authors' TensorFlow code draws a fresh batch for each peer's "
    "step; here both steps use one batch). 'joint' updates both from one forward pass.",
    control_zh="对照：与网络 1 同样初始权重、同样批次、同样步数的纯交叉熵；网络 2 是方法的一部分。",
    control_en="Control: plain CE from peer 1's initial weights on the same batches for the "
    "same steps; peer 2 is part of the method.",
    params=DMLParams,
    models=("student", "peer", "baseline"),
    recipe=recipe,
    formula=(
        r"each peer $k$: $L_k = \mathrm{CE}(\mathrm{softmax}(z_k), y) + "
        r"\mathrm{KL}(\mathrm{softmax}(z_{\mathrm{other}}) \,\|\, \mathrm{softmax}(z_k))$, "
        r"$z_{\mathrm{other}}$ detached"
    ),
    claims=(
        Claim(
            id="dml.ce", paper="1706.00384", versus=CE_CONTROL, direction="better",
            zh="互学习的每个网络都优于单独训练的同一网络",
            en="Each mutually trained peer beats the same network trained alone",
            where="§4, Table 1 (CIFAR-100, every pair of peers)",
            source="section as cited, from our reading of the paper (not re-read for this "
            "change)",
        ),
    ),
)
