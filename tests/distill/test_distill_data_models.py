"""The shipped digits, the split, the pair sampler and the models' shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.distill.data import load_digits_arrays, load_split, stratified_indices
from app.distill.models import MultiExitCNN, SmallCNN
from app.distill.recipes.selfkd import PairSampler


def test_shipped_digits_are_the_uci_8x8_set():
    images, labels = load_digits_arrays()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_split_is_stratified_disjoint_fixed_per_seed_and_nested_by_fraction():
    _, labels = load_digits_arrays()
    train, test = stratified_indices(labels, 0, 1.0)
    assert len(train) + len(test) == 1797 and not set(train) & set(test)
    assert np.all(np.abs(np.bincount(labels[test]) / np.bincount(labels) - 0.2) < 0.01)
    small, test_small = stratified_indices(labels, 0, 0.1)
    assert set(small) <= set(train) and np.array_equal(test, test_small)
    assert np.all(np.bincount(labels[small]) >= 13)
    again, _ = stratified_indices(labels, 0, 0.1)
    other, _ = stratified_indices(labels, 1, 0.1)
    assert np.array_equal(small, again) and not np.array_equal(small, other)


def test_split_scale_does_not_depend_on_the_fraction():
    a = load_split(0, 1.0, torch.device("cpu"))
    b = load_split(0, 0.1, torch.device("cpu"))
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.y_test, b.y_test)
    assert abs(a.x_train.mean().item()) < 1e-4


def test_pairs_are_other_samples_of_the_same_class():
    y = torch.tensor([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])  # class 2 has a single sample
    sampler = PairSampler(y, seed=0)
    idx = torch.arange(len(y))
    seen = set()
    for _ in range(50):
        pairs = sampler(idx)
        assert torch.equal(y[pairs], y)
        assert torch.all((pairs != idx) | (idx == 5))
        seen |= {(int(i), int(p)) for i, p in zip(idx, pairs, strict=True)}
    assert {(0, 1), (0, 2), (6, 7), (6, 8), (6, 9)} <= seen


def test_student_and_teacher_stage_maps_pair_up_for_fsp():
    x = torch.randn(4, 1, 8, 8)
    student, teacher = SmallCNN(), SmallCNN(blocks=2)
    (s_logits, s_maps), (t_logits, t_maps) = student.features(x), teacher.features(x)
    assert s_logits.shape == t_logits.shape == (4, 10)
    assert [m.shape for m in s_maps] == [m.shape for m in t_maps] == [
        (4, 16, 8, 8), (4, 32, 4, 4), (4, 64, 2, 2)]
    assert torch.equal(student(x), s_logits)
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(teacher) > 5 * n(student)


def test_multi_exit_shapes_and_plain_forward_is_the_deepest_exit():
    model = MultiExitCNN().eval()
    x = torch.randn(3, 1, 8, 8)
    logits, feats = model.exits(x)
    assert len(logits) == len(feats) == model.num_exits == 3
    assert all(z.shape == (3, 10) for z in logits)
    assert all(f.shape == feats[-1].shape == (3, 64) for f in feats)
    assert torch.allclose(model(x), logits[-1])


@pytest.mark.parametrize("fraction", [0.02, 1.0])
def test_fraction_bounds_give_usable_splits(fraction: float):
    split = load_split(3, fraction, torch.device("cpu"))
    assert split.y_train.unique().numel() == 10
    assert split.x_train.shape[1:] == (1, 8, 8)
