"""Contrastive representation distillation, CRD (Tian et al., arXiv 1910.10699)."""

from __future__ import annotations

from pydantic import Field

from app.distill.claims import KD_STUDENT, Claim
from app.distill.params import TeacherParams
from app.distill.spec import PLAIN_CONTROL_EN, PLAIN_CONTROL_ZH, Method
from app.distill.teacher_cache import plain_teacher

TITLE = "Contrastive Representation Distillation"


# The embeddings' and memories' initial values, and the negatives, get their own seeds.
HEAD_SEED_OFFSET = 4001
SAMPLER_SEED_OFFSET = 2


class CRDParams(TeacherParams):
    beta: float = Field(0.8, ge=0.0, le=100.0,
                        description="Weight β of the contrastive term (RepDistiller's 0.8).")
    negatives: int = Field(
        40, ge=1, le=1024,
        description="Negatives M per positive, drawn without replacement from the other "
        "classes of the seed's training set, and capped at that pool (107 of the default "
        "119 digits). RepDistiller's 16,384 are a third of CIFAR-100's 50,000 images; 40 "
        "is a third of 119.",
    )
    nce_temperature: float = Field(0.07, ge=0.01, le=1.0,
                                   description="Temperature τ of the critic (0.07).")
    momentum: float = Field(0.5, ge=0.0, le=0.99,
                            description="Momentum of the memory update (0.5).")
    dim: int = Field(128, ge=8, le=256, description="Embedding size (128).")


def recipe(ctx):
    import torch

    from app.distill.engine import Evaluator, ce_step, watch
    from app.distill.feature_losses import crd_nce_loss
    from app.distill.heads import CRDHead
    from app.distill.loops import build_student, control, train_phase
    from app.distill.losses import cross_entropy
    from app.distill.models import WIDTHS
    from app.distill.pairs import NegativeSampler
    from app.distill.teacher import TeacherSettings, get_teacher

    p, split = ctx.params, ctx.split
    teacher, scores = get_teacher(ctx, TeacherSettings("cnn15", p.teacher_epochs, 1.0))
    n, width = split.num_train, WIDTHS[-1]
    head = ctx.build(lambda k: CRDHead(k, width, width, p.dim, n, p.nce_temperature,
                                       p.momentum), offset=HEAD_SEED_OFFSET)
    sampler = NegativeSampler(split.y_train, [s + SAMPLER_SEED_OFFSET for s in ctx.seeds],
                              p.negatives)
    batches = ctx.batches()
    steps = p.epochs * len(batches)
    model = build_student(ctx)
    student = ctx.learner(model, steps, parameters=[*model.parameters(), *head.parameters()])
    base = control(ctx, model, steps)
    models = {"student": model} | ({"baseline": base.model} if base else {})

    def step(idx):
        x, y = split.batch(idx)
        with torch.no_grad():
            _, t_maps = teacher.features(x)
        logits, maps = model.features(x)
        ce = cross_entropy(logits, y)
        # The pooled features that enter the classifier, as RepDistiller's feat[-1].
        out_s, out_t = head(maps[-1].mean(dim=(-2, -1)), t_maps[-1].mean(dim=(-2, -1)),
                            idx, sampler(idx))
        crd = crd_nce_loss(out_s, n) + crd_nce_loss(out_t, n)
        student.update(ce + p.beta * crd)
        out = {"student": {"total": ce + p.beta * crd, "ce": ce, "crd": crd}}
        if base is not None:
            out["baseline"] = ce_step(base, x, y)
        return out

    return train_phase(ctx, batches, step, Evaluator(watch(models), split, scores), scores)


METHOD = Method(
    id="crd",
    title="Contrastive representation distillation (CRD)",
    papers=("1910.10699", TITLE),
    summary_zh="对比学习：学生与教师的池化特征各经一个线性层投到 128 维单位球上，"
    "同一样本的师生嵌入是正对，其他类样本的嵌入（来自每个训练样本一条、动量 0.5 更新的记忆库）"
    "是负对；用 NCE 损失（τ = 0.07）让正对可分：CE + β·(L_学生锚 + L_教师锚)，β = 0.8。"
    "与论文的差别：数据集很小（默认每个种子 119 个训练样本），"
    "所以每个正对只配 40 个负样本（约为训练集的三分之一，"
    "与 RepDistiller 在 CIFAR-100 上 16384/50000 的比例相当），从其他类中不放回抽取，"
    "且不超过其他类样本的数目；记忆库大小等于训练集大小。网络是 8×8 数字上的小 CNN；"
    "教师（15 层卷积）每个种子一个，用全部训练数据训练并缓存。",
    summary_en="Contrastive: a linear layer each maps the student's and the teacher's "
    "pooled features onto the 128-d unit sphere; the two embeddings of one sample are a "
    "positive pair, embeddings of other classes' samples (from a memory with one row per "
    "training sample, momentum 0.5) negatives; an NCE loss (τ = 0.07) tells them apart: "
    "CE + β·(L_student anchor + L_teacher anchor), β = 0.8. Deviations: the data set is "
    "tiny (119 training digits per seed by default), so each positive gets 40 negatives "
    "(a third of the set, as RepDistiller's 16,384 of CIFAR-100's 50,000), drawn without "
    "replacement from the other classes and never more than they hold; the memory has "
    "the training set's size. A tiny CNN on 8×8 digits; the teacher (15 convs, one per "
    "seed) trains once on all training digits and is cached.",
    control_zh=PLAIN_CONTROL_ZH + "（不带嵌入层与记忆库）；教师的训练是比较之外的固定成本。",
    control_en=PLAIN_CONTROL_EN + " (no embeddings, no memory); training the teacher is a "
    "fixed cost outside the comparison.",
    params=CRDParams,
    models=("student", "baseline", "teacher"),
    recipe=recipe,
    teachers=plain_teacher,
    formula=(
        r"$L = \mathrm{CE}(\mathrm{softmax}(z_s), y) + \beta\,(\mathrm{NCE}(g_s) + "
        r"\mathrm{NCE}(g_t))$, $g_s$ against a memory of teacher embeddings, $g_t$ of student "
        r"ones, $\mathrm{NCE} = -\log h(P^+) - \sum_m \log(1 - h(P_m^-))$, $h(P) = P/(P + M/N)$, "
        r"$P \propto \exp(\langle m, g \rangle / \tau)$"
    ),
    claims=(
        Claim(
            id="crd.kd", paper="1910.10699", versus=KD_STUDENT, direction="better",
            zh="对比表征蒸馏优于 KD", en="Contrastive representation distillation beats KD",
            where="§4, Tables 1–2 (CIFAR-100, 13 teacher–student pairs)",
            source="section as cited, from our reading of the paper (not re-read for this "
            "change)",
        ),
    ),
)
