"""The registry of demos: one ``Method`` per distillation method (torch-free).

The web process imports this module to build forms and validate parameters, so it
must never import torch, directly or indirectly (a test checks it in a subprocess).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.distill import params as p

FSP_TITLE = (
    "A Gift from Knowledge Distillation:Fast Optimization, Network Minimization "
    "and Transfer Learning"
)


def tfkd_virtual_teacher(num_classes: int, temperature: float, correct_prob: float) -> list[float]:
    """The Tf-KD_reg virtual teacher, true class first: softmax(p / T) of the hand-made
    p = ``correct_prob`` on the true class and (1 − ``correct_prob``)/(K − 1) elsewhere."""
    if num_classes < 2 or temperature <= 0:
        raise ValueError("need at least two classes and a positive temperature")
    other = (1.0 - correct_prob) / (num_classes - 1)
    # Subtract the largest logit before exp, as softmax does.
    top = max(correct_prob, other)
    e_true = math.exp((correct_prob - top) / temperature)
    e_other = math.exp((other - top) / temperature)
    z = e_true + (num_classes - 1) * e_other
    return [e_true / z] + [e_other / z] * (num_classes - 1)


_VT = tfkd_virtual_teacher(10, 20.0, 0.99)
_VT_TEXT = f"{_VT[0]:.3f} / {_VT[1]:.4f}"


@dataclass(frozen=True)
class Method:
    id: str
    title: str
    papers: tuple[str, ...]
    summary_zh: str
    summary_en: str
    params: type[BaseModel]
    models: tuple[str, ...]


def _m(id_, title, papers, zh, en, params, models) -> Method:
    return Method(id_, title, tuple(papers), zh.strip(), en.strip(), params, tuple(models))


_TS = ("student", "baseline", "teacher")
_SB = ("student", "baseline")
_EXITS = ("student", "baseline", "exit1", "exit2", "exit3")

METHODS: dict[str, Method] = {
    m.id: m
    for m in [
        _m("baseline", "Plain cross-entropy", [],
           "学生网络只用交叉熵训练，其他所有方法都和它比较。",
           "The student trained with cross-entropy alone: the yardstick every method is "
           "compared against.",
           p.CommonParams, ["student"]),
        _m("kd", "Knowledge distillation (Hinton et al.)", ["1503.02531"],
           "损失 = (1−α)·CE + α·T²·KL(softmax_T(教师) ‖ softmax_T(学生))，教师不回传梯度。"
           "教师是更深的 CNN，用全部训练数据训练（结果缓存）；学生默认只看 10% 的数据，"
           "对应论文里“只用 3% 数据”的实验：软标签在数据少时最有用。",
           "loss = (1−α)·CE + α·T²·KL(softmax_T(teacher) ‖ softmax_T(student)), teacher "
           "detached. The teacher, a deeper CNN, trains once on all training digits and is "
           "cached; by default the student sees 10% of them, as in the paper's 3%-of-the-data "
           "experiment, where soft targets help most.",
           p.KDParams, _TS),
        _m("lsr", "Label smoothing regularisation", ["1909.11723"],
           "目标分布：真实类 1−ε，其余每类 ε/(K−1)（Tf-KD 论文所用的 LSR，作者代码同此；"
           "与 PyTorch 自带的 label_smoothing 参数化不同）。"
           "可看作一个永远输出均匀分布的“虚拟教师”。",
           "Cross-entropy against 1−ε on the true class and ε/(K−1) on each other class (the "
           "LSR of the Tf-KD paper and its code; PyTorch's label_smoothing parametrises it "
           "differently). A virtual teacher that always answers the uniform distribution.",
           p.LSRParams, _SB),
        _m("tfkd_self", "Tf-KD self: the student teaches itself", ["1909.11723"],
           "先用普通交叉熵训练一个与学生同结构的网络（结果缓存，只用学生同样的数据），"
           "再用它做 KD 的教师：(1−α)·CE + α·T²·KL。没有更强的教师，也能带来提升吗？",
           "A copy of the student's architecture is first trained with plain cross-entropy on "
           "the same data (cached), then serves as the KD teacher: (1−α)·CE + α·T²·KL. Does "
           "distillation help without a stronger teacher?",
           p.TfKDSelfParams, _TS),
        _m("tfkd_reg", "Tf-KD reg: a hand-made virtual teacher", ["1909.11723"],
           "虚拟教师：真实类概率 a=0.99、其余 (1−a)/(K−1)，再经温度 T 软化；"
           "损失 = (1−α)·CE + α·KL(教师 ‖ softmax(学生))，学生侧不加温度（与作者代码一致，"
           f"论文公式里学生侧也有温度）。K=10、T=20 时教师分布为 真实类/其他类 = {_VT_TEXT}，"
           "几乎是均匀分布——所以它和 LSR 几乎是同一个正则项，这正解释了笔记中“TF-KD 并不比 LSR "
           "好多少”的疑问。",
           "Virtual teacher: a = 0.99 on the true class, (1−a)/(K−1) elsewhere, softened at "
           "temperature T; loss = (1−α)·CE + α·KL(teacher ‖ softmax(student)), with no "
           "temperature on the student side, as in the authors' code (the paper's equation "
           f"also softens the student). With K=10 and T=20 the teacher gives {_VT_TEXT} "
           "(true class / each other class): nearly uniform, so this is label smoothing in "
           "all but name, which is why the notes doubt that Tf-KD beats LSR by much.",
           p.TfKDRegParams, _SB),
        _m("sp", "Similarity-preserving KD", ["1907.09682"],
           "对最后一个卷积阶段的特征，计算 batch 内样本两两相似度矩阵 G=F·Fᵀ（逐行 L2 归一化），"
           "让学生的矩阵逼近教师的：CE + γ·‖Ĝ_t − Ĝ_s‖²_F / B²。学生和教师的特征维度可以不同。"
           "教师（15 层卷积）用全部训练数据训练一次并缓存。",
           "On the last conv stage, the B×B matrix of pairwise similarities within the batch, "
           "G = F·Fᵀ with rows L2-normalised; the student's matches the teacher's: "
           "CE + γ·‖Ĝ_t − Ĝ_s‖²_F / B². Feature sizes may differ between the two. The "
           "teacher (15 convs) trains once on all training digits and is cached.",
           p.SPParams, _TS),
        _m("fsp", "FSP matrices (A Gift from Knowledge Distillation)", [FSP_TITLE],
           "相邻两个阶段特征图的内积矩阵 G（C1×C2，空间上取平均）描述“解题流程”。两阶段："
           "stage1 只训练学生主干去拟合教师的 FSP 矩阵，然后 train 阶段正常用 CE 训练。"
           "学生与教师在各阶段通道数相同（无需适配层）。基线只参加 train 阶段，从学生 stage1 之前的"
           "权重出发。论文的主张是“优化更快”，所以默认 train 阶段只有 5 个 epoch；"
           "训练更久时基线会追上。",
           "The Gram matrix G (C1×C2, averaged over positions) between consecutive stages' "
           "maps, the 'flow of solution procedure'. Two phases: stage1 trains only the "
           "student's body to match the teacher's FSP matrices, then train fits everything "
           "with CE. Student and teacher have equal widths at every stage (no adapter). The "
           "baseline trains only during the train phase, from the student's weights before "
           "stage1. The paper claims faster optimisation, so the train phase defaults to 5 "
           "epochs; trained longer, the baseline catches up.",
           p.FSPParams, _TS),
        _m("cskd", "Class-wise self-KD (CS-KD)", ["2003.13964"],
           "每个样本配一个同类的另一个样本；CE 只算在前一半，外加 λ·T²·KL(softmax_T(配对样本) ‖ "
           "softmax_T(样本))，配对样本的输出不回传梯度。要求同类样本的预测分布一致。",
           "Every sample is paired with another sample of its class; CE on the first half "
           "only, plus λ·T²·KL(softmax_T(pair) ‖ softmax_T(sample)) with the pair's output "
           "detached: same-class inputs should get the same predictive distribution. The "
           "baseline sees the first halves.",
           p.CSKDParams, _SB),
        _m("byot", "Be Your Own Teacher (BYOT)", ["1905.08094"],
           "网络每个阶段后接一个分类出口（浅层出口通过 bottleneck 分支对齐特征）。最深出口当教师："
           "所有出口 (1−α)·CE，浅层出口 α·T²·KL(最深 ‖ 浅层) + λ·‖F_浅 − F_深‖²。"
           "基线是同一网络只用最深出口的 CE 训练。"
           "KL 项按 Hinton 的做法乘 T²（与常用的复现代码一致）；"
           "作者公开的代码不乘 T²，也没有特征项。",
           "An exit after every stage (shallow exits align their features through bottleneck "
           "branches). The deepest exit teaches: (1−α)·CE on every exit, α·T²·KL(deepest ‖ "
           "shallow) and λ·‖F_shallow − F_deepest‖² on the shallow ones. The baseline is the "
           "same network trained with CE on the deepest exit only. The KL terms carry "
           "Hinton's T², as the widely used re-implementation does; the authors' released "
           "code has no T² and no feature term.",
           p.SelfDistillParams, _EXITS),
        _m("msd", "Multi-self-distillation (MSD)", ["1911.09418"],
           "与 BYOT 同一网络、同样的 CE 和特征项，唯一区别：每个出口都向其他所有出口学习"
           "（对其他出口的 KL 取平均），最深出口也向浅层出口学习。"
           "作者未公开代码，这是我们对论文的理解；"
           "和 BYOT 并排运行即可看出差别。",
           "The BYOT network with the same CE and feature terms; the only difference is that "
           "every exit learns from every other one (the mean KL to the others), the deepest "
           "included. No author code is public: this is our reading of the paper. Run it "
           "beside BYOT to see the difference.",
           p.SelfDistillParams, _EXITS),
        _m("dml", "Deep mutual learning (DML)", ["1706.00384"],
           "两个同结构、不同初始化的网络互相学习：各自 CE + KL(softmax(对方) ‖ softmax(自己))，"
           "对方不回传梯度；两个损失来自同一次前向，计算完再同时更新。",
           "Two networks of the student's architecture, initialised differently, teach each "
           "other: each minimises CE + KL(softmax(peer) ‖ softmax(own)), the peer detached; "
           "both losses come from one shared forward pass before either optimiser steps.",
           p.DMLParams, ("student", "peer", "baseline")),
    ]
}


def _arxiv_core(arxiv_id: str) -> str:
    return re.sub(r"v\d+$", "", arxiv_id.strip().lower().removeprefix("arxiv:"))


def _title_key(title: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", title.casefold())


def methods_for_paper(arxiv_id: str | None, title: str) -> list[Method]:
    """The methods that demo a paper, matched by arXiv id (version suffix ignored) or,
    for papers without one, by title (case, spaces and punctuation ignored)."""
    keys = set()
    if arxiv_id:
        keys.add(_arxiv_core(arxiv_id))
    if title and _title_key(title):
        keys.add(_title_key(title))
    found = []
    for method in METHODS.values():
        own = {_arxiv_core(x) for x in method.papers} | {_title_key(x) for x in method.papers}
        if own & keys:
            found.append(method)
    return found


class RunConfig(BaseModel):
    """One run: the method, its raw parameters (validated by the trainer against the
    method's model), where teacher checkpoints live, and where to train."""

    model_config = ConfigDict(extra="forbid")

    method: str
    params: dict = Field(default_factory=dict)
    data_dir: Path
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = Field(0, ge=0, le=64, description="torch threads (0: leave torch's default).")

    @field_validator("method")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METHODS:
            raise ValueError(f"unknown method {value!r}; known: {', '.join(METHODS)}")
        return value
