"""The networks of the demos, each a stack of ``k`` independent copies (modules only).

Every network trains k seeds at once. Copy i sees its own batch and has its own
weights: convolutions are grouped (``groups=k``: seed i's batch travels in channel
group i), BatchNorm runs per channel and so per seed, linear layers are batched
matrix products. One optimiser step over the stack is k independent SGD steps
(weight decay and momentum are element-wise; the loss is the sum of the per-seed
losses), so seed i of a k-seed stack computes what a 1-seed stack of seed i does,
up to float rounding. The speed-up over k separate networks: one kernel per layer
instead of k, which is what tiny networks on a CPU are bound by.

Tensors that carry seeds put them first: images ``(k, B, 1, 8, 8)``, logits
``(k, B, 10)``, stage maps ``(k, B, C, H, W)``, pooled features ``(k, B, C)``.
Every parameter and buffer has the seeds first along dim 0 in equal chunks, so
stacks are joined with ``torch.cat`` and split with ``chunk`` (``stack_states``).

* ``SmallCNN(k)`` is the student (and each DML peer, and the Tf-KD self teacher): one
  conv per stage. ``SmallCNN(k, blocks=2)`` is the teacher: two residual blocks make
  every stage five convs deep. Both use the same widths, so their stage maps pair up
  for FSP without an adapter (like RepDistiller's resnet32x4 → resnet8x4).
* ``MultiExitCNN(k)`` (BYOT, MSD): three stages of two convs each, a classifier after
  every stage; shallow exits reach the deepest exit's feature shape through a
  bottleneck branch (1×1 reduce, strided 3×3 convs).

Stage maps: 8×8 → 4×4 → 2×2, widths ``WIDTHS``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from app.distill.data import NUM_CLASSES

WIDTHS = (16, 32, 64)


def to_groups(x: Tensor) -> Tensor:
    """(k, B, C, H, W) → (B, k·C, H, W): seed i in channel group i."""
    k, b, c, h, w = x.shape
    return x.transpose(0, 1).reshape(b, k * c, h, w).contiguous(memory_format=torch.channels_last)


def from_groups(x: Tensor, k: int) -> Tensor:
    """(B, k·C, H, W) → (k, B, C, H, W), a view."""
    b, kc, h, w = x.shape
    return x.view(b, k, kc // k, h, w).transpose(0, 1)


def pool(x: Tensor, k: int) -> Tensor:
    """Global average pooling of grouped maps: (B, k·C, H, W) → (k, B, C)."""
    b, kc = x.shape[:2]
    return x.mean(dim=(2, 3)).view(b, k, kc // k).transpose(0, 1)


class SeedLinear(nn.Module):
    """k independent linear layers: (k, B, in) → (k, B, out), initialised as nn.Linear."""

    def __init__(self, k: int, d_in: int, d_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(k, d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(k, 1, d_out).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


def conv_bn_relu(k: int, c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(k * c_in, k * c_out, kernel, stride=stride, padding=kernel // 2,
                  groups=k, bias=False),
        nn.BatchNorm2d(k * c_out),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    """Two 3×3 convs with an identity shortcut (same width, same size)."""

    def __init__(self, k: int, width: int) -> None:
        super().__init__()
        c = k * width
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1, groups=k, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, padding=1, groups=k, bias=False),
            nn.BatchNorm2d(c),
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(x + self.body(x))


def make_stage(k: int, c_in: int, c_out: int, stride: int, blocks: int) -> nn.Sequential:
    """A (strided) conv then ``blocks`` residual blocks."""
    layers: list[nn.Module] = [conv_bn_relu(k, c_in, c_out, stride)]
    layers += [ResidualBlock(k, c_out) for _ in range(blocks)]
    return nn.Sequential(*layers)


def make_stages(k: int, blocks: int, widths: tuple[int, int, int]) -> nn.ModuleList:
    c1, c2, c3 = widths
    return nn.ModuleList([
        make_stage(k, 1, c1, 1, blocks),
        make_stage(k, c1, c2, 2, blocks),
        make_stage(k, c2, c3, 2, blocks),
    ])


class SmallCNN(nn.Module):
    """Three stages, each a conv and ``blocks`` residual blocks, and a linear head.

    ``blocks=0``: 3 convs, the student. ``blocks=2``: 15 convs, the teacher.
    """

    def __init__(self, k: int = 1, blocks: int = 0, widths: tuple[int, int, int] = WIDTHS):
        super().__init__()
        self.k = k
        self.stages = make_stages(k, blocks, widths)
        self.fc = SeedLinear(k, widths[-1], NUM_CLASSES)

    def grouped_maps(self, x: Tensor) -> list[Tensor]:
        """Every stage's output in the grouped layout (B, k·C, H, W)."""
        h, maps = to_groups(x), []
        for stage in self.stages:
            h = stage(h)
            maps.append(h)
        return maps

    def features(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """(logits, [stage1, stage2, stage3 maps]), maps as (k, B, C, H, W)."""
        maps = self.grouped_maps(x)
        logits = self.fc(pool(maps[-1], self.k))
        return logits, [from_groups(m, self.k) for m in maps]

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(pool(self.grouped_maps(x)[-1], self.k))


def bottleneck(k: int, c_in: int, c_out: int, downsamples: int) -> nn.Sequential:
    """BYOT's feature-alignment branch: 1×1 reduce, then strided 3×3 convs to the
    deepest exit's size, ending at ``c_out`` channels."""
    mid = max(c_in // 2, 8)
    layers: list[nn.Module] = [conv_bn_relu(k, c_in, mid, kernel=1)]
    for i in range(downsamples):
        layers.append(conv_bn_relu(k, mid, c_out if i == downsamples - 1 else mid, stride=2))
    return nn.Sequential(*layers)


class MultiExitCNN(nn.Module):
    """A backbone of three stages (a conv and one residual block each: three convs
    per stage) with an exit after every stage.

    ``exits(x)`` returns (logits per exit, feature per exit), shallow → deep; each
    feature is the pooled (k, B, C3) vector that enters that exit's classifier.
    ``forward(x)`` is the deepest exit alone (what the plain-CE baseline trains).
    """

    def __init__(self, k: int = 1, widths: tuple[int, int, int] = WIDTHS) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.k = k
        self.stages = make_stages(k, 1, widths)
        self.branches = nn.ModuleList([bottleneck(k, c1, c3, 2), bottleneck(k, c2, c3, 1)])
        self.heads = nn.ModuleList([SeedLinear(k, c3, NUM_CLASSES) for _ in range(3)])

    @property
    def num_exits(self) -> int:
        return len(self.heads)

    def exits(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        h, logits, feats = to_groups(x), [], []
        for i, stage in enumerate(self.stages):
            h = stage(h)
            branch = self.branches[i](h) if i < len(self.branches) else h
            f = pool(branch, self.k)
            feats.append(f)
            logits.append(self.heads[i](f))
        return logits, feats

    def forward(self, x: Tensor) -> Tensor:
        h = to_groups(x)
        for stage in self.stages:
            h = stage(h)
        return self.heads[-1](pool(h, self.k))


def stack_states(states: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Join the state dicts of 1-seed stacks into one of a len(states)-seed stack."""
    return {name: torch.cat([s[name] for s in states]) if value.dim() else value
            for name, value in states[0].items()}


def split_state(state: dict[str, Tensor], k: int) -> list[dict[str, Tensor]]:
    """The k 1-seed state dicts of a k-seed stack's state (the inverse of stack_states)."""
    return [{name: value.chunk(k)[i] if value.dim() else value
             for name, value in state.items()} for i in range(k)]
