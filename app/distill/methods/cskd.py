"""Class-wise self-knowledge distillation, CS-KD (Yun et al., arXiv 2003.13964)."""

from __future__ import annotations

from app.distill.claims import CE_CONTROL, Claim
from app.distill.params import LockstepParams, LossWeight, Temperature
from app.distill.spec import Method


class CSKDParams(LockstepParams):
    temperature: Temperature = 4.0
    lam: LossWeight = 1.0


def recipe(ctx):
    import torch

    from app.distill.loops import train_single
    from app.distill.losses import cross_entropy, cskd_loss
    from app.distill.pairs import PairSampler

    p, split = ctx.params, ctx.split
    pairs = PairSampler(split.y_train, [s + 1 for s in ctx.seeds])

    def terms(model, x, y):
        logits = model(x)
        with torch.no_grad():  # as alinlab/cs-kd train.py: the pair's forward, train mode
            pair_logits = model(split.batch(pairs(y))[0])
        ce = cross_entropy(logits, y)
        cls = cskd_loss(logits, pair_logits, p.temperature)
        return {"total": ce + p.lam * cls, "ce": ce, "cls": cls}

    return train_single(ctx, terms)


METHOD = Method(
    id="cskd",
    title="Class-wise self-KD (CS-KD)",
    papers=("2003.13964",),
    summary_zh="每个样本从同类样本中随机配一个（与作者的 PairBatchSampler 一样，可能抽到自己）；"
    "CE 只算在原样本上，外加 λ·T²·KL(softmax_T(配对样本) ‖ softmax_T(样本))，配对样本的输出"
    "不回传梯度。要求同类样本的预测分布一致。",
    summary_en="Every sample is paired with a random sample of its class (as the authors' "
    "PairBatchSampler, which may draw the sample itself); CE on the original samples, plus "
    "λ·T²·KL(softmax_T(pair) ‖ softmax_T(sample)) with the pair's output detached: "
    "same-class inputs should get the same predictive distribution.",
    control_zh="对照：同样初始权重、在同样的原样本批次上、同"
    "样步数的纯交叉熵（配对样本的额外前向不计入）。",
    control_en="Control: plain CE from the same initial weights on the same original "
    "samples for the same steps (the pairs' extra forward pass is not matched).",
    params=CSKDParams,
    models=("student", "baseline"),
    recipe=recipe,
    formula=(
        r"$L = \mathrm{CE}(\mathrm{softmax}(z(x)), y) + \lambda "
        r"T^2\,\mathrm{KL}(\mathrm{softmax}(z(x')/T) \,\|\, \mathrm{softmax}(z(x)/T))$, $x'$ of "
        r"$x$'s class, $z(x')$ detached"
    ),
    claims=(
        Claim(
            id="cskd.ce", paper="2003.13964", versus=CE_CONTROL, direction="better",
            zh="类内自蒸馏优于纯交叉熵", en="Class-wise self-distillation beats plain CE",
            where="§4, Table 1 (top-1 error against cross-entropy)",
            source="section as cited, from our reading of the paper (not re-read for this "
            "change)",
        ),
    ),
)
