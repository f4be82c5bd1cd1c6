"""The machinery every method shares: learners, batches, phases, events, evaluation.

A method (see ``recipes/``) builds its models and a ``step(idx)`` function that trains
on the batch of training indices ``idx`` and returns its loss terms as tensors;
``run_phase`` loops, emits a ``step`` event per optimiser step (one host sync for all
terms) and an ``epoch`` event per epoch. Nothing here knows about the web.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from pydantic import BaseModel
from torch import Tensor, nn

from app.distill.data import Split

Emit = Callable[[dict], None]
Losses = dict[str, dict[str, Tensor]]
Scores = dict[str, dict[str, float]]

MOMENTUM = 0.9


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block (e.g. building a model) under ``seed`` without touching the
    caller's global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@dataclass
class Learner:
    """One trained model, its SGD optimiser and per-step cosine learning rate."""

    model: nn.Module
    lr: float
    weight_decay: float
    total_steps: int
    parameters: list[nn.Parameter] | None = None
    opt: torch.optim.Optimizer = field(init=False)
    _step: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        params = self.parameters if self.parameters is not None else self.model.parameters()
        self.opt = torch.optim.SGD(
            params, lr=self.lr, momentum=MOMENTUM, weight_decay=self.weight_decay
        )

    def update(self, loss: Tensor) -> None:
        """zero_grad, backward, step, then decay the learning rate (cosine to 0)."""
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.advance()

    def advance(self) -> None:
        self._step += 1
        lr = 0.5 * self.lr * (1.0 + math.cos(math.pi * min(self._step / self.total_steps, 1.0)))
        for group in self.opt.param_groups:
            group["lr"] = lr


@dataclass
class Context:
    """What a recipe needs from the trainer."""

    params: BaseModel
    split: Split
    device: torch.device
    data_dir: Path
    emitter: Emitter

    def learner(
        self, model: nn.Module, steps: int, parameters: list[nn.Parameter] | None = None
    ) -> Learner:
        """An SGD learner with the run's lr and weight decay over ``steps`` steps."""
        p = self.params
        return Learner(model, p.lr, p.weight_decay, steps, parameters)

    def batches(self, seed: int) -> Batches:
        return Batches(self.split.num_train, self.params.batch_size, seed, self.device)


class Batches:
    """Shuffled index batches of one size (the remainder is dropped each epoch, so
    BatchNorm never sees a tiny batch); deterministic from ``seed``."""

    def __init__(self, n: int, batch_size: int, seed: int, device: torch.device) -> None:
        self.n, self.size, self.device = n, min(batch_size, n), device
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return max(1, self.n // self.size)

    def epoch(self) -> Iterator[Tensor]:
        perm = torch.randperm(self.n, generator=self.gen).to(self.device)
        for i in range(len(self)):
            yield perm[i * self.size : (i + 1) * self.size]


class Emitter:
    """Builds the contract's events and hands them to ``emit``."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit

    def phase(self, phase: str, state: str, epochs: int, steps: int) -> None:
        self.emit({"type": "phase", "phase": phase, "state": state, "epochs": epochs,
                   "steps": steps})

    def log(self, message: str, level: str = "info") -> None:
        self.emit({"type": "log", "level": level, "message": message})

    def step(self, phase: str, epoch: int, step: int, steps: int, losses: Losses) -> None:
        flat = [t.detach().reshape(()) for terms in losses.values() for t in terms.values()]
        values = iter(torch.stack(flat).tolist()) if flat else iter(())
        out = {name: {k: next(values) for k in terms} for name, terms in losses.items()}
        self.emit({"type": "metric", "kind": "step", "phase": phase, "epoch": epoch,
                   "step": step, "steps": steps, "losses": out})

    def epoch(self, phase: str, epoch: int, epochs: int, models: Scores) -> None:
        self.emit({"type": "metric", "kind": "epoch", "phase": phase, "epoch": epoch,
                   "epochs": epochs, "models": models})


def score(logits: Tensor, targets: Tensor) -> dict[str, float]:
    """Test accuracy (fraction) and mean cross-entropy of ``logits``."""
    acc = (logits.argmax(dim=1) == targets).float().mean()
    loss = F.cross_entropy(logits, targets)
    acc_f, loss_f = torch.stack([acc, loss]).tolist()
    return {"acc": acc_f, "loss": loss_f}


@torch.no_grad()
def evaluate(models: dict[str, nn.Module], split: Split) -> Scores:
    """Score every model on the test set in eval mode (then back to train mode)."""
    out = {}
    for name, model in models.items():
        was_training = model.training
        model.eval()
        out[name] = score(model(split.x_test), split.y_test)
        model.train(was_training)
    return out


def run_phase(
    ctx: Context,
    phase: str,
    epochs: int,
    batches: Batches,
    step_fn: Callable[[Tensor], Losses],
    eval_fn: Callable[[], Scores],
) -> list[Scores]:
    """Train ``epochs`` epochs of ``step_fn`` and return the per-epoch test scores."""
    total = epochs * len(batches)
    ctx.emitter.phase(phase, "start", epochs, total)
    history, step = [], 0
    for epoch in range(1, epochs + 1):
        for idx in batches.epoch():
            step += 1
            ctx.emitter.step(phase, epoch, step, total, step_fn(idx))
        scores = eval_fn()
        history.append(scores)
        ctx.emitter.epoch(phase, epoch, epochs, scores)
    ctx.emitter.phase(phase, "end", epochs, total)
    return history


def twin(model: nn.Module) -> nn.Module:
    """An independent copy with the same initial weights (the lockstep baseline)."""
    return copy.deepcopy(model)


def ce_step(learner: Learner, x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """One plain cross-entropy step (the baseline's)."""
    loss = F.cross_entropy(learner.model(x), y)
    learner.update(loss)
    return {"total": loss}


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start
