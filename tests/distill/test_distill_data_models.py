"""The shipped digits, the three-way split, the pair sampler and the stacked models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.distill.data import load_digits_arrays, load_split, split_sizes, stratified_indices
from app.distill.engine import build_stacked
from app.distill.models import MultiExitCNN, SmallCNN, split_state, stack_states
from app.distill.pairs import PairSampler
from app.distill.params import SPLIT_TEXT

CPU = torch.device("cpu")


def test_shipped_digits_are_the_uci_8x8_set():
    images, labels = load_digits_arrays()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_split_is_stratified_disjoint_fixed_per_seed_and_nested_by_fraction():
    _, labels = load_digits_arrays()
    train, val, test = stratified_indices(labels, 0, 1.0)
    assert len(train) + len(val) + len(test) == 1797
    assert not (set(train) & set(test) or set(train) & set(val) or set(val) & set(test))
    counts = np.bincount(labels)
    assert np.all(np.abs(np.bincount(labels[test]) / counts - 0.20) < 0.01)
    assert np.all(np.abs(np.bincount(labels[val]) / counts - 0.15) < 0.01)
    small, val_small, test_small = stratified_indices(labels, 0, 0.1)
    assert set(small) <= set(train)
    assert np.array_equal(test, test_small) and np.array_equal(val, val_small)
    again = stratified_indices(labels, 0, 0.1)[0]
    other = stratified_indices(labels, 1, 0.1)[0]
    assert np.array_equal(small, again) and not np.array_equal(small, other)


def test_split_sizes_are_the_same_for_every_seed_and_as_documented():
    _, labels = load_digits_arrays()
    sizes = {tuple(len(p) for p in stratified_indices(labels, s, 0.1)) for s in range(6)}
    assert sizes == {(119, 269, 359)}
    assert split_sizes(0.1) == {"train": 119, "val": 269, "test": 359}
    assert split_sizes(1.0)["train"] == 1169
    for number in ("359", "269", "1,169"):
        assert number in SPLIT_TEXT


def test_stacked_split_is_each_seeds_own_and_scale_does_not_depend_on_fraction():
    both = load_split([3, 4], 0.1, CPU)
    assert both.x_train.shape == (2, 119, 1, 8, 8) and both.y_val.shape == (2, 269)
    alone = load_split([4], 0.1, CPU)
    assert torch.equal(both.x_test[1], alone.x_test[0])
    full = load_split([3], 1.0, CPU)
    assert torch.equal(full.x_test[0], both.x_test[0])
    assert abs(full.x_train.mean().item()) < 1e-4


def test_batch_gathers_each_seeds_own_samples():
    split = load_split([0, 1], 0.1, CPU)
    idx = torch.tensor([[0, 5], [7, 2]])
    x, y = split.batch(idx)
    assert torch.equal(x[1, 0], split.x_train[1, 7]) and y[0, 1] == split.y_train[0, 5]


def test_pairs_are_samples_of_the_same_class_the_sample_itself_included():
    y = torch.tensor([[0, 0, 0, 1, 1, 2, 3, 3, 3, 3]])  # class 2 has a single sample
    sampler = PairSampler(y, seeds=[0])
    seen = set()
    for _ in range(200):
        pairs = sampler(y)
        assert torch.equal(y[0, pairs[0]], y[0])
        seen |= {(int(c), int(p)) for c, p in zip(y[0], pairs[0], strict=True)}
    # Every member of a class is drawn, as random.choice over the class would.
    assert {(0, 0), (0, 1), (0, 2), (2, 5), (3, 6), (3, 9)} <= seen


def test_stacked_model_is_k_independent_copies():
    """Copy i of a stack built from seeds [5, 6, 7] is the 1-seed model of seed i:
    same initial weights and the same outputs on the same input."""
    stack = build_stacked(SmallCNN, [5, 6, 7], CPU).eval()
    single = build_stacked(SmallCNN, [6], CPU).eval()
    assert all(torch.equal(a, b) for a, b in zip(
        split_state(stack.state_dict(), 3)[1].values(), single.state_dict().values(),
        strict=True))
    x = torch.randn(3, 4, 1, 8, 8)
    assert torch.allclose(stack(x)[1], single(x[1:2])[0], atol=1e-6)
    assert stack_states(split_state(stack.state_dict(), 3)).keys() == stack.state_dict().keys()


def test_gradients_of_one_seed_touch_only_its_own_weights():
    stack = build_stacked(SmallCNN, [0, 1], CPU)
    stack(torch.randn(2, 4, 1, 8, 8))[0].sum().backward()
    conv = stack.stages[0][0][0].weight.grad  # (2·16, 1, 3, 3): seed 0 first
    assert conv[:16].abs().sum() > 0 and conv[16:].abs().sum() == 0
    assert stack.fc.weight.grad[1].abs().sum() == 0


def test_student_and_teacher_stage_maps_pair_up_for_fsp():
    x = torch.randn(2, 4, 1, 8, 8)
    student, teacher = SmallCNN(2), SmallCNN(2, blocks=2)
    (s_logits, s_maps), (t_logits, t_maps) = student.features(x), teacher.features(x)
    assert s_logits.shape == t_logits.shape == (2, 4, 10)
    assert [m.shape for m in s_maps] == [m.shape for m in t_maps] == [
        (2, 4, 16, 8, 8), (2, 4, 32, 4, 4), (2, 4, 64, 2, 2)]
    assert torch.equal(student(x), s_logits)
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(teacher) > 5 * n(student)


def test_multi_exit_shapes_and_plain_forward_is_the_deepest_exit():
    model = MultiExitCNN(2).eval()
    x = torch.randn(2, 3, 1, 8, 8)
    logits, feats = model.exits(x)
    assert len(logits) == len(feats) == model.num_exits == 3
    assert all(z.shape == (2, 3, 10) for z in logits)
    assert all(f.shape == feats[-1].shape == (2, 3, 64) for f in feats)
    assert torch.allclose(model(x), logits[-1])
    convs = [m for m in model.stages.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 9  # three convs per stage, as the docstring says


@pytest.mark.parametrize("fraction", [0.02, 1.0])
def test_fraction_bounds_give_usable_splits(fraction: float):
    split = load_split([3], fraction, CPU)
    assert split.y_train[0].unique().numel() == 10
    assert split.x_train.shape[2:] == (1, 8, 8)
