"""Small trained modules that some feature methods add beside the student (torch),
stacked over k seeds like ``models.py``: parameters and buffers seed-first in equal
chunks along dim 0, so ``Context.build`` gives seed i the weights of its own seed.

They train with the student (one optimiser) and are thrown away after training.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from app.distill.feature_losses import crd_scores
from app.distill.models import SeedLinear, conv_bn_relu, from_groups, to_groups


class HintRegressor(nn.Module):
    """FitNets' regressor from the guided layer to the hint's shape: maps of equal size
    give RepDistiller's ``ConvReg`` 1×1 conv, then BN and ReLU (models/util.py)."""

    def __init__(self, k: int, c_in: int, c_out: int) -> None:
        super().__init__()
        self.k = k
        self.body = conv_bn_relu(k, c_in, c_out, kernel=1)

    def forward(self, maps: Tensor) -> Tensor:
        """(k, B, C_in, H, W) → (k, B, C_out, H, W)."""
        return from_groups(self.body(to_groups(maps)), self.k)


def softplus_inverse(y: float) -> float:
    return math.log(math.expm1(y))


class VIDRegressor(nn.Module):
    """VID's mean μ(s): three 1×1 convs (no bias) with ReLUs between, and the per-channel
    variance parameter α (σ² = softplus(α) + ε starts at 5), as RepDistiller's
    ``VIDLoss`` (distiller_zoo/VID.py), with mid width = target width as there."""

    INIT_VAR, EPS = 5.0, 1e-5

    def __init__(self, k: int, c_in: int, c_out: int) -> None:
        super().__init__()
        self.k = k

        def conv(a: int, b: int) -> nn.Conv2d:
            return nn.Conv2d(k * a, k * b, 1, groups=k, bias=False)

        self.mean = nn.Sequential(conv(c_in, c_out), nn.ReLU(), conv(c_out, c_out), nn.ReLU(),
                                  conv(c_out, c_out))
        alpha = softplus_inverse(self.INIT_VAR - self.EPS)
        self.log_scale = nn.Parameter(torch.full((k, c_out), alpha))

    def forward(self, maps: Tensor) -> Tensor:
        return from_groups(self.mean(to_groups(maps)), self.k)


class CRDHead(nn.Module):
    """CRD's two embeddings (linear then L2-normalised), its two memories of every
    training sample's embedding (momentum-updated, never trained by gradient) and its
    normalising constants Z, one per seed and side, fixed on the first batch. As
    RepDistiller crd/criterion.py (``Embed``) and crd/memory.py (``ContrastMemory``)."""

    def __init__(self, k: int, s_dim: int, t_dim: int, dim: int, n_data: int,
                 temperature: float, momentum: float) -> None:
        super().__init__()
        self.n_data, self.temperature, self.momentum = n_data, temperature, momentum
        self.embed_s, self.embed_t = SeedLinear(k, s_dim, dim), SeedLinear(k, t_dim, dim)
        stdv = 1.0 / math.sqrt(dim / 3)
        for name in ("memory_s", "memory_t"):
            self.register_buffer(name, torch.rand(k, n_data, dim) * 2 * stdv - stdv)
        self.register_buffer("z", torch.full((k, 2), -1.0))

    def forward(self, f_s: Tensor, f_t: Tensor, idx: Tensor,
                contrast: Tensor) -> tuple[Tensor, Tensor]:
        """Scores P (k, B, M + 1) of the student anchor against the teacher memory and
        of the teacher anchor against the student memory; then the memories move to
        this batch (``idx`` (k, B), the samples' indices in the training set)."""
        v_s = nn.functional.normalize(self.embed_s(f_s), dim=-1)
        v_t = nn.functional.normalize(self.embed_t(f_t), dim=-1)
        out_s = crd_scores(v_s, self.memory_t, contrast, self.temperature)
        out_t = crd_scores(v_t, self.memory_s, contrast, self.temperature)
        if bool((self.z < 0).any()):  # Z = mean score · N, fixed on the first batch
            first = torch.stack([out_s.mean(dim=(-2, -1)), out_t.mean(dim=(-2, -1))], dim=-1)
            self.z.copy_(torch.where(self.z < 0, first.detach() * self.n_data, self.z))
        with torch.no_grad():
            self._update(self.memory_s, idx, v_s)
            self._update(self.memory_t, idx, v_t)
        return out_s / self.z[:, 0, None, None], out_t / self.z[:, 1, None, None]

    def _update(self, memory: Tensor, idx: Tensor, v: Tensor) -> None:
        rows = memory.gather(1, idx.unsqueeze(-1).expand(*idx.shape, memory.size(-1)))
        moved = nn.functional.normalize(rows * self.momentum + v * (1 - self.momentum), dim=-1)
        memory.scatter_(1, idx.unsqueeze(-1).expand_as(moved), moved)
