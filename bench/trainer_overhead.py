"""Steps per second of ``train()`` (events consumed) against a bare PyTorch loop.

The bare loop trains the same stacked models (1 seed, and 5 seeds batched) on the
same data the way one would by hand: same batches, SGD with momentum and a cosine
schedule, a validation pass per epoch, no events. ``train()`` additionally builds
every event and hands it to a consumer that serialises it to JSON, as the run
service does. Rounds alternate between the two and
the ratio of the median rates is printed; it is measured in one run, on a machine
that others share, so read it as a ratio and never as an absolute speed.

    python bench/trainer_overhead.py [--rounds 5] [--epochs 6] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from app.distill.data import load_split
from app.distill.engine import Batches, build_stacked, evaluate
from app.distill.losses import cross_entropy, dml_loss, kd_loss
from app.distill.methods import METHODS, RunConfig
from app.distill.methods.dml import PEER_SEED_OFFSET
from app.distill.models import SmallCNN, stack_states
from app.distill.teacher import TeacherSettings, cache_path, teacher_key
from app.distill.trainer import train

CPU = torch.device("cpu")


def sgd(model: torch.nn.Module, lr: float, wd: float, steps: int):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    return opt, sched


def step(opt, sched, loss) -> None:
    opt.zero_grad(set_to_none=True)
    loss.sum().backward()
    opt.step()
    sched.step()


def load_teachers(p, seeds: list[int], data_dir: Path) -> torch.nn.Module:
    recipe = TeacherSettings("cnn15", p.teacher_epochs, 1.0)
    states = [torch.load(cache_path(data_dir, teacher_key(recipe, s)), weights_only=True)
              ["state_dict"] for s in seeds]
    teacher = SmallCNN(len(seeds), blocks=2)
    teacher.load_state_dict(stack_states(states))
    return teacher.eval().requires_grad_(False)


def bare(method: str, params: dict, data_dir: Path) -> int:
    """The method and its control by hand, on the same stacked networks: batches,
    SGD with momentum and a cosine schedule, a validation pass per epoch and a test
    pass at the end, no events, no checkpoints. Returns the optimiser steps taken."""
    p = METHODS[method].params.model_validate(params)
    seeds = p.seed_list()
    split = load_split(seeds, p.train_fraction, CPU)
    batches = Batches(split.num_train, p.batch_size, seeds, 0, CPU)
    steps = p.epochs * len(batches)
    student = build_stacked(SmallCNN, seeds, CPU)
    base = build_stacked(SmallCNN, seeds, CPU)
    models = {"student": student, "baseline": base} if method != "baseline" else {"s": student}
    s_opt, b_opt = sgd(student, p.lr, p.weight_decay, steps), sgd(base, p.lr, p.weight_decay, steps)
    if method == "kd":
        teacher = load_teachers(p, seeds, data_dir)  # cached by the warm-up train()
    if method == "dml":
        peer = build_stacked(SmallCNN, [s + PEER_SEED_OFFSET for s in seeds], CPU)
        p_opt = sgd(peer, p.lr, p.weight_decay, steps)
        models["peer"] = peer
    for _ in range(p.epochs):
        for idx in batches.epoch():
            x, y = split.batch(idx)
            if method == "kd":
                with torch.no_grad():
                    t_logits = teacher(x)
                z = student(x)
                step(*s_opt, (1 - p.alpha) * cross_entropy(z, y)
                     + p.alpha * kd_loss(z, t_logits, p.temperature))
            elif method == "dml":  # the paper's alternating update
                with torch.no_grad():
                    z2 = peer(x)
                step(*s_opt, dml_loss(student(x), [z2], y))
                with torch.no_grad():
                    z1 = student(x)
                step(*p_opt, dml_loss(peer(x), [z1], y))
            else:
                step(*s_opt, cross_entropy(student(x), y))
            if method != "baseline":
                step(*b_opt, cross_entropy(base(x), y))
        evaluate(models, split.x_val, split.y_val)
    evaluate(models, split.x_test, split.y_test)
    return steps


def with_trainer(method: str, params: dict, data_dir: Path, threads: int) -> int:
    steps = 0

    def consume(event) -> None:
        nonlocal steps
        json.dumps(event.wire())
        if getattr(event, "kind", None) == "step" and event.phase == "train":
            steps += 1

    train(RunConfig(method=method, params=params, data_dir=data_dir, device="cpu",
                    threads=threads), consume)
    return steps


def rate(fn: Callable[[], int]) -> float:
    start = time.perf_counter()
    steps = fn()
    return steps / (time.perf_counter() - start)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--train-fraction", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--methods", default="baseline,kd,dml")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = {"epochs": args.epochs, "train_fraction": args.train_fraction}
    print(f"{'method':<10} {'seeds':>5} {'bare steps/s':>13} {'train() steps/s':>16} "
          f"{'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        jobs = [(m, k) for m in args.methods.split(",") for k in (1, 5)]
        for method, k in jobs:
            method_params = params | {"seeds": k} | (
                {"teacher_epochs": 5} if method == "kd" else {})
            with_trainer(method, method_params, data_dir, args.threads)  # warm up, cache
            bare_rates, trainer_rates = [], []
            for _ in range(args.rounds):
                bare_rates.append(rate(lambda m=method, p=method_params: bare(m, p, data_dir)))
                trainer_rates.append(rate(
                    lambda m=method, p=method_params: with_trainer(m, p, data_dir, args.threads)))
            b, t = statistics.median(bare_rates), statistics.median(trainer_rates)
            print(f"{method:<10} {k:5d} {b:13.1f} {t:16.1f} {t / b:7.3f}", flush=True)
    print("\nratio = train() / bare loop, medians of alternating rounds (target ≥ 0.9); both "
          "include setup and a validation pass per epoch; train() also keeps each seed's "
          "best-validation weights and scores them on test.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
