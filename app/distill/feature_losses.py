"""The losses of the feature-based methods, each a pure function of tensors.

As in ``losses.py``: any leading dims before the batch (the k seeds) give one value
per leading index; stage maps are (..., B, C, H, W), pooled features (..., B, D).
Every teacher-side tensor is detached here, so callers cannot forget it. Student and
teacher maps must have equal shapes (this project's student and teacher share their
widths; RepDistiller pools the larger map first, which is never needed here).

Reference code read for each (our own code, same arithmetic): HobbitLong/RepDistiller
``distiller_zoo/*.py`` and ``crd/*.py``; each docstring names its file.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

CRD_EPS = 1e-7  # RepDistiller crd/criterion.py ``eps``
PKT_EPS = 1e-7  # RepDistiller distiller_zoo/PKT.py ``eps``


def _same_shapes(student: Sequence[Tensor], teacher: Sequence[Tensor]) -> None:
    if len(student) != len(teacher) or not student:
        raise ValueError("need two equal-length, non-empty lists of maps")
    for s, t in zip(student, teacher, strict=True):
        if s.shape != t.shape:
            raise ValueError(f"student map {tuple(s.shape)} vs teacher {tuple(t.shape)}")


def hint_loss(regressed: Tensor, hint: Tensor) -> Tensor:
    """FitNets (Romero et al., arXiv 1412.6550), stage 1::

        hint = mean_{b,c,h,w} (u_h(x) − r(v_g(x)))²,   u_h: the teacher's hint (detached),
                                                        r(v_g): the regressed guided layer.

    The paper writes ½‖u_h − r(v_g)‖²; the mean over elements is RepDistiller's
    ``HintLoss`` (distiller_zoo/FitNet.py, ``nn.MSELoss``): a constant factor apart.
    """
    return (regressed - hint.detach()).pow(2).mean(dim=(-4, -3, -2, -1))


def attention_map(maps: Tensor, p: float = 2.0) -> Tensor:
    """Q = mean_c |A_c|^p over channels, flattened and L2-normalised: (..., B, H·W).
    ``pow`` of the maps it is given: this demo gives each stage's post-ReLU output, as
    RepDistiller (distiller_zoo/AT.py on its models' post-activation features). The
    authors' cifar.py (szagoruyko/attention-transfer) takes the WRN groups' outputs,
    which in their pre-activation network come before the next block's BN-ReLU; for
    p = 2 the square removes only the sign, not what the ReLU zeroes."""
    return F.normalize(maps.pow(p).mean(dim=-3).flatten(-2), dim=-1)


def at_loss(student_maps: Sequence[Tensor], teacher_maps: Sequence[Tensor],
            p: float = 2.0) -> Tensor:
    """Attention transfer (Zagoruyko & Komodakis, arXiv 1612.03928)::

        at = Σ_j mean_{b,pos} (Q_s^j/‖Q_s^j‖ − Q_t^j/‖Q_t^j‖)²,   teacher detached.

    The authors' ``at_loss`` (attention-transfer utils.py; RepDistiller AT.py): the
    squared difference averaged over batch and positions, summed over map pairs. The
    method multiplies by β, as their cifar.py does (the paper's eq. 2 writes β/2 and
    the norm of the difference, not its square).
    """
    _same_shapes(student_maps, teacher_maps)
    return sum((attention_map(s, p) - attention_map(t.detach(), p)).pow(2).mean(dim=(-2, -1))
               for s, t in zip(student_maps, teacher_maps, strict=True))


def _poly_kernel_mean(a: Tensor, b: Tensor) -> Tensor:
    """mean_{b,i,j} (a_i · b_j)²: the degree-2 polynomial kernel, no constant."""
    return (a @ b.mT).pow(2).mean(dim=(-3, -2, -1))


def nst_loss(student_maps: Sequence[Tensor], teacher_maps: Sequence[Tensor]) -> Tensor:
    """Neuron selectivity transfer (Huang & Wang, arXiv 1707.01219), polynomial kernel::

        f_i = channel i's map flattened over positions, L2-normalised (one sample)
        mmd² = mean_{i,i'} k(f_t^i, f_t^i') + mean_{i,i'} k(f_s^i, f_s^i')
               − 2 mean_{i,j} k(f_s^i, f_t^j),          k(a, b) = (aᵀb)²
        nst = Σ_maps mean_b mmd²,                        teacher detached.

    As RepDistiller distiller_zoo/NST.py (``full_loss``, ``poly_kernel``): the paper's
    polynomial kernel with d = 2, c = 0.
    """
    _same_shapes(student_maps, teacher_maps)
    total = 0
    for s, t in zip(student_maps, teacher_maps, strict=True):
        fs = F.normalize(s.flatten(-2), dim=-1)
        ft = F.normalize(t.detach().flatten(-2), dim=-1)
        total = total + (_poly_kernel_mean(ft, ft) + _poly_kernel_mean(fs, fs)
                         - 2 * _poly_kernel_mean(fs, ft))
    return total


def _cosine_probs(features: Tensor) -> Tensor:
    """Each row's conditional distribution over the batch from cosine similarity
    scaled to [0, 1] (PKT's kernel), rows summing to 1: (..., B, B)."""
    f = features / (features.norm(dim=-1, keepdim=True) + PKT_EPS)
    sim = (f @ f.mT + 1.0) / 2.0
    return sim / sim.sum(dim=-1, keepdim=True)


def pkt_loss(student_features: Tensor, teacher_features: Tensor) -> Tensor:
    """Probabilistic knowledge transfer (Passalis & Tefas, arXiv 1803.10837)::

        p_{j|i} = K(t_i, t_j) / Σ_j K(t_i, t_j),   K(a, b) = (cos(a, b) + 1) / 2
        pkt = mean_{i,j} p_{j|i} · log((p_{j|i} + ε) / (q_{j|i} + ε)),   q from the student

    i.e. the KL of each row, averaged over B² entries, ε = 1e-7. As
    ``cosine_similarity_loss`` in RepDistiller distiller_zoo/PKT.py (there credited to
    the authors' passalis/probabilistic_kt).
    """
    p = _cosine_probs(teacher_features.detach())
    q = _cosine_probs(student_features)
    return (p * torch.log((p + PKT_EPS) / (q + PKT_EPS))).mean(dim=(-2, -1))


def _pairwise_distances(e: Tensor) -> Tensor:
    """Euclidean distances (..., B, B), squares clamped at 1e-12, diagonal 0."""
    sq = e.pow(2).sum(dim=-1)
    d = (sq.unsqueeze(-1) + sq.unsqueeze(-2) - 2 * e @ e.mT).clamp_min(1e-12).sqrt()
    eye = torch.eye(e.size(-2), dtype=torch.bool, device=e.device)
    return d.masked_fill(eye, 0.0)


def _mean_normalised(d: Tensor) -> Tensor:
    """d / μ, μ the mean over distinct pairs (the off-diagonal, all > 0 after the clamp)."""
    b = d.size(-1)
    mu = d.sum(dim=(-2, -1)) / (b * (b - 1))
    return d / mu[..., None, None]


def rkd_distance_loss(student_features: Tensor, teacher_features: Tensor) -> Tensor:
    """RKD distance term (Park et al., arXiv 1904.05068)::

        ψ_D(t_i, t_j) = ‖t_i − t_j‖₂ / μ,   μ the mean distance over distinct pairs
        rkd_d = mean_{i,j} Huber(ψ_D(s_i, s_j) − ψ_D(t_i, t_j)),   teacher detached,

    Huber with δ = 1 (``smooth_l1_loss``), averaged over all B² pairs (the diagonal is
    0 − 0), as RepDistiller distiller_zoo/RKD.py.
    """
    d_t = _mean_normalised(_pairwise_distances(teacher_features.detach()))
    d_s = _mean_normalised(_pairwise_distances(student_features))
    return F.smooth_l1_loss(d_s, d_t, reduction="none").mean(dim=(-2, -1))


def _angles(e: Tensor) -> Tensor:
    """cos of the angle at every vertex i between j and k: (..., B, B, B)."""
    diff = F.normalize(e.unsqueeze(-3) - e.unsqueeze(-2), dim=-1)  # [i, j] = e_j − e_i
    return diff @ diff.mT


def rkd_angle_loss(student_features: Tensor, teacher_features: Tensor) -> Tensor:
    """RKD angle term (Park et al., arXiv 1904.05068)::

        ψ_A(t_i, t_j, t_k) = ⟨(t_j − t_i)/‖t_j − t_i‖, (t_k − t_i)/‖t_k − t_i‖⟩
        rkd_a = mean_{i,j,k} Huber(ψ_A(s) − ψ_A(t)),   teacher detached,

    over all B³ triplets (degenerate ones are 0 on both sides), as RepDistiller RKD.py.
    """
    a_t = _angles(teacher_features.detach())
    a_s = _angles(student_features)
    return F.smooth_l1_loss(a_s, a_t, reduction="none").mean(dim=(-3, -2, -1))


def vid_loss(mean: Tensor, log_scale: Tensor, target: Tensor, eps: float = 1e-5) -> Tensor:
    """Variational information distillation (Ahn et al., arXiv 1904.05835)::

        σ_c² = softplus(α_c) + ε                      (one learned variance per channel)
        vid = mean_{b,c,h,w} ½ ((t − μ(s))² / σ_c² + log σ_c²),   teacher t detached,

    the Gaussian negative log-likelihood without its constant ½ log 2π, averaged over
    elements, as RepDistiller distiller_zoo/VID.py (credited there to the authors'
    code). ``mean`` and ``target`` are (..., B, C, H, W), ``log_scale`` the α of (..., C).
    """
    var = (F.softplus(log_scale) + eps)[..., None, :, None, None]
    nll = 0.5 * ((mean - target.detach()).pow(2) / var + var.log())
    return nll.mean(dim=(-4, -3, -2, -1))


def gather_rows(memory: Tensor, idx: Tensor) -> Tensor:
    """memory (..., N, D) at idx (..., B, M) → (..., B, M, D)."""
    flat = idx.flatten(-2)
    rows = torch.gather(memory, -2, flat.unsqueeze(-1).expand(*flat.shape, memory.size(-1)))
    return rows.view(*idx.shape, memory.size(-1))


def crd_scores(anchor: Tensor, memory: Tensor, idx: Tensor, temperature: float) -> Tensor:
    """exp(⟨m_j, v⟩ / τ) for every anchor v (..., B, D) and memory rows j = idx (..., B, M),
    memory detached: the unnormalised critic of CRD (RepDistiller crd/memory.py)."""
    rows = gather_rows(memory.detach(), idx)
    return torch.exp((rows @ anchor.unsqueeze(-1)).squeeze(-1) / temperature)


def crd_nce_loss(probs: Tensor, n_data: int) -> Tensor:
    """CRD's NCE loss (Tian et al., arXiv 1910.10699, eq. 18), column 0 the positive::

        h(P) = P / (P + M·P_n),   P_n = 1/N (uniform noise), M negatives per positive
        crd = −(1/B) Σ_b [log h(P_b,0) + Σ_{m ≥ 1} log(1 − h(P_b,m))]

    ``probs`` (..., B, M + 1) are the critic's scores divided by the normaliser Z. As
    RepDistiller crd/criterion.py ``ContrastLoss`` (ε = 1e-7 in each denominator).
    """
    m = probs.size(-1) - 1
    noise = m / float(n_data)
    pos, neg = probs[..., 0], probs[..., 1:]
    log_d1 = torch.log(pos / (pos + noise + CRD_EPS))
    log_d0 = torch.log(noise / (neg + noise + CRD_EPS))
    return -(log_d1.sum(dim=-1) + log_d0.sum(dim=(-2, -1))) / probs.size(-2)
