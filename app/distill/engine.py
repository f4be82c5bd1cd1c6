"""The machinery every method shares: learners, batches, phases, events, evaluation.

A method (see ``methods/``) builds its models, stacked over the run's k seeds (see
``models.py``), and a ``step(idx)`` function that trains on the (k, B) training
indices ``idx`` and returns its loss terms, each a (k,) tensor of per-seed values;
``run_phase`` loops, emits a ``step`` event per optimiser step (one host sync for all
terms) and an ``epoch`` event per epoch with validation scores. Test scores are kept
aside for the summary and never emitted per epoch. Nothing here knows about the web.
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
from pydantic import BaseModel
from torch import Tensor, nn

from app.distill.data import Split
from app.distill.events import LogEvent, MetricEvent, PhaseEvent, TrainerEvent
from app.distill.losses import cross_entropy
from app.distill.models import stack_states

Emit = Callable[[TrainerEvent], None]
Terms = dict[str, Tensor]  # term name → (k,) per-seed values; "total" is minimised
Losses = dict[str, Terms]  # model name → its terms
Scores = dict[str, dict[str, list[float]]]  # model → {"acc": [k], "loss": [k]}

MOMENTUM = 0.9


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block (e.g. building a model) under ``seed`` without touching the
    caller's global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def build_stacked(factory: Callable[[int], nn.Module], seeds: list[int],
                  device: torch.device) -> nn.Module:
    """A k-seed stack whose copy i has the initial weights that ``factory(1)`` gets
    under ``seeds[i]``: a seed's weights never depend on which other seeds run."""
    parts = []
    for seed in seeds:
        with seeded(seed):
            parts.append(factory(1).state_dict())
    with seeded(seeds[0]):
        model = factory(len(seeds))
    model.load_state_dict(stack_states(parts))
    return model.to(device)


@dataclass
class Learner:
    """One trained stack, its SGD optimiser and per-step cosine learning rate."""

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
        """zero_grad, backward of the seeds' summed losses, step, then decay the
        learning rate (cosine to 0). Each seed's weights get its own loss's gradient."""
        self.opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        self.opt.step()
        self.advance()

    def advance(self) -> None:
        self._step += 1
        lr = 0.5 * self.lr * (1.0 + math.cos(math.pi * min(self._step / self.total_steps, 1.0)))
        for group in self.opt.param_groups:
            group["lr"] = lr


class Batches:
    """Each seed's shuffled index batches of one size (the remainder is dropped each
    epoch, so BatchNorm never sees a tiny batch). Seed i's order comes from its own
    generator, seeded ``seeds[i] + offset``, whatever the other seeds are."""

    def __init__(self, n: int, batch_size: int, seeds: list[int], offset: int,
                 device: torch.device) -> None:
        self.n, self.size, self.device = n, min(batch_size, n), device
        self.gens = [torch.Generator().manual_seed(s + offset) for s in seeds]

    def __len__(self) -> int:
        return max(1, self.n // self.size)

    def epoch(self) -> Iterator[Tensor]:
        perms = torch.stack([torch.randperm(self.n, generator=g) for g in self.gens])
        perms = perms.to(self.device)
        for i in range(len(self)):
            yield perms[:, i * self.size : (i + 1) * self.size]


class Emitter:
    """Builds the trainer's events (app/distill/events.py) and hands them to ``emit``."""

    def __init__(self, emit: Emit, plan: dict | None = None) -> None:
        self.emit = emit
        # What every phase start of the run repeats: the steps of its own phases in
        # all (``run_steps``) and what they should take (``run_estimate_s``).
        self.plan = plan or {}

    def phase(self, phase: str, state: str, epochs: int, steps: int, seeds: list[int],
              **extra) -> None:
        more = {**self.plan, **extra} if state == "start" else {}
        self.emit(PhaseEvent(phase=phase, state=state, epochs=epochs, steps=steps, seeds=seeds,
                             **more))

    def log(self, message: str, level: str = "info") -> None:
        self.emit(LogEvent(level=level, message=message))

    def step(self, phase: str, epoch: int, step: int, steps: int, losses: Losses) -> None:
        flat = [t.detach().reshape(-1) for terms in losses.values() for t in terms.values()]
        values = iter(torch.stack(flat).tolist()) if flat else iter(())
        out = {name: {k: next(values) for k in terms} for name, terms in losses.items()}
        self.emit(MetricEvent(kind="step", phase=phase, epoch=epoch, step=step, steps=steps,
                              losses=out))

    def epoch(self, phase: str, epoch: int, epochs: int, models: Scores) -> None:
        self.emit(MetricEvent(kind="epoch", phase=phase, epoch=epoch, epochs=epochs,
                              models=models))


@dataclass
class Context:
    """What a method's recipe needs from the trainer."""

    params: BaseModel
    seeds: list[int]
    split: Split
    device: torch.device
    data_dir: Path
    emitter: Emitter
    # What the run's recipes share: its method and comparator arms hand on one dict
    # (teacher.get_teacher keeps each frozen teacher here, loaded once a run).
    shared: dict = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.seeds)

    def learner(
        self, model: nn.Module, steps: int, parameters: list[nn.Parameter] | None = None
    ) -> Learner:
        """An SGD learner with the run's lr and weight decay over ``steps`` steps."""
        p = self.params
        return Learner(model, p.lr, p.weight_decay, steps, parameters)

    def batches(self, offset: int = 0) -> Batches:
        return Batches(self.split.num_train, self.params.batch_size, self.seeds, offset,
                       self.device)

    def build(self, factory: Callable[[int], nn.Module], offset: int = 0) -> nn.Module:
        """A stack of ``factory`` networks, copy i initialised under seed i + offset."""
        return build_stacked(factory, [s + offset for s in self.seeds], self.device)


def score(logits: Tensor, targets: Tensor) -> dict[str, list[float]]:
    """Per-seed accuracy (fraction) and mean cross-entropy: logits (k, N, K)."""
    acc = (logits.argmax(dim=-1) == targets).float().mean(dim=-1)
    loss = cross_entropy(logits, targets)
    acc_l, loss_l = torch.stack([acc, loss]).tolist()
    return {"acc": acc_l, "loss": loss_l}


@torch.no_grad()
def evaluate(models: dict[str, nn.Module], x: Tensor, y: Tensor) -> Scores:
    """Score every model on (x, y) in eval mode (then back to its former mode)."""
    out = {}
    for name, model in models.items():
        was_training = model.training
        model.eval()
        out[name] = score(model(x), y)
        model.train(was_training)
    return out


@dataclass
class Evaluation:
    """Scores on validation (shown per epoch) and test (kept for the summary)."""

    val: Scores
    test: Scores


@dataclass
class Watched:
    """A network to score: ``outputs(x)`` gives its logits by model name (one name for a
    plain network; several for a multi-exit one)."""

    module: nn.Module
    outputs: Callable[[Tensor], dict[str, Tensor]]


def watch(models: dict[str, nn.Module]) -> list[Watched]:
    return [Watched(m, lambda x, m=m, name=name: {name: m(x)}) for name, m in models.items()]


class Evaluator:
    """Scores the watched networks on validation after every epoch, and keeps each
    model's weights, seed by seed, from its best validation epoch (the earliest on
    ties). Test is scored only by ``test()``, at the end: the final weights and the
    best-validation ones. Nothing is chosen on test. ``fixed`` scores (a frozen
    teacher's) join both."""

    def __init__(self, watched: list[Watched], split: Split, fixed: Evaluation | None = None):
        self.watched, self.split, self.fixed = watched, split, fixed
        self.best: dict[str, tuple[Tensor, list[int], dict[str, Tensor]]] = {}
        self.epoch = 0

    @torch.no_grad()
    def _logits(self, w: Watched, x: Tensor) -> dict[str, Tensor]:
        was_training = w.module.training
        w.module.eval()
        try:
            return w.outputs(x)
        finally:
            w.module.train(was_training)

    def __call__(self) -> Scores:
        """Validation scores of this epoch; remembers improved seeds' weights."""
        self.epoch += 1
        scores = {}
        for w in self.watched:
            for name, logits in self._logits(w, self.split.x_val).items():
                scores[name] = score(logits, self.split.y_val)
                self._remember(name, w.module, torch.tensor(scores[name]["acc"]))
        return scores | (self.fixed.val if self.fixed else {})

    def _remember(self, name: str, module: nn.Module, acc: Tensor) -> None:
        state = {k: v.detach() for k, v in module.state_dict().items() if v.dim()}
        if name not in self.best:
            self.best[name] = (acc, [self.epoch] * len(acc),
                               {k: v.clone() for k, v in state.items()})
            return
        best_acc, epochs, saved = self.best[name]
        better = acc > best_acc
        if not better.any():
            return
        for key, value in state.items():
            rows = saved[key].view(len(acc), -1)
            rows[better] = value.view(len(acc), -1)[better]
        for i in better.nonzero().flatten().tolist():
            epochs[i] = self.epoch
        self.best[name] = (torch.where(better, acc, best_acc), epochs, saved)

    def best_epochs(self) -> dict[str, list[int]]:
        return {name: epochs for name, (_, epochs, _) in self.best.items()}

    @torch.no_grad()
    def test(self) -> tuple[Scores, Scores]:
        """Test scores of the final weights, and of each model's best-validation ones."""
        x, y = self.split.x_test, self.split.y_test
        final, best = {}, {}
        for w in self.watched:
            names = list(self._logits(w, x).items())
            for name, logits in names:
                final[name] = score(logits, y)
            current = {k: v.clone() for k, v in w.module.state_dict().items()}
            for name, _ in names:
                w.module.load_state_dict(self.best[name][2], strict=False)
                best[name] = score(self._logits(w, x)[name], y)
            w.module.load_state_dict(current)
        fixed = self.fixed.test if self.fixed else {}
        return final | fixed, best | fixed


def run_phase(
    ctx: Context,
    phase: str,
    epochs: int,
    batches: Batches,
    step_fn: Callable[[Tensor], Losses],
    eval_fn: Callable[[], Scores],
    seeds: list[int] | None = None,
    estimate_s: float | None = None,
) -> list[Scores]:
    """Train ``epochs`` epochs of ``step_fn``; emit and return the validation scores
    of every epoch. Every list in the phase's events follows ``seeds`` (the run's,
    unless a phase trains others, as missing teachers); a teacher phase's start says
    what it should take (``estimate_s``, from its recorded cost)."""
    total = epochs * len(batches)
    seeds = ctx.seeds if seeds is None else seeds
    extra = {} if estimate_s is None else {"estimate_s": estimate_s}
    ctx.emitter.phase(phase, "start", epochs, total, seeds, **extra)
    history, step = [], 0
    for epoch in range(1, epochs + 1):
        for idx in batches.epoch():
            step += 1
            ctx.emitter.step(phase, epoch, step, total, step_fn(idx))
        scores = eval_fn()
        history.append(scores)
        ctx.emitter.epoch(phase, epoch, epochs, scores)
    ctx.emitter.phase(phase, "end", epochs, total, seeds)
    return history


def twin(model: nn.Module) -> nn.Module:
    """An independent copy with the same initial weights (the lockstep baseline)."""
    return copy.deepcopy(model)


def ce_step(learner: Learner, x: Tensor, y: Tensor) -> Terms:
    """One plain cross-entropy step (the baseline's). Its CE is its total, and says
    so: the run page draws every model's CE on one axis, a method's own terms apart."""
    loss = cross_entropy(learner.model(x), y)
    learner.update(loss)
    return {"ce": loss, "total": loss}


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start
