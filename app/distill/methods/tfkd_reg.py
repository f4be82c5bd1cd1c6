"""Tf-KD reg (arXiv 1909.11723): a hand-made virtual teacher."""

from __future__ import annotations

import math

from pydantic import Field

from app.distill.claims import CE_CONTROL, COMPARABLE_MARGIN, KD_STUDENT, LSR_STUDENT, Claim
from app.distill.params import Alpha, LockstepParams
from app.distill.spec import PLAIN_CONTROL_EN, PLAIN_CONTROL_ZH, Method


class TfKDRegParams(LockstepParams):
    temperature: float = Field(
        20.0, ge=1.0, le=100.0, description="Temperature T of the virtual teacher."
    )
    alpha: Alpha = 0.1
    correct_prob: float = Field(
        0.99, ge=0.1, le=1.0,
        description="Probability the hand-made teacher gives the true class before softening.",
    )


def comparable_to_kd(method_id: str) -> Claim:
    """Tf-KD's claim against KD, which both of its variants make."""
    return Claim(
        id=f"{method_id}.kd", paper="1909.11723", versus=KD_STUDENT,
        direction="comparable", margin=COMPARABLE_MARGIN,
        zh="Tf-KD 与从更强教师做的普通 KD 效果相当",
        en="Tf-KD performs comparably to normal KD from a superior teacher",
        where="abstract ('comparable performance with normal KD from a superior teacher')",
        source="abstract read for this change; the paper gives no margin: ±1 point is "
            "ours",
    )


def tfkd_virtual_teacher(num_classes: int, temperature: float, correct_prob: float) -> list[float]:
    """The virtual teacher, true class first: softmax(p / T) of the hand-made
    p = ``correct_prob`` on the true class and (1 − ``correct_prob``)/(K − 1) elsewhere."""
    if num_classes < 2 or temperature <= 0:
        raise ValueError("need at least two classes and a positive temperature")
    other = (1.0 - correct_prob) / (num_classes - 1)
    top = max(correct_prob, other)  # subtract the largest logit before exp, as softmax does
    e_true = math.exp((correct_prob - top) / temperature)
    e_other = math.exp((other - top) / temperature)
    z = e_true + (num_classes - 1) * e_other
    return [e_true / z] + [e_other / z] * (num_classes - 1)


def recipe(ctx):
    from app.distill.loops import train_single
    from app.distill.losses import cross_entropy, tfkd_reg_loss

    p = ctx.params

    def terms(model, x, y):
        logits = model(x)
        ce = cross_entropy(logits, y)
        reg = tfkd_reg_loss(logits, y, p.temperature, p.correct_prob)
        return {"total": (1 - p.alpha) * ce + p.alpha * reg, "ce": ce, "reg": reg}

    return train_single(ctx, terms)


_VT = tfkd_virtual_teacher(10, 20.0, 0.99)
_VT_TEXT = f"{_VT[0]:.3f} / {_VT[1]:.4f}"

METHOD = Method(
    id="tfkd_reg",
    title="Tf-KD reg: a hand-made virtual teacher",
    papers=("1909.11723",),
    summary_zh="虚拟教师：真实类概率 a=0.99、其余 (1−a)/(K−1)，再经温度 T 软化；"
    "损失 = (1−α)·CE + α·KL(教师 ‖ softmax(学生))，学生侧不加温度（与作者代码一致，"
    f"论文公式里学生侧也有温度）。K=10、T=20 时教师分布为 真实类/其他类 = {_VT_TEXT}，"
    "几乎是均匀分布——所以它和 LSR 几乎是同一个正则项，这正解释了笔记中“TF-KD 并不比 LSR "
    "好多少”的疑问。",
    summary_en="Virtual teacher: a = 0.99 on the true class, (1−a)/(K−1) elsewhere, softened "
    "at temperature T; loss = (1−α)·CE + α·KL(teacher ‖ softmax(student)), with no "
    "temperature on the student side, as in the authors' code (the paper's equation also "
    f"softens the student). With K=10 and T=20 the teacher gives {_VT_TEXT} (true class / "
    "each other class): nearly uniform, so this is label smoothing in all but name, which "
    "is why the notes doubt that Tf-KD beats LSR by much.",
    control_zh=PLAIN_CONTROL_ZH + "。",
    control_en=PLAIN_CONTROL_EN + ".",
    params=TfKDRegParams,
    models=("student", "baseline"),
    recipe=recipe,
    formula=(
        r"$L = (1-\alpha)\,\mathrm{CE}(\mathrm{softmax}(z_s), y) + \alpha\,\mathrm{KL}(p^d \,\|\, "
        r"\mathrm{softmax}(z_s))$, $p^d = \mathrm{softmax}(v/T)$ with the virtual teacher's $p_y = "
        r"a$, $p_k = (1-a)/(K-1)$"
    ),
    claims=(
        Claim(
            id="tfkd_reg.ce", paper="1909.11723", versus=CE_CONTROL, direction="better",
            zh="手工虚拟教师（Tf-KD reg）优于纯交叉熵",
            en="The hand-made virtual teacher (Tf-KD reg) beats plain cross-entropy",
            where="abstract; §5 (Tf-KD reg against the baselines)",
            source="abstract read for this change",
        ),
        comparable_to_kd("tfkd_reg"),
        Claim(
            id="tfkd_reg.lsr", paper="1909.11723", versus=LSR_STUDENT, direction="better",
            zh="Tf-KD 优于标签平滑（笔记对此存疑：K=10、T=20 时虚拟教师几乎是均匀分布）",
            en="Tf-KD beats label smoothing (the notes doubt it: at K=10, T=20 the "
            "virtual teacher is nearly uniform)",
            where="abstract ('superior to label smoothing regularization', ImageNet)",
            source="abstract read for this change; the doubt is the seed note's",
        ),
    ),
)
