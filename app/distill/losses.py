"""The loss of every method, each a pure function of tensors.

Every loss takes tensors with any leading dimensions before the batch and returns
one value per leading index: logits (B, K) give a scalar, logits (k, B, K) of k
seeds trained together give (k,), seed by seed. Stage maps are (..., B, C, H, W),
pooled features (..., B, D).

Notation used in the docstrings: ``KL(p ‖ q) = Σ_k p_k (log p_k − log q_k)``, **summed
over classes and averaged over the batch** (``reduction="batchmean"``, never PyTorch's
``"mean"``, which also divides by the number of classes); ``softmax_T(z) =
softmax(z / T)``; ``CE`` is cross-entropy averaged over the batch; "detached" means
that no gradient flows into that tensor. Targets built from another network (teacher,
pair, peer, deepest exit) are always detached here, so callers cannot forget it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """CE averaged over the batch: logits (..., B, K), integer targets (..., B)."""
    per_sample = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), targets.reshape(-1), reduction="none"
    )
    return per_sample.view(targets.shape).mean(dim=-1)


def _kl_from_logits(target_logits: Tensor, logits: Tensor, temperature: float) -> Tensor:
    """KL(softmax_T(target) ‖ softmax_T(logits)), batch mean; target detached."""
    log_p = F.log_softmax(target_logits.detach() / temperature, dim=-1)
    log_q = F.log_softmax(logits / temperature, dim=-1)
    return (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean(dim=-1)


def kd_loss(student_logits: Tensor, teacher_logits: Tensor, temperature: float) -> Tensor:
    """Hinton et al. (arXiv 1503.02531)::

        kd = T² · KL(softmax_T(teacher) ‖ softmax_T(student)),   teacher detached.

    T² keeps the soft-target gradients on the scale of the hard-target ones when T
    changes (section 2 of the paper). The KD method's total is (1−α)·CE + α·kd.
    """
    t = float(temperature)
    return t * t * _kl_from_logits(teacher_logits, student_logits, t)


def label_smoothing_loss(logits: Tensor, targets: Tensor, epsilon: float) -> Tensor:
    """Label smoothing regularisation, as the LSR of arXiv 1909.11723::

        q_k = 1 − ε if k is the true class, else ε / (K − 1)
        lsr = −(1/B) Σ_b Σ_k q_k log softmax(logits_b)_k

    This is the Tf-KD authors' ``loss_label_smoothing`` (my_loss_function.py). The
    paper writes q' = (1 − a)·onehot + a/K; the two agree with ε = a·(K − 1)/K.
    PyTorch's ``cross_entropy(label_smoothing=ε)`` is the a-form, so it differs.
    """
    k = logits.size(-1)
    log_q = F.log_softmax(logits, dim=-1)
    soft = torch.full_like(log_q, float(epsilon) / (k - 1))
    soft.scatter_(-1, targets.unsqueeze(-1), 1.0 - float(epsilon))
    return -(soft * log_q).sum(dim=-1).mean(dim=-1)


def tfkd_virtual_teacher_probs(
    targets: Tensor,
    num_classes: int,
    temperature: float,
    correct_prob: float = 0.99,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """The Tf-KD_reg virtual teacher for each sample: softmax_T of the hand-made p."""
    p = torch.full(
        (*targets.shape, num_classes), (1.0 - correct_prob) / (num_classes - 1),
        dtype=dtype, device=targets.device,
    )
    p.scatter_(-1, targets.unsqueeze(-1), float(correct_prob))
    return F.softmax(p / temperature, dim=-1)


def tfkd_reg_loss(
    logits: Tensor, targets: Tensor, temperature: float, correct_prob: float = 0.99
) -> Tensor:
    """Teacher-free KD with a manually designed teacher (Tf-KD_reg, arXiv 1909.11723)::

        p_k = correct_prob on the true class, (1 − correct_prob)/(K − 1) elsewhere
        t   = softmax_T(p)                       (the "virtual teacher")
        reg = KL(t ‖ softmax(logits))            (no temperature on the student side)

    As in the authors' ``loss_kd_regularization`` (my_loss_function.py), which the
    paper's numbers come from; the paper's equation writes the student at temperature
    T too. Their ``nn.KLDivLoss()`` averages over batch × classes and multiplies by
    ``multiplier`` = 100 for K = 100 classes, i.e. exactly this batch-mean KL.
    """
    t = tfkd_virtual_teacher_probs(
        targets, logits.size(-1), temperature, correct_prob, dtype=logits.dtype
    )
    log_q = F.log_softmax(logits, dim=-1)
    return (t * (t.log() - log_q)).sum(dim=-1).mean(dim=-1)


def sp_loss(student_features: Tensor, teacher_features: Tensor) -> Tensor:
    """Similarity-preserving KD (Tung & Mori, arXiv 1907.09682)::

        F ∈ R^{B×D} (each map flattened), G = F·Fᵀ, Ĝ = G with every row L2-normalised
        sp = ‖Ĝ_t − Ĝ_s‖²_F / B²,                 teacher detached.

    Features are (..., B, D): flatten stage maps first. Rows normalised as in the
    paper's eq. 2 and RepDistiller's distiller_zoo/SP.py (``F.normalize`` on dim 1,
    then the squared sum divided by bsz²).
    """
    f_s, f_t = student_features, teacher_features.detach()
    b = f_s.size(-2)
    g_s = F.normalize(f_s @ f_s.mT, dim=-1)
    g_t = F.normalize(f_t @ f_t.mT, dim=-1)
    return (g_t - g_s).pow(2).sum(dim=(-2, -1)) / (b * b)


def fsp_matrix(first: Tensor, second: Tensor) -> Tensor:
    """Flow of solution procedure matrix (Yim et al., CVPR 2017), shape (B, C1, C2)::

        G[b, i, j] = (1 / (h·w)) Σ_{s,t} first[b, i, s, t] · second[b, j, s, t]

    The map with more spatial positions is first adaptive-average-pooled to the other's
    size (as RepDistiller's distiller_zoo/FSP.py does between ResNet stages).
    """
    (h1, w1), (h2, w2) = first.shape[-2:], second.shape[-2:]
    if h1 * w1 > h2 * w2:
        first = _pool_to(first, (h2, w2))
    elif h2 * w2 > h1 * w1:
        second = _pool_to(second, (h1, w1))
    hw = first.shape[-2] * first.shape[-1]
    return torch.einsum("...ihw,...jhw->...ij", first, second) / hw


def _pool_to(maps: Tensor, size: tuple[int, int]) -> Tensor:
    """adaptive_avg_pool2d over the last two dims, any leading dims."""
    lead = maps.shape[:-3]
    pooled = F.adaptive_avg_pool2d(maps.reshape(-1, *maps.shape[-3:]), size)
    return pooled.view(*lead, *pooled.shape[-3:])


def fsp_loss(student_maps: Sequence[Tensor], teacher_maps: Sequence[Tensor]) -> Tensor:
    """FSP distillation loss over consecutive pairs of maps (Yim et al., CVPR 2017)::

        fsp = Σ_{i} mean_{b,c1,c2} (G_s(i, i+1) − G_t(i, i+1))²,     teacher detached.

    The paper's loss is (1/N) Σ_x Σ_i λ_i ‖G_t − G_s‖²₂ with the same λ_i for every
    pair and no value given; the mean over matrix entries is λ_i = 1/(C1·C2), as in
    RepDistiller. Student and teacher need equal channel counts at every map.
    """
    if len(student_maps) != len(teacher_maps) or len(student_maps) < 2:
        raise ValueError("fsp_loss needs two equal-length lists of at least two maps")
    total = 0
    for i in range(len(student_maps) - 1):
        g_s = fsp_matrix(student_maps[i], student_maps[i + 1])
        g_t = fsp_matrix(teacher_maps[i].detach(), teacher_maps[i + 1].detach())
        if g_s.shape != g_t.shape:
            raise ValueError(f"FSP shapes differ at pair {i}: {g_s.shape} vs {g_t.shape}")
        total = total + (g_s - g_t).pow(2).mean(dim=(-3, -2, -1))
    return total


def cskd_loss(logits: Tensor, pair_logits: Tensor, temperature: float) -> Tensor:
    """Class-wise self-knowledge distillation (Yun et al., arXiv 2003.13964)::

        cls = T² · KL(softmax_T(z(x′)) ‖ softmax_T(z(x))),   x′ another sample of x's class,
                                                             pair detached.

    As the authors' ``KDLoss`` in alinlab/cs-kd train.py (KL summed, divided by the
    batch size, times T²; pair logits computed under ``no_grad``).
    """
    t = float(temperature)
    return t * t * _kl_from_logits(pair_logits, logits, t)


def _feature_distance(exit_features: Sequence[Tensor]) -> Tensor:
    """Σ_{i < C} ‖F_i − F_C‖₂ over the whole batch (not squared, not averaged), F_C
    detached: ``torch.dist`` in the BYOT authors' train.py."""
    deep = exit_features[-1].detach()
    return sum(torch.linalg.vector_norm(f - deep, dim=(-2, -1)) for f in exit_features[:-1])


def _self_distill_dict(ce: Tensor, kd: Tensor, feature: Tensor) -> dict[str, Tensor]:
    return {"total": ce + kd + feature, "ce": ce, "kd": kd, "feature": feature}


def byot_loss(
    exit_logits: Sequence[Tensor],
    exit_features: Sequence[Tensor],
    targets: Tensor,
    temperature: float,
    alpha: float,
    feature_weight: float,
) -> dict[str, Tensor]:
    """Be Your Own Teacher (Zhang et al., arXiv 1905.08094), as the authors' code
    (ArchipLab-LinfengZhang/pytorch-self-distillation-final, train.py). Lists go
    shallow → deep; the deepest exit C teaches, its logits and feature detached::

        ce      = CE(z_C, y) + (1 − α) · Σ_{i < C} CE(z_i, y)
        kd      = α · Σ_{i < C} KL(softmax_T(z_C) ‖ softmax_T(z_i))         (no T²)
        feature = λ · Σ_{i < C} ‖F_i − F_C‖₂        (F_i: exit i's pooled branch output)
        total   = ce + kd + feature

    The authors' soft cross-entropy −Σ softmax_T(z_C)·log softmax_T(z_i) differs from
    this KL by the teacher's entropy, a constant: the same gradient. Their feature term
    passes F_i through a linear adaptation layer first and skips one shallow exit; here
    the bottleneck branches already give F_i the deepest feature's shape.
    """
    t = float(temperature)
    deep, shallow = exit_logits[-1], exit_logits[:-1]
    ce = cross_entropy(deep, targets) + (1.0 - alpha) * sum(
        cross_entropy(z, targets) for z in shallow)
    kd = alpha * sum(_kl_from_logits(deep, z, t) for z in shallow)
    return _self_distill_dict(ce, kd, feature_weight * _feature_distance(exit_features))


def msd_loss(
    exit_logits: Sequence[Tensor],
    exit_features: Sequence[Tensor],
    targets: Tensor,
    temperature: float,
    alpha: float,
    feature_weight: float,
) -> dict[str, Tensor]:
    """Multi-self-distillation (Luan et al., arXiv 1911.09418), our reading of the
    paper's abstract (no author code is public): every classifier learns from every
    other one::

        ce      = (1 − α) · Σ_{all exits i} CE(z_i, y)
        kd      = α · Σ_{all exits i} mean_{j ≠ i} KL(softmax_T(z_j) ‖ softmax_T(z_i)),
                  every z_j detached where it is a target                  (no T²)
        feature = λ · Σ_{i < C} ‖F_i − F_C‖₂                  (as byot_loss)
        total   = ce + kd + feature

    Against ``byot_loss``: the deepest exit also learns from the shallow ones (so its
    CE, too, gets 1 − α), and shallow exits learn from each other, not only from the
    deepest.
    """
    t = float(temperature)
    n = len(exit_logits)
    ce = (1.0 - alpha) * sum(cross_entropy(z, targets) for z in exit_logits)
    kd = 0
    for i, z_i in enumerate(exit_logits):
        pair = sum(_kl_from_logits(z_j, z_i, t) for j, z_j in enumerate(exit_logits) if j != i)
        kd = kd + pair / (n - 1)
    return _self_distill_dict(ce, alpha * kd, feature_weight * _feature_distance(exit_features))


def dml_loss(logits: Tensor, peer_logits: Sequence[Tensor] | Tensor, targets: Tensor) -> Tensor:
    """Deep mutual learning (Zhang et al., arXiv 1706.00384), the loss of one peer::

        dml = CE(z, y) + mean_{peers p} KL(softmax(z_p) ‖ softmax(z)),   peers detached.

    Eq. 10 of the paper for K peers (1/(K−1) Σ over the others), no temperature, as
    the authors' kl_loss_compute (YingZhangDUT/Deep-Mutual-Learning, train_models.py).
    """
    peers = [peer_logits] if isinstance(peer_logits, Tensor) else list(peer_logits)
    mimic = sum(_kl_from_logits(p, logits, 1.0) for p in peers) / len(peers)
    return cross_entropy(logits, targets) + mimic


def dkd_loss(student_logits: Tensor, teacher_logits: Tensor, targets: Tensor,
             temperature: float) -> dict[str, Tensor]:
    """Decoupled KD (Zhao et al., arXiv 2203.08679), its two parts, each times T²::

        b = [p_t, 1 − p_t]                    (target vs all others, at temperature T)
        p̂ = softmax_T over the non-target classes only
        tckd = T² · KL(b_teacher ‖ b_student),   nckd = T² · KL(p̂_teacher ‖ p̂_student)

    batch mean, teacher detached. The method's loss is CE + w·(α·tckd + β·nckd) with
    the warm-up factor w, as mdistiller's ``dkd_loss`` (mdistiller/distillers/DKD.py),
    whose ``−1000·gt_mask`` leaves the target out of p̂ the way the mask does here.
    """
    t = float(temperature)
    gt = F.one_hot(targets, student_logits.size(-1)).bool()
    p_s = F.softmax(student_logits / t, dim=-1)
    p_t = F.softmax(teacher_logits.detach() / t, dim=-1)
    b_s = torch.stack([(p_s * gt).sum(-1), (p_s * ~gt).sum(-1)], dim=-1)
    b_t = torch.stack([(p_t * gt).sum(-1), (p_t * ~gt).sum(-1)], dim=-1)
    # 0·log 0 = 0, as F.kl_div: a teacher certain at temperature T is no NaN.
    tckd = torch.where(b_t > 0, b_t * (b_t.log() - b_s.log()), 0.0).sum(dim=-1).mean(dim=-1)
    log_q_s = F.log_softmax((student_logits / t).masked_fill(gt, float("-inf")), dim=-1)
    log_q_t = F.log_softmax((teacher_logits.detach() / t).masked_fill(gt, float("-inf")), dim=-1)
    inner = torch.where(gt, 0.0, log_q_t.exp() * (log_q_t - log_q_s))
    nckd = inner.sum(dim=-1).mean(dim=-1)
    return {"tckd": t * t * tckd, "nckd": t * t * nckd}


def entropy(logits: Tensor) -> Tensor:
    """H(softmax(z)) = −Σ_k p_k log p_k per sample: (..., B)."""
    log_p = F.log_softmax(logits, dim=-1)
    return -(log_p.exp() * log_p).sum(dim=-1)


def confidence_penalty_loss(logits: Tensor, targets: Tensor, beta: float) -> Tensor:
    """Confidence penalty (Pereyra et al., arXiv 1701.06548)::

        cp = CE(z, y) − β · mean_b H(softmax(z_b))

    The paper's plain (not hinged) penalty; no author code is public, so this follows
    the paper's equation.
    """
    return cross_entropy(logits, targets) - float(beta) * entropy(logits).mean(dim=-1)


def smoothed_cross_entropy(logits: Tensor, targets: Tensor, smoothing: float) -> Tensor:
    """CE against (1 − a)·onehot + a/K (arXiv 1906.02629): the form of
    ``label_smoothing_loss`` with ε = a·(K − 1)/K, the label smoothing that the
    smoothed teacher trains with."""
    k = logits.size(-1)
    return label_smoothing_loss(logits, targets, float(smoothing) * (k - 1) / k)
