"""Pretrained teachers: one per seed, trained once and cached under ``data_dir/teachers``.

The key holds everything that determines a seed's weights: data set (and a digest of
the shipped file), architecture, seed (hence the split and the initial weights),
epochs, training fraction, the optimiser settings, label smoothing if any (its
``TeacherSettings``) and ``TEACHER_CODE_VERSION`` (bump it whenever the models, data
pipeline or training loop change what a teacher comes out as). A k-seed run loads the
seeds it finds and trains the missing ones together, as one stack; each is then cached
on its own, so a later run of any seed set reuses them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from app.distill.data import load_split
from app.distill.engine import (
    Batches,
    Context,
    Evaluation,
    Evaluator,
    Learner,
    Stopwatch,
    build_stacked,
    ce_step,
    evaluate,
    run_phase,
    watch,
)
from app.distill.losses import smoothed_cross_entropy
from app.distill.models import SmallCNN, from_groups, pool, split_state, stack_states
from app.distill.teacher_cache import (  # noqa: F401  (the names teacher.py always had)
    TEACHER_CODE_VERSION,
    TeacherSettings,
    cache_path,
    estimate_s,
    record_cost,
    teacher_cost_key,
    teacher_key,
)

# The teacher's initial weights and batch order differ from the student's.
TEACHER_SEED_OFFSET = 7919

ARCHS: dict[str, Callable[[int], nn.Module]] = {
    "cnn15": lambda k: SmallCNN(k, blocks=2),  # the teacher of kd, sp, fsp, at, ...
    "cnn3": lambda k: SmallCNN(k),  # the student's own architecture (Tf-KD self)
}


def _frozen_teacher(ctx: Context, settings: TeacherSettings) -> tuple[nn.Module, Evaluation]:
    keys = [teacher_key(settings, seed) for seed in ctx.seeds]
    paths = [cache_path(ctx.data_dir, key) for key in keys]
    states = [_load(ctx, path, key) for path, key in zip(paths, keys, strict=True)]
    missing = [i for i, state in enumerate(states) if state is None]
    if missing:
        trained = _train(ctx, settings, [ctx.seeds[i] for i in missing])
        for i, state in zip(missing, split_state(trained.state_dict(), len(missing)),
                            strict=True):
            states[i] = {k: v.detach().cpu() for k, v in state.items()}
            _save(states[i], paths[i], keys[i])
    model = ARCHS[settings.arch](ctx.k)
    model.load_state_dict(stack_states(states))
    model.to(ctx.device).eval().requires_grad_(False)
    split = ctx.split
    scores = Evaluation(evaluate({"teacher": model}, split.x_val, split.y_val),
                        evaluate({"teacher": model}, split.x_test, split.y_test))
    return FrozenTeacher(model), scores


def get_teacher(ctx: Context, settings: TeacherSettings) -> tuple[nn.Module, Evaluation]:
    """The frozen k-seed teacher stack (eval mode) and its validation and test scores:
    each seed from the cache when there, the missing ones trained now (phase
    ``teacher``, with its curve) and cached. Within one run (the method and its
    comparator arms share ``ctx.shared``) a teacher's settings load it once, and its
    outputs on the training digits are computed once (``FrozenTeacher``)."""
    key = ("teacher", settings, tuple(ctx.seeds))
    if key not in ctx.shared:
        ctx.shared[key] = _frozen_teacher(ctx, settings)
    else:
        ctx.emitter.log(f"teacher ({settings.arch}) shared with the run: loaded once, its "
                        "outputs on the training digits computed once")
    return ctx.shared[key]


class FrozenTeacher(nn.Module):
    """A frozen teacher stack (``SmallCNN``) whose outputs on a split's training digits
    are computed once and then looked up per batch.

    A teacher never changes and the training digits are not augmented, so its stage
    maps on a batch are rows of its maps on the whole training set. They are computed
    in chunks of the batch size the run draws (the convolutions see the shapes they
    would see per batch) and gathered back per batch into the layout ``grouped_maps``
    gives; the pooling and the linear head run per batch as before. So a looked-up
    output equals the computed one bit for bit (a test checks it for every shape the
    demos use), and the teacher's forward pass costs one epoch instead of one per
    epoch, for the method and its arms together. Any input that is not a batch drawn
    by ``Split.batch`` (no ``drawn`` tag) is computed as usual."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.k = model.k
        self._maps: dict[tuple[int, int], tuple[object, list[Tensor]]] = {}

    def forward(self, x: Tensor) -> Tensor:
        maps = self._drawn_maps(x)
        if maps is None:
            return self.model(x)
        return self.model.fc(pool(maps[-1], self.k))

    def features(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        maps = self._drawn_maps(x)
        if maps is None:
            return self.model.features(x)
        logits = self.model.fc(pool(maps[-1], self.k))
        return logits, [from_groups(m, self.k) for m in maps]

    def _drawn_maps(self, x: Tensor) -> list[Tensor] | None:
        """The grouped stage maps of the batch ``x`` was drawn as, or None."""
        drawn = getattr(x, "drawn", None)
        if drawn is None or torch.is_grad_enabled():
            return None
        split, idx, version = drawn
        if idx.size(0) != self.k or x._version != version:
            return None  # another stack's batch, or x changed in place since drawn
        key = (id(split), idx.size(1))
        if key not in self._maps or self._maps[key][0] is not split:
            self._maps[key] = (split, self._all_maps(split.x_train, idx.size(1)))
        seeds = torch.arange(self.k, device=idx.device)
        out = []
        for full, strides in self._maps[key][1]:
            n, kc, h, w = full.shape
            rows = full.view(n, self.k, kc // self.k, h, w)[idx.t(), seeds]
            shape = (idx.size(1), kc, h, w)
            out.append(full.new_empty_strided(shape, strides).copy_(rows.reshape(shape)))
        return out

    @torch.no_grad()
    def _all_maps(self, x_train: Tensor, size: int) -> list[tuple[Tensor, tuple[int, ...]]]:
        """Every stage's grouped maps on all training digits (N, k·C, H, W), computed in
        chunks of ``size`` (the last chunk overlaps the one before it), each with the
        strides a batch's maps have (channels-last, or not where k = 1)."""
        n = x_train.size(1)
        starts = list(range(0, n - size + 1, size))
        if starts[-1] + size < n:
            starts.append(n - size)
        full: list[tuple[Tensor, tuple[int, ...]]] = []
        for start in starts:
            maps = self.model.grouped_maps(x_train[:, start:start + size])
            if not full:
                full = [(m.new_empty((n, *m.shape[1:])), m.stride()) for m in maps]
            for (whole, _), part in zip(full, maps, strict=True):
                whole[start:start + size] = part
        return full


def _load(ctx: Context, path: Path, key: dict) -> dict[str, Tensor] | None:
    if not path.exists():
        return None
    watch = Stopwatch()
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if blob.get("key") != key:
            raise ValueError("key mismatch")
        state = blob["state_dict"]
        ARCHS[key["arch"]](1).load_state_dict(state)  # the shapes fit
    except Exception as exc:  # a torn or stale file: train afresh
        ctx.emitter.log(f"teacher cache {path.name} unusable ({exc}); retraining", "warning")
        return None
    ctx.emitter.log(
        f"teacher loaded from cache ({path.name}, {watch.seconds() * 1000:.0f} ms)"
    )
    return state


def _train(ctx: Context, settings: TeacherSettings, seeds: list[int]) -> nn.Module:
    """Train the teachers of ``seeds`` together on their own training sets."""
    split = load_split(seeds, settings.train_fraction, ctx.device)
    model = build_stacked(ARCHS[settings.arch], [s + TEACHER_SEED_OFFSET for s in seeds],
                          ctx.device)
    batches = Batches(split.num_train, settings.batch_size, seeds, TEACHER_SEED_OFFSET,
                      ctx.device)
    learner = Learner(model, settings.lr, settings.weight_decay, settings.epochs * len(batches))

    def step(idx: Tensor) -> dict[str, dict[str, Tensor]]:
        x, y = split.batch(idx)
        if not settings.label_smoothing:
            return {"teacher": ce_step(learner, x, y)}
        loss = smoothed_cross_entropy(learner.model(x), y, settings.label_smoothing)
        learner.update(loss)
        return {"teacher": {"total": loss}}

    ctx.emitter.log(f"training the teachers of seeds {seeds} ({settings.arch})")
    # The phase says what it should take, from what these teachers took last time on
    # this device (None: never recorded, the page says unknown); then its cost is kept.
    cost_key = teacher_cost_key(settings)
    clock = Stopwatch()
    run_phase(ctx, "teacher", settings.epochs, batches, step,
              Evaluator(watch({"teacher": model}), split), seeds=seeds,
              estimate_s=estimate_s(ctx.data_dir, cost_key, len(seeds), ctx.device.type))
    seconds = clock.seconds()
    ctx.shared["teacher_s"] = ctx.shared.get("teacher_s", 0.0) + seconds
    record_cost(ctx.data_dir, cost_key, seconds, len(seeds), ctx.device.type,
                torch.get_num_threads())
    return model


def _save(state: dict[str, Tensor], path: Path, key: dict) -> None:
    """Write atomically: concurrent runs may train the same teacher."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save({"key": key, "state_dict": state}, tmp)
    os.replace(tmp, path)
