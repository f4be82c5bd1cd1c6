"""Relational knowledge distillation, RKD (Park et al., arXiv 1904.05068)."""

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

TITLE = "Relational Knowledge Distillation"


class RKDParams(TeacherParams):
    distance_weight: float = Field(
        25.0, ge=0.0, le=1000.0, description="Weight λ_D of the distance term (25).")
    angle_weight: float = Field(
        50.0, ge=0.0, le=1000.0, description="Weight λ_A of the angle term (50).")


def recipe(ctx):
    from app.distill.feature_losses import rkd_angle_loss, rkd_distance_loss
    from app.distill.loops import match_features, pooled

    def match(maps, t_maps):
        f_s, f_t = pooled(maps), pooled(t_maps)
        return {"distance": rkd_distance_loss(f_s, f_t), "angle": rkd_angle_loss(f_s, f_t)}

    p = ctx.params
    return match_features(ctx, match, {"distance": p.distance_weight, "angle": p.angle_weight})


METHOD = Method(
    id="rkd",
    title="Relational knowledge distillation (RKD)",
    papers=("1904.05068", TITLE),
    summary_zh="不匹配单个样本的输出，而匹配样本之间的关系：batch 内两两距离"
    "（除以平均距离）和三元组的夹角余弦，"
    "都用 Huber 损失：CE + λ_D·距离项 + λ_A·角度项，λ_D = 25、λ_A = 50"
    "（RepDistiller 的默认值）。特征是进入分类器前的全局池化向量。"
    "与论文的差别：网络是 8×8 数字上的小 CNN；"
    "教师（15 层卷积）每个种子一个，用全部训练数据训练并缓存。",
    summary_en="Not each sample's output but the relations between samples: distances "
    "between pairs in the batch (divided by their mean) and the cosines of the angles "
    "of triplets, each matched with a Huber loss: CE + λ_D·distance + λ_A·angle, "
    "λ_D = 25 and λ_A = 50 (RepDistiller's defaults), on "
    "the pooled features that enter the classifier. Deviations: a tiny CNN on 8×8 "
    "digits; the teacher (15 convs, one per seed) trains once on all training digits "
    "and is cached.",
    control_zh=PLAIN_CONTROL_ZH + TEACHER_COST_ZH + "。",
    control_en=PLAIN_CONTROL_EN + TEACHER_COST_EN + ".",
    params=RKDParams,
    models=("student", "baseline", "teacher"),
    recipe=recipe,
    teachers=plain_teacher,
    formula=(
        r"$L = \mathrm{CE}(\mathrm{softmax}(z_s), y) + w_d\,\mathrm{Huber}(\psi_D(s) - \psi_D(t)) "
        r"+ w_a\,\mathrm{Huber}(\psi_A(s) - \psi_A(t))$, $\psi_D$: distances over their mean, "
        r"$\psi_A$: angles"
    ),
    claims=(
        Claim(
            id="rkd.ce", paper="1904.05068", versus=CE_CONTROL, direction="better",
            zh="关系蒸馏优于纯交叉熵", en="Relational distillation beats plain cross-entropy",
            where="§4 (image classification on CIFAR-100 and Tiny ImageNet)",
            source="section as cited, from our reading of the paper (not re-read for this "
            "change)",
        ),
    ),
)
