"""Sample pairings: CS-KD's same-class pairs and CRD's other-class negatives."""

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


class NegativeSampler:
    """CRD's contrast indices: for each training index, itself (the positive) then
    ``m`` distinct training indices of other classes, uniformly without replacement,
    as RepDistiller's CIFAR100InstanceSample (``mode="exact"``). ``m`` is capped at the
    smallest other-class pool, which depends only on the split's sizes (never on the
    other seeds). Seed i draws from its own generator."""

    def __init__(self, labels: Tensor, seeds: list[int], m: int) -> None:
        self.labels = labels  # (k, N)
        n = labels.size(1)
        largest = int(torch.bincount(labels[0].cpu(), minlength=NUM_CLASSES).max())
        self.m = min(m, n - largest)
        self.gens = [torch.Generator().manual_seed(s) for s in seeds]

    def __call__(self, idx: Tensor) -> Tensor:
        """(k, B) training indices → (k, B, 1 + m)."""
        b, n = idx.size(1), self.labels.size(1)
        keys = torch.stack([torch.rand(b, n, generator=g) for g in self.gens]).to(idx.device)
        y = self.labels.gather(1, idx)  # (k, B)
        same = self.labels.unsqueeze(1) == y.unsqueeze(-1)  # (k, B, N)
        negatives = keys.masked_fill(same, 2.0).topk(self.m, dim=-1, largest=False).indices
        return torch.cat([idx.unsqueeze(-1), negatives], dim=-1)
