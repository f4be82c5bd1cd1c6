"""Attention transfer, AT (Zagoruyko & Komodakis, arXiv 1612.03928)."""

from __future__ import annotations

from pydantic import Field

from app.distill.claims import CE_CONTROL, Claim
from app.distill.params import TeacherParams
from app.distill.spec import (
    PLAIN_CONTROL_EN,
    PLAIN_CONTROL_ZH,
    TEACHER_COST_EN,
    TEACHER_COST_ZH,
    Method,
)
from app.distill.teacher_cache import plain_teacher

TITLE = (
    "Paying More Attention to Attention: Improving the "
    "Performance of Convolutional Neural Networks via Attention Transfer"
)


# The grid the default β is picked from, on validation accuracy, fixed here before any
# result was seen: the authors' 1000 divided by 4^k, k = 0…5 (62.5, the earlier default
# rescaled by positions, is k = 2). bench/reproduce.py measures it at 10 seeds; the best
# mean final validation accuracy was at k = 4 (docs/reproduction.md, "AT's β").
BETA_GRID = (1000.0 / 1024, 1000.0 / 256, 1000.0 / 64, 1000.0 / 16, 1000.0 / 4, 1000.0)
BETA_PICKED = BETA_GRID[1]  # 3.90625, picked on validation; test only reports it


class ATParams(TeacherParams):
    beta: float = Field(
        BETA_PICKED, ge=0.0, le=100000.0,
        description="Weight β of the attention term, β · Σ over the three stages. The "
        "default, 1000/256 ≈ 3.9, is the best mean validation accuracy over the grid "
        "1000/4^k (k = 0…5), fixed before looking. The authors' β = 1000, rescaled by "
        "positions to 62.5 for these 16× smaller maps, leaves the student under-fitting "
        "(final training CE about 0.6 against the control's 0.015); unscaled, the "
        "attention term swamps CE.",
    )


def recipe(ctx):
    from app.distill.feature_losses import at_loss
    from app.distill.loops import match_features

    # Every stage's output, as the authors' groups.
    return match_features(ctx, lambda s, t: {"at": at_loss(s, t, p=2.0)}, {"at": ctx.params.beta})


METHOD = Method(
    id="at",
    title="Attention transfer (AT)",
    papers=("1612.03928", TITLE),
    summary_zh="注意力图 Q = 各通道激活平方的平均（p = 2），"
    "展平后 L2 归一化；学生在三个卷积阶段的输出上"
    "逼近教师的注意力图：CE + β · Σ_阶段 mean(Q̂_s − Q̂_t)²，"
    "形式与作者代码（cifar.py）和 RepDistiller 相同（论文公式 2 写作 β/2）。"
    "与论文的差别：β ≈ 3.9 而不是作者的 1000。它是在验证集上从事先定好的网格 "
    "1000/4^k（k = 0…5）中选出的（测试集只用于报告）。按位置数把 1000 缩放成 62.5 时，"
    "学生欠拟合：最后一轮训练 CE 约 0.6，对照只有 0.015，测试准确率低 5.8 个百分点；"
    "不缩放时注意力项压倒 CE。网络是 8×8 数字上的小 CNN，"
    "师生各阶段宽度与尺寸相同；教师（15 层卷积）每个种子一个，用全部训练数据训练并缓存。",
    summary_en="Attention map Q = the mean over channels of the squared activations (p = 2), "
    "flattened and L2-normalised; on each of the three conv stages' outputs the student "
    "matches the teacher's map: CE + β · Σ_stages mean(Q̂_s − Q̂_t)², the form of the "
    "authors' cifar.py and RepDistiller (the paper's eq. 2 writes β/2). Deviations: "
    "β ≈ 3.9, not the authors' 1000: picked on validation from the grid 1000/4^k "
    "(k = 0…5) fixed before looking (test only reports it). Rescaled by positions to "
    "62.5, the student under-fits: its final training CE stays near 0.6 against the "
    "control's 0.015 and it tests 5.8 points worse; unscaled, the attention term swamps "
    "CE. A "
    "tiny CNN on 8×8 digits, whose student and "
    "teacher stages have equal widths and sizes; the teacher (15 convs, one per seed) "
    "trains once on all training digits and is cached.",
    control_zh=PLAIN_CONTROL_ZH + TEACHER_COST_ZH + "。",
    control_en=PLAIN_CONTROL_EN + TEACHER_COST_EN + ".",
    params=ATParams,
    models=("student", "baseline", "teacher"),
    recipe=recipe,
    teachers=plain_teacher,
    formula=(
        r"$L = \mathrm{CE}(\mathrm{softmax}(z_s), y) + \beta \sum_j "
        r"\operatorname{mean}\left(\frac{Q_s^j}{\|Q_s^j\|} - \frac{Q_t^j}{\|Q_t^j\|}\right)^2$, "
        r"$Q^j = \operatorname{mean}_c |A_c^j|^2$ of stage $j$"
    ),
    claims=(
        Claim(
            id="at.ce", paper="1612.03928", versus=CE_CONTROL, direction="better",
            zh="注意力迁移优于纯交叉熵", en="Attention transfer beats plain cross-entropy",
            where="§4.1, Table 1 (CIFAR-10, students with and without AT)",
            source="section as cited, from our reading of the paper (not re-read for this "
            "change)",
        ),
    ),
)
