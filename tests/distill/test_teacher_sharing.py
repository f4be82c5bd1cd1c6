"""A frozen teacher's outputs on the training digits are computed once a run and looked
up per batch, bit for bit what computing them per batch gives; the method and its
comparator arms share one teacher."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from app.distill.data import load_split
from app.distill.engine import Batches, build_stacked
from app.distill.methods import RunConfig
from app.distill.teacher import ARCHS, FrozenTeacher
from app.distill.trainer import train

CPU = torch.device("cpu")


@pytest.mark.parametrize(("arch", "k", "fraction", "batch"), [
    ("cnn15", 3, 0.1, 16),  # the demos' defaults
    ("cnn15", 1, 0.02, 32),  # one seed, the smallest split, a batch bigger than it
    ("cnn3", 5, 0.3, 48),  # Tf-KD self's teacher, a remainder chunk that overlaps
    ("cnn15", 8, 1.0, 256),  # the largest run the bounds allow
])
def test_looked_up_outputs_equal_computed_ones_bit_for_bit(arch, k, fraction, batch):
    seeds = list(range(11, 11 + k))
    split = load_split(seeds, fraction, CPU)
    model = build_stacked(ARCHS[arch], seeds, CPU).eval().requires_grad_(False)
    frozen = FrozenTeacher(model)
    batches = Batches(split.num_train, batch, seeds, 0, CPU)
    with torch.no_grad():
        for _ in range(2):  # two epochs: the second is all look-ups
            for idx in batches.epoch():
                x, _ = split.batch(idx)
                logits, maps = frozen.features(x)
                want_logits, want_maps = model.features(x)
                assert torch.equal(logits, want_logits)
                assert torch.equal(frozen(x), model(x))
                for got, want in zip(maps, want_maps, strict=True):
                    assert torch.equal(got, want) and got.stride() == want.stride()
    assert len(frozen._maps) == 1  # one pass over the training set, then look-ups


def test_an_untagged_input_or_one_with_gradients_is_computed_afresh():
    seeds = [0, 1]
    split = load_split(seeds, 0.1, CPU)
    model = build_stacked(ARCHS["cnn15"], seeds, CPU).eval()
    frozen = FrozenTeacher(model)
    x, _ = split.batch(torch.zeros(2, 16, dtype=torch.long))
    with torch.no_grad():
        assert torch.equal(frozen(x + 0.5), model(x + 0.5))  # derived: no tag
    assert not frozen._maps
    assert frozen(x).requires_grad  # with grad on, the teacher's graph is there
    assert not frozen._maps
    with torch.no_grad():
        frozen(x)  # drawn as it is: looked up
        x.mul_(2.0)  # changed in place since it was drawn: computed afresh
        assert torch.equal(frozen(x), model(x))


def test_the_method_and_its_arm_share_one_teacher_computed_once(tmp_path: Path, monkeypatch):
    passes = []
    real = FrozenTeacher._all_maps

    def counted(self, x_train, size):
        passes.append(size)
        return real(self, x_train, size)

    monkeypatch.setattr(FrozenTeacher, "_all_maps", counted)
    logs: list[str] = []
    params = {"seeds": 2, "epochs": 2, "teacher_epochs": 1}
    train(RunConfig(method="dkd", params=params, data_dir=tmp_path, device="cpu", threads=1),
          lambda e: logs.append(getattr(e, "message", "")))
    assert passes == [16]  # dkd's student and the kd arm: one pass of the teacher
    assert sum("shared with the run" in m for m in logs) == 1
