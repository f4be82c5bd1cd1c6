"""Plain cross-entropy: the yardstick every method is compared against."""

from __future__ import annotations

from app.distill.params import CommonParams
from app.distill.spec import Method


def recipe(ctx):
    from app.distill.loops import ce_terms, train_single

    return train_single(ctx, ce_terms)


METHOD = Method(
    id="baseline",
    title="Plain cross-entropy",
    papers=(),
    summary_zh="学生网络只用交叉熵训练，其他所有方法都和它比较。",
    summary_en="The student trained with cross-entropy alone: the yardstick every method "
    "is compared against.",
    control_zh="它本身就是对照。",
    control_en="It is the control itself.",
    params=CommonParams,
    models=("student",),
    recipe=recipe,
    formula=(
        r"$L = \mathrm{CE}(\mathrm{softmax}(z_s), y)$"
    ),
)
