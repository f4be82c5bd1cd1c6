"""Tf-KD self (arXiv 1909.11723): the student's own architecture, pretrained, teaches it."""

from __future__ import annotations

from app.distill.claims import CE_CONTROL, COMPARABLE_MARGIN, KD_STUDENT, Claim
from app.distill.params import Alpha, TeacherParams, Temperature
from app.distill.spec import Method


class TfKDSelfParams(TeacherParams):
    temperature: Temperature = 6.0
    alpha: Alpha = 0.5


def recipe(ctx):
    from app.distill.loops import distill_from
    from app.distill.teacher import Recipe, get_teacher

    p = ctx.params
    # Trained as the baseline is (CE, the run's batch size, lr and training subset),
    # from other initial weights: no extra data, no stronger network.
    teacher, scores = get_teacher(ctx, Recipe("cnn3", p.teacher_epochs, p.train_fraction,
                                              p.lr, p.batch_size, p.weight_decay))
    return distill_from(ctx, teacher, scores)


METHOD = Method(
    id="tfkd_self",
    title="Tf-KD self: the student teaches itself",
    papers=("1909.11723",),
    summary_zh="先用普通交叉熵训练一个与学生同结构的网络（每"
    "个种子一个，结果缓存，只用学生同样的数据），"
    "再用它做 KD 的教师：(1−α)·CE + α·T²·KL。没有更强的教师，也能带来提升吗？",
    summary_en="A copy of the student's architecture is first trained with plain "
    "cross-entropy on the same data (one per seed, cached), then serves as the KD teacher: "
    "(1−α)·CE + α·T²·KL. Does distillation help without a stronger teacher?",
    control_zh="对照：同样初始权重、同样批次、同样步数的纯"
    "交叉熵；预训练的自教师是比较之外的固定成本。",
    control_en="Control: plain CE from the same initial weights on the same batches for the "
    "same steps; pretraining the self-teacher is a fixed cost outside the comparison.",
    params=TfKDSelfParams,
    models=("student", "baseline", "teacher"),
    recipe=recipe,
    formula=(
        "L = (1−α)·CE(softmax(z_s), y) + α·T²·KL(softmax(z_t/T) ‖ "
        "softmax(z_s/T)),  z_t: a pretrained copy of the student"
    ),
    claims=(
        Claim(
            id="tfkd_self.ce", paper="1909.11723", versus=CE_CONTROL, direction="better",
            zh="自己教自己（Tf-KD self）优于纯交叉熵",
            en="Teaching itself (Tf-KD self) beats plain cross-entropy",
            where="abstract; §5 (CIFAR-100, Tf-KD self against the baseline)",
            source="abstract, checked",
        ),
        Claim(
            id="tfkd_self.kd", paper="1909.11723", versus=KD_STUDENT,
            direction="comparable", margin=COMPARABLE_MARGIN,
            zh="Tf-KD 与从更强教师做的普通 KD 效果相当",
            en="Tf-KD performs comparably to normal KD from a superior teacher",
            where="abstract ('comparable performance with normal KD from a superior teacher')",
            source="abstract, checked; the paper gives no margin: ±1 point is ours",
        ),
    ),
)
