"""Label smoothing regularisation, as in Tf-KD (arXiv 1909.11723)."""

from __future__ import annotations

from pydantic import Field

from app.distill.claims import CE_CONTROL, Claim
from app.distill.params import LockstepParams
from app.distill.spec import PLAIN_CONTROL_EN, PLAIN_CONTROL_ZH, Method


class LSRParams(LockstepParams):
    epsilon: float = Field(
        0.1, ge=0.0, le=0.9,
        description="Probability mass moved off the true class, spread evenly over the "
        "K − 1 others.",
    )


def recipe(ctx):
    from app.distill.loops import train_single
    from app.distill.losses import label_smoothing_loss

    eps = ctx.params.epsilon

    def terms(model, x, y):
        return {"total": label_smoothing_loss(model(x), y, eps)}

    return train_single(ctx, terms)


METHOD = Method(
    id="lsr",
    title="Label smoothing regularisation",
    # Tf-KD, and the label smoothing of Inception v3 (Szegedy et al.) it starts from.
    papers=("1909.11723", "1512.00567"),
    summary_zh="目标分布：真实类 1−ε，其余每类 ε/(K−1)（Tf-KD 论文所用的 LSR，作者代码同此）。"
    "Inception v3 论文（1512.00567）与 PyTorch 自带的 label_smoothing 则把 a 均摊到全部 K 类，"
    "a = ε·K/(K−1) 时两者相同。可看作一个永远输出均匀分布的“虚拟教师”。",
    summary_en="Cross-entropy against 1−ε on the true class and ε/(K−1) on each other class "
    "(the LSR of the Tf-KD paper and its code). The Inception v3 paper (1512.00567), like "
    "PyTorch's label_smoothing, spreads a over all K classes instead; the two agree at "
    "a = ε·K/(K−1). A virtual teacher that always answers the uniform distribution.",
    control_zh=PLAIN_CONTROL_ZH + "。",
    control_en=PLAIN_CONTROL_EN + ".",
    params=LSRParams,
    models=("student", "baseline"),
    recipe=recipe,
    formula=(
        r"$L = -\sum_k q_k \log \mathrm{softmax}(z_s)_k$, $q_y = 1-\varepsilon$, $q_k = "
        r"\varepsilon/(K-1)$ for $k \ne y$"
    ),
    claims=(
        Claim(
            id="lsr.ce", paper="1512.00567", versus=CE_CONTROL, direction="better",
            zh="标签平滑优于纯交叉熵", en="Label smoothing beats plain cross-entropy",
            where="Inception v3 §7 (ILSVRC 2012: about 0.2 points top-1)",
            source="Szegedy et al.; section as cited, from our reading of the paper (not "
            "re-read for this change)",
        ),
    ),
)
