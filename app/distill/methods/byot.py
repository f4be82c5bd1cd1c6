"""Be Your Own Teacher, BYOT (Zhang et al., arXiv 1905.08094)."""

from __future__ import annotations

from app.distill.claims import DEEPEST_CE_CONTROL, Claim
from app.distill.methods._selfdistill import SELF_CONTROL_EN, SELF_CONTROL_ZH, SelfDistillParams
from app.distill.spec import Method


def recipe(ctx):
    from app.distill.loops import train_multi_exit
    from app.distill.losses import byot_loss

    return train_multi_exit(ctx, byot_loss)


METHOD = Method(
    id="byot",
    title="Be Your Own Teacher (BYOT)",
    papers=("1905.08094",),
    summary_zh="网络每个阶段后接一个分类出口（浅层出口通过 bo"
    "ttleneck 分支对齐特征）。最深出口当教师："
    "最深出口 CE 权重为 1，浅层出口 (1−α)·CE + α·KL(最深 ‖ 浅层) + λ·‖F_浅 − F_深‖（不平方）。"
    "与作者公开代码一致：KL 不乘 T²，α=0.3、T=3、λ"
    "=0.03 为作者默认值；作者的特征项先经过一个线性适配层，"
    "这里由 bottleneck 分支直接对齐形状。",
    summary_en="An exit after every stage (shallow exits align their features through "
    "bottleneck branches). The deepest exit teaches: CE with weight 1 on it; on each "
    "shallow exit (1−α)·CE + α·KL(deepest ‖ shallow) + λ·‖F_shallow − F_deepest‖ "
    "(unsquared). As the authors' released code: no T² on the KL, and α = 0.3, T = 3, "
    "λ = 0.03 are their defaults; their feature term first passes through a linear "
    "adaptation layer, where here the bottleneck branches match the shapes.",
    control_zh=SELF_CONTROL_ZH,
    control_en=SELF_CONTROL_EN,
    params=SelfDistillParams,
    models=("student", "baseline", "exit1", "exit2", "exit3"),
    recipe=recipe,
    formula=(
        r"$L = \mathrm{CE}(z_C, y) + \sum_{i<C} \left[(1-\alpha)\,\mathrm{CE}(z_i, y) + "
        r"\alpha\,\mathrm{KL}(\mathrm{softmax}(z_C/T) \,\|\, \mathrm{softmax}(z_i/T)) + \lambda "
        r"\|F_i - F_C\|_2\right]$, $C$: deepest exit, detached"
    ),
    claims=(
        Claim(
            id="byot.ce", paper="1905.08094", versus=DEEPEST_CE_CONTROL, direction="better",
            zh="自蒸馏后最深出口优于单独训练的同一网络",
            en="After self-distillation the deepest exit beats the network trained alone",
            where="§4, Table 1 (CIFAR-100: the deepest classifier against the baseline)",
            source="section as cited, from our reading of the paper (not re-read for this "
            "change)",
        ),
    ),
)
