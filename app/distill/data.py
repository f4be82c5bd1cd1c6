"""The 8x8 digits as tensors: fixed stratified train / validation / test splits per seed.

The images ship in ``data/digits.npz`` (made once by ``scripts/make_digits.py``; UCI
optical digits, CC BY 4.0). Nothing is downloaded.

Per seed, per class: 20% of the digits are the test set (reported, never used to
choose anything), 15% the validation set (curves, best-epoch choice), and the rest
the training pool, of which a run takes the first ``train_fraction``. Class counts
fix the sizes, so every seed's split has the same sizes and k seeds stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

# The shipped file and its digest (part of every teacher's key), torch-free there.
from app.distill.teacher_cache import DIGITS_FILE, data_fingerprint  # noqa: F401

NUM_CLASSES = 10
TEST_FRACTION = 0.20
VAL_FRACTION = 0.15


@dataclass(frozen=True)
class Split:
    """Standardised tensors of k seeds' splits, seeds first: ``x_*`` (k, N, 1, 8, 8)
    float32, ``y_*`` (k, N) int64, on the device the run uses."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor
    y_test: Tensor

    @property
    def num_train(self) -> int:
        return self.y_train.size(1)

    def sizes(self) -> dict[str, int]:
        return {"train": self.num_train, "val": self.y_val.size(1), "test": self.y_test.size(1)}

    def batch(self, idx: Tensor) -> tuple[Tensor, Tensor]:
        """Each seed's training samples at its own indices: idx (k, B) → x, y.

        ``x`` carries ``x.drawn = (self, idx, version)``, where it came from: a frozen
        teacher (teacher.FrozenTeacher) looks its outputs up by it instead of
        recomputing them. A tensor derived from ``x`` has no such tag, and ``x``
        changed in place has another version: either is computed afresh."""
        rows = torch.arange(idx.size(0), device=idx.device).unsqueeze(1)
        x = self.x_train[rows, idx]
        x.drawn = (self, idx, x._version)
        return x, self.y_train[rows, idx]


@lru_cache(maxsize=1)
def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 N×8×8 with values 0..16, labels uint8 N), read-only."""
    with np.load(DIGITS_FILE) as f:
        images, labels = f["images"], f["labels"]
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def stratified_indices(
    labels: np.ndarray, seed: int, train_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test indices, each sorted.

    Per class, in one shuffled order: the first TEST_FRACTION go to test, the next
    VAL_FRACTION to validation, and of the rest the first ``train_fraction`` (at least
    one) to train. The split depends only on ``seed``; a smaller ``train_fraction``
    takes a prefix of the same order, so its train set is a subset of a larger one's,
    and validation and test never change with the fraction.
    """
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test, n_val = round(len(idx) * TEST_FRACTION), round(len(idx) * VAL_FRACTION)
        test.append(idx[:n_test])
        val.append(idx[n_test:n_test + n_val])
        rest = idx[n_test + n_val:]
        train.append(rest[: max(1, round(len(rest) * train_fraction))])
    return tuple(np.sort(np.concatenate(part)) for part in (train, val, test))


@lru_cache(maxsize=64)
def _seed_split(seed: int, train_fraction: float) -> tuple[Tensor, ...]:
    """One seed's split on the CPU, standardised with the mean and sd of its whole
    training pool (so every ``train_fraction``, and the teacher, see one scale)."""
    images, labels = load_digits_arrays()
    parts = stratified_indices(labels, seed, train_fraction)
    x = torch.from_numpy(images.astype(np.float32) / 16.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    held_out = np.concatenate(parts[1:])
    pool = torch.ones(len(labels), dtype=torch.bool)
    pool[torch.from_numpy(held_out)] = False
    mean, std = x[pool].mean(), x[pool].std().clamp_min(1e-6)
    x = (x - mean) / std
    out = []
    for part in parts:
        idx = torch.from_numpy(part)
        out += [x[idx], y[idx]]
    return tuple(out)


def load_split(seeds: list[int], train_fraction: float, device: torch.device) -> Split:
    """The digits splits of ``seeds``, stacked seed-first."""
    per_seed = [_seed_split(s, train_fraction) for s in seeds]
    stacked = [torch.stack(parts).to(device) for parts in zip(*per_seed, strict=True)]
    return Split(*stacked)


def split_sizes(train_fraction: float) -> dict[str, int]:
    """Train / validation / test sizes for a fraction (the same for every seed)."""
    train, val, test = stratified_indices(load_digits_arrays()[1], 0, train_fraction)
    return {"train": len(train), "val": len(val), "test": len(test)}
