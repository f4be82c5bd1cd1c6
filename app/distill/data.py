"""The 8x8 digits as tensors: a fixed stratified train/test split per seed.

The images ship in ``data/digits.npz`` (made once by ``scripts/make_digits.py``; UCI
optical digits, CC BY 4.0). Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

DIGITS_FILE = Path(__file__).resolve().parent / "data" / "digits.npz"
NUM_CLASSES = 10
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Split:
    """Normalised train and test tensors, on the device the run uses."""

    x_train: Tensor  # (N, 1, 8, 8) float32
    y_train: Tensor  # (N,) int64
    x_test: Tensor
    y_test: Tensor

    @property
    def num_train(self) -> int:
        return self.y_train.size(0)


@lru_cache(maxsize=1)
def data_fingerprint() -> str:
    """SHA-256 prefix of the shipped file: part of every teacher's cache key."""
    return hashlib.sha256(DIGITS_FILE.read_bytes()).hexdigest()[:16]


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
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices: per class, TEST_FRACTION of the samples go to test; of
    the rest, the first ``train_fraction`` (at least one per class) go to train.

    The split depends only on ``seed``; a smaller ``train_fraction`` takes a prefix of
    the same shuffled order, so its train set is a subset of a larger fraction's.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = round(len(idx) * TEST_FRACTION)
        test.append(idx[:n_test])
        rest = idx[n_test:]
        train.append(rest[: max(1, round(len(rest) * train_fraction))])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_split(seed: int, train_fraction: float, device: torch.device) -> Split:
    """The digits split for ``seed``, standardised with the statistics of every
    non-test image (so that every ``train_fraction``, and the teacher, see one scale)."""
    images, labels = load_digits_arrays()
    train_idx, test_idx = stratified_indices(labels, seed, train_fraction)
    x = torch.from_numpy(images.astype(np.float32) / 16.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    pool = torch.ones(len(labels), dtype=torch.bool)
    pool[torch.from_numpy(test_idx)] = False
    mean, std = x[pool].mean(), x[pool].std().clamp_min(1e-6)
    x = (x - mean) / std
    ti, vi = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
    return Split(x[ti].to(device), y[ti].to(device), x[vi].to(device), y[vi].to(device))
