"""Tf-KD self (arXiv 1909.11723): the student's own architecture, pretrained, teaches it."""

from __future__ import annotations

from app.distill.claims import CE_CONTROL, Claim
from app.distill.methods.tfkd_reg import comparable_to_kd
from app.distill.params import Alpha, TeacherParams, Temperature
from app.distill.spec import Method
from app.distill.teacher_cache import TeacherSettings


class TfKDSelfParams(TeacherParams):
    # Ours, not the authors': their self-teacher configs (experiments/kd_experiments/
    # */*_self_teacher/params.json) use α = 0.95, T = 6 or 20, and a KL averaged over
    # batch × classes times a "multiplier" (50 for ResNet-18 on CIFAR-100), a weight
    # against CE that a batch-mean T²·KL on 10 classes does not reproduce.
    temperature: Temperature = 6.0
    alpha: Alpha = 0.5


def recipe(ctx):
    from app.distill.loops import distill_from
    from app.distill.teacher import get_teacher

    p = ctx.params
    # Trained as the baseline is (CE, the run's batch size, lr and training subset),
    # from other initial weights: no extra data, no stronger network.
    teacher, scores = get_teacher(ctx, *teachers(p))
    return distill_from(ctx, teacher, scores)


def teachers(p) -> tuple[TeacherSettings, ...]:
    """Its one teacher: the student's own architecture, trained as the baseline is."""
    return (TeacherSettings("cnn3", p.teacher_epochs, p.train_fraction, p.lr, p.batch_size,
                            p.weight_decay),)


METHOD = Method(
    id="tfkd_self",
    title="Tf-KD self: the student teaches itself",
    papers=("1909.11723",),
    summary_zh="先用普通交叉熵训练一个与学生同结构的网络（每"
    "个种子一个，结果缓存，只用学生同样的数据），"
    "再用它做 KD 的教师：(1−α)·CE + α·T²·KL。没有更强的教师，也能带来提升吗？"
    "α = 0.5、T = 6 是我们定的，不是作者的：作者自教师的配置用 α = 0.95、T 为 6 或 20，"
    "KL 对批次 × 类别取平均再乘一个系数（CIFAR-100 上 ResNet-18 为 50）。",
    summary_en="A copy of the student's architecture is first trained with plain "
    "cross-entropy on the same data (one per seed, cached), then serves as the KD teacher: "
    "(1−α)·CE + α·T²·KL. Does distillation help without a stronger teacher? α = 0.5 and "
    "T = 6 are ours, not the authors': their self-teacher configs use α = 0.95, T = 6 or "
    "20, and a KL averaged over batch × classes times a multiplier (50 for ResNet-18 on "
    "CIFAR-100).",
    control_zh="对照：同样初始权重、同样批次、同样步数的纯"
    "交叉熵；预训练的自教师是比较之外的固定成本。",
    control_en="Control: plain CE from the same initial weights on the same batches for the "
    "same steps; pretraining the self-teacher is a fixed cost outside the comparison.",
    params=TfKDSelfParams,
    models=("student", "baseline", "teacher"),
    recipe=recipe,
    teachers=teachers,
    formula=(
        r"$L = (1-\alpha)\,\mathrm{CE}(\mathrm{softmax}(z_s), y) + \alpha "
        r"T^2\,\mathrm{KL}(\mathrm{softmax}(z_t/T) \,\|\, \mathrm{softmax}(z_s/T))$, $z_t$: a "
        r"pretrained copy of the student"
    ),
    claims=(
        Claim(
            id="tfkd_self.ce", paper="1909.11723", versus=CE_CONTROL, direction="better",
            zh="自己教自己（Tf-KD self）优于纯交叉熵",
            en="Teaching itself (Tf-KD self) beats plain cross-entropy",
            where="abstract; §5 (CIFAR-100, Tf-KD self against the baseline)",
            source="abstract read for this change",
        ),
        comparable_to_kd("tfkd_self"),
    ),
)
