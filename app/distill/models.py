"""The networks of the demos: small CNNs for 1×8×8 digits (modules only, no training).

* ``SmallCNN()`` is the student (and each DML peer, and the Tf-KD self teacher): one
  conv per stage. ``SmallCNN(blocks=2)`` is the teacher: two residual blocks make
  every stage five convs deep. Both use the same widths, so their stage outputs pair up
  for FSP without an adapter (like RepDistiller's resnet32x4 → resnet8x4).
* ``MultiExitCNN`` (BYOT, MSD): a two-conv-per-stage backbone with a classifier after
  every stage; shallow exits reach the deepest exit's feature shape through a
  bottleneck branch (1×1 reduce, strided 3×3 convs).

Stage maps: 8×8 → 4×4 → 2×2, widths ``WIDTHS``; each ``features`` call returns them.
"""

from __future__ import annotations

from torch import Tensor, nn

from app.distill.data import NUM_CLASSES

WIDTHS = (16, 32, 64)


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    """Two 3×3 convs with an identity shortcut (same width, same size)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(x + self.body(x))


def make_stage(c_in: int, c_out: int, stride: int, blocks: int) -> nn.Sequential:
    """A (strided) conv then ``blocks`` residual blocks."""
    layers: list[nn.Module] = [conv_bn_relu(c_in, c_out, stride)]
    layers += [ResidualBlock(c_out) for _ in range(blocks)]
    return nn.Sequential(*layers)


class SmallCNN(nn.Module):
    """Three stages, each a conv and ``blocks`` residual blocks, and a linear head.

    ``blocks=0``: 3 convs, the student. ``blocks=2``: 15 convs, the teacher.
    """

    def __init__(self, blocks: int = 0, widths: tuple[int, int, int] = WIDTHS) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.stages = nn.ModuleList([
            make_stage(1, c1, 1, blocks),
            make_stage(c1, c2, 2, blocks),
            make_stage(c2, c3, 2, blocks),
        ])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c3, NUM_CLASSES)

    def features(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """(logits, [stage1, stage2, stage3 maps])."""
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        return self.fc(self.pool(x).flatten(1)), maps

    def forward(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage(x)
        return self.fc(self.pool(x).flatten(1))


def bottleneck(c_in: int, c_out: int, downsamples: int) -> nn.Sequential:
    """BYOT's feature-alignment branch: 1×1 reduce, then strided 3×3 convs to the
    deepest exit's size, ending at ``c_out`` channels."""
    mid = max(c_in // 2, 8)
    layers: list[nn.Module] = [conv_bn_relu(c_in, mid, kernel=1)]
    for i in range(downsamples):
        layers.append(conv_bn_relu(mid, c_out if i == downsamples - 1 else mid, stride=2))
    return nn.Sequential(*layers)


class MultiExitCNN(nn.Module):
    """A backbone of three stages (two convs each) with an exit after every stage.

    ``exits(x)`` returns (logits per exit, feature per exit), shallow → deep; each
    feature is the pooled (B, C3) vector that enters that exit's linear classifier.
    ``forward(x)`` is the deepest exit alone (what the plain-CE baseline trains).
    """

    def __init__(self, widths: tuple[int, int, int] = WIDTHS) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.stages = nn.ModuleList([
            make_stage(1, c1, 1, 1),
            make_stage(c1, c2, 2, 1),
            make_stage(c2, c3, 2, 1),
        ])
        self.branches = nn.ModuleList([bottleneck(c1, c3, 2), bottleneck(c2, c3, 1)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.heads = nn.ModuleList([nn.Linear(c3, NUM_CLASSES) for _ in range(3)])

    @property
    def num_exits(self) -> int:
        return len(self.heads)

    def exits(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        logits, feats = [], []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            branch = self.branches[i](x) if i < len(self.branches) else x
            f = self.pool(branch).flatten(1)
            feats.append(f)
            logits.append(self.heads[i](f))
        return logits, feats

    def forward(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage(x)
        return self.heads[-1](self.pool(x).flatten(1))
