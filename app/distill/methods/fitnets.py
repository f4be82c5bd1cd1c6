"""FitNets: hints for thin deep nets (Romero et al., arXiv 1412.6550)."""

from __future__ import annotations

from pydantic import Field

from app.distill.claims import KD_STUDENT, Claim
from app.distill.params import Alpha, TeacherParams, Temperature
from app.distill.spec import STAGED_CONTROL_EN, STAGED_CONTROL_ZH, Method
from app.distill.teacher_cache import plain_teacher

HINT_STAGE = 1  # the middle of the three stages: the paper's guided and hint layers
REGRESSOR_SEED_OFFSET = 6007

TITLE = "FitNets: Hints for Thin Deep Nets"


class FitNetsParams(TeacherParams):
    epochs: int = Field(
        15, ge=1, le=30,
        description="Epochs of the train phase (stage 2, KD). With stage 1 the demo "
        "spends the same 20 epochs of steps as every other demo.",
    )
    stage1_epochs: int = Field(
        5, ge=1, le=30,
        description="Epochs of stage 1, where the student's first two stages and the "
        "regressor learn the teacher's middle stage. The control trains with CE through "
        "both stages.",
    )
    hint_weight: float = Field(
        1.0, ge=0.01, le=1000.0,
        description="Weight of the hint loss (a mean squared error) in stage 1.",
    )
    temperature: Temperature = 4.0
    alpha: Alpha = 0.9


def recipe(ctx):
    import torch

    from app.distill.feature_losses import hint_loss
    from app.distill.heads import HintRegressor
    from app.distill.loops import build_student, distill_from, stage_one
    from app.distill.models import WIDTHS, from_groups, to_groups
    from app.distill.teacher import TeacherSettings, get_teacher

    p = ctx.params
    teacher, scores = get_teacher(ctx, TeacherSettings("cnn15", p.teacher_epochs, 1.0))
    model = build_student(ctx)
    width = WIDTHS[HINT_STAGE]
    regressor = ctx.build(lambda k: HintRegressor(k, width, width), offset=REGRESSOR_SEED_OFFSET)
    guided = [*model.stages[:HINT_STAGE + 1].parameters(), *regressor.parameters()]

    def guided_maps(x):
        h = to_groups(x)
        for stage in model.stages[:HINT_STAGE + 1]:  # the layers after it stay untouched
            h = stage(h)
        return from_groups(h, model.k)

    def terms(x):
        with torch.no_grad():
            _, t_maps = teacher.features(x)
        hint = hint_loss(regressor(guided_maps(x)), t_maps[HINT_STAGE])
        return {"total": p.hint_weight * hint, "hint": hint}

    base = stage_one(ctx, model, scores, guided, terms)
    return distill_from(ctx, teacher, scores, model, base)


METHOD = Method(
    id="fitnets",
    title="FitNets: hints for thin deep nets",
    papers=("1412.6550", TITLE),
    summary_zh="两阶段。stage1：学生前两个卷积阶段（引导层）的输出经一个回归器"
    "（1×1 卷积 + BN + ReLU）去拟合教师第二阶段（提示层）的输出，损失是均方误差，"
    "只训练这两个阶段和回归器；train 阶段：回归器丢弃，整个学生用 KD 训练："
    "(1−α)·CE + α·T²·KL，T = 4、α = 0.9（与 kd 演示相同）。默认 5 + 15 轮，"
    "与其他演示同为 20 轮的步数。与论文的差别：论文的学生更深更窄、第二阶段 KD 的权重 λ 从 4 "
    "线性降到 1，这里用 kd 演示的固定 α；网络是 8×8 数字上的小 CNN，"
    "教师（15 层卷积）每个种子一个，用全部训练数据训练并缓存。",
    summary_en="Two phases. stage1: the output of the student's first two conv stages "
    "(the guided layer) goes through a regressor (1×1 conv, BN, ReLU) to fit the output "
    "of the teacher's second stage (the hint) by mean squared error, training only those "
    "stages and the regressor; train: the regressor is dropped and the whole student "
    "trains with KD, (1−α)·CE + α·T²·KL, T = 4, α = 0.9 (as the kd demo). By default "
    "5 + 15 epochs: the same 20 epochs of steps as every other demo. Deviations: the "
    "paper's student is deeper and thinner than its teacher, and its stage-2 KD weight λ "
    "anneals from 4 to 1; here the kd demo's fixed α; a tiny CNN on 8×8 digits, the "
    "teacher (15 convs, one per seed) trains once on all training digits and is cached.",
    control_zh=STAGED_CONTROL_ZH,
    control_en=STAGED_CONTROL_EN,
    params=FitNetsParams,
    models=("student", "baseline", "teacher"),
    recipe=recipe,
    teachers=plain_teacher,
    control_params=frozenset({"stage1_epochs"}),  # the control steps on both stages
    formula=(
        r"stage 1: $\operatorname{mean}(u_h(x) - r(v_g(x)))^2$, teacher's middle stage $u_h$, "
        r"regressor $r$ on the student's $v_g$; stage 2: $(1-\alpha)\,\mathrm{CE} + \alpha "
        r"T^2\,\mathrm{KL}(\mathrm{softmax}(z_t/T) \,\|\, \mathrm{softmax}(z_s/T))$"
    ),
    claims=(
        Claim(
            id="fitnets.kd", paper="1412.6550", versus=KD_STUDENT, direction="better",
            zh="先用提示层训练，再做 KD，优于只做 KD",
            en="Hint training before KD beats KD alone",
            where="§5 Analysis of empirical results, Fig. 3 (CIFAR-10: hints vs KD)",
            source="abstract read for this change (its headline claim, a deeper, thinner "
            "student beating its teacher, cannot be tested with this demo's "
            "shallower student); §5 as cited",
        ),
    ),
)
