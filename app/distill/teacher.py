"""Pretrained teachers, trained once per key and cached under ``data_dir/teachers``.

The key holds everything that determines the weights: data set (and a digest of the
shipped file), architecture, seed
(hence the split and the initial weights), epochs, training fraction, the optimiser
settings (a ``Recipe``) and ``TEACHER_CODE_VERSION`` (bump it whenever the models, data
pipeline or training loop change what a teacher comes out as).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from app.distill.data import data_fingerprint, load_split
from app.distill.engine import (
    Batches,
    Context,
    Learner,
    Stopwatch,
    ce_step,
    evaluate,
    run_phase,
    seeded,
)
from app.distill.models import SmallCNN

TEACHER_CODE_VERSION = 1
TEACHER_LR = 0.05
TEACHER_BATCH = 64
TEACHER_WEIGHT_DECAY = 5e-4
# The teacher's initial weights and batch order differ from the student's.
TEACHER_SEED_OFFSET = 7919

ARCHS: dict[str, Callable[[], nn.Module]] = {
    "cnn15": lambda: SmallCNN(blocks=2),  # the teacher of kd, sp, fsp
    "cnn3": lambda: SmallCNN(),  # the student's own architecture (Tf-KD self)
}


@dataclass(frozen=True)
class Recipe:
    """How a teacher trains: plain CE, SGD with momentum and cosine decay."""

    arch: str
    epochs: int
    train_fraction: float
    lr: float = TEACHER_LR
    batch_size: int = TEACHER_BATCH
    weight_decay: float = TEACHER_WEIGHT_DECAY


def teacher_key(recipe: Recipe, seed: int) -> dict:
    return {"dataset": "digits8x8", "data": data_fingerprint(), "seed": seed,
            "version": TEACHER_CODE_VERSION} | asdict(recipe)


def cache_path(data_dir: Path, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return Path(data_dir) / "teachers" / f"{key['arch']}-seed{key['seed']}-{digest}.pt"


def get_teacher(ctx: Context, recipe: Recipe) -> tuple[nn.Module, dict[str, float]]:
    """The frozen teacher (eval mode) and its test scores: from the cache when there,
    else trained now, emitting phase ``teacher`` with its curve, then cached."""
    seed = ctx.params.seed
    key = teacher_key(recipe, seed)
    path = cache_path(ctx.data_dir, key)
    with seeded(seed + TEACHER_SEED_OFFSET):
        model = ARCHS[recipe.arch]().to(ctx.device)
    if not (path.exists() and _load(ctx, model, path, key)):
        _train(ctx, model, recipe, seed + TEACHER_SEED_OFFSET)
        _save(model, path, key)
    model.eval().requires_grad_(False)
    return model, evaluate({"teacher": model}, ctx.split)["teacher"]


def _load(ctx: Context, model: nn.Module, path: Path, key: dict) -> bool:
    watch = Stopwatch()
    try:
        blob = torch.load(path, map_location=ctx.device, weights_only=True)
        if blob.get("key") != key:
            raise ValueError("key mismatch")
        model.load_state_dict(blob["state_dict"])
    except Exception as exc:  # a torn or stale file: train afresh
        ctx.emitter.log(f"teacher cache {path.name} unusable ({exc}); retraining", "warning")
        return False
    ctx.emitter.log(
        f"teacher loaded from cache ({path.name}, {watch.seconds() * 1000:.0f} ms)"
    )
    return True


def _train(ctx: Context, model: nn.Module, recipe: Recipe, seed: int) -> None:
    split = ctx.split
    if recipe.train_fraction != ctx.params.train_fraction:
        split = load_split(ctx.params.seed, recipe.train_fraction, ctx.device)
    batches = Batches(split.num_train, recipe.batch_size, seed, ctx.device)
    steps = recipe.epochs * len(batches)
    learner = Learner(model, recipe.lr, recipe.weight_decay, steps)

    def step(idx: Tensor) -> dict[str, dict[str, Tensor]]:
        return {"teacher": ce_step(learner, split.x_train[idx], split.y_train[idx])}

    def scores() -> dict[str, dict[str, float]]:
        return evaluate({"teacher": model}, split)

    run_phase(ctx, "teacher", recipe.epochs, batches, step, scores)


def _save(model: nn.Module, path: Path, key: dict) -> None:
    """Write atomically: concurrent runs may train the same teacher."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"key": key, "state_dict": state}, tmp)
    os.replace(tmp, path)
