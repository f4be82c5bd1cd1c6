"""CS-KD's pairs: for each sample, a random training sample of the same class."""

from __future__ import annotations

import torch
from torch import Tensor

from app.distill.data import NUM_CLASSES


class PairSampler:
    """Draws, per seed, a uniformly random training index of each label's class, the
    sample itself included, as alinlab/cs-kd's PairBatchSampler
    (``random.choice(classwise_indices[y])``). Seed i draws from its own generator."""

    def __init__(self, labels: Tensor, seeds: list[int]) -> None:
        y = labels.cpu()  # (k, N)
        self.order = torch.argsort(y, dim=1, stable=True).to(labels.device)
        counts = torch.stack([torch.bincount(row, minlength=NUM_CLASSES) for row in y])
        self.counts = counts.to(labels.device)
        self.starts = (torch.cumsum(counts, 1) - counts).to(labels.device)
        self.gens = [torch.Generator().manual_seed(s) for s in seeds]

    def __call__(self, y: Tensor) -> Tensor:
        """Pair indices (k, B) for labels (k, B)."""
        u = torch.stack([torch.rand(y.size(1), generator=g) for g in self.gens]).to(y.device)
        count = self.counts.gather(1, y)
        r = (u * count).long().clamp_max(count - 1)
        return self.order.gather(1, self.starts.gather(1, y) + r)
