"""Steps per second of ``train()`` (events consumed) against a bare PyTorch loop.

The bare loop trains the same models on the same data the way one would by hand:
same batches, SGD with momentum and a cosine schedule, one test pass per epoch, no
events. ``train()`` additionally builds every event and hands it to a consumer that
serialises it to JSON, as the run service does. Rounds alternate between the two and
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
import torch.nn.functional as F

from app.distill.data import load_split
from app.distill.engine import Batches, seeded
from app.distill.losses import dml_loss, kd_loss
from app.distill.methods import METHODS, RunConfig
from app.distill.models import SmallCNN
from app.distill.recipes.mutual import PEER_SEED_OFFSET
from app.distill.teacher import Recipe, cache_path, teacher_key
from app.distill.trainer import train


def sgd(model: torch.nn.Module, lr: float, wd: float, steps: int):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    return opt, sched


def step(opt, sched, loss) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()


@torch.no_grad()
def score_pass(models, split) -> None:
    for m in models:
        m.eval()
        logits = m(split.x_test)
        (logits.argmax(1) == split.y_test).float().mean().item()
        F.cross_entropy(logits, split.y_test).item()
        m.train()


def bare(method: str, params: dict, data_dir: Path) -> int:
    """The method and its baseline twin by hand; returns the optimiser steps taken."""
    p = METHODS[method].params.model_validate(params)
    split = load_split(p.seed, p.train_fraction, torch.device("cpu"))
    batches = Batches(split.num_train, p.batch_size, p.seed, torch.device("cpu"))
    steps = p.epochs * len(batches)
    with seeded(p.seed):
        student = SmallCNN()
    base = SmallCNN()
    base.load_state_dict(student.state_dict())
    twin = method != "baseline"  # the baseline method has no lockstep twin
    models = [student, base] if twin else [student]
    s_opt, b_opt = sgd(student, p.lr, p.weight_decay, steps), sgd(base, p.lr, p.weight_decay, steps)
    if method == "kd":
        teacher = SmallCNN(blocks=2)
        key = teacher_key(Recipe("cnn15", p.teacher_epochs, 1.0), p.seed)
        blob = torch.load(cache_path(data_dir, key), weights_only=True)
        teacher.load_state_dict(blob["state_dict"])
        teacher.eval().requires_grad_(False)
        score_pass([teacher], split)
    if method == "dml":
        with seeded(p.seed + PEER_SEED_OFFSET):
            peer = SmallCNN()
        p_opt = sgd(peer, p.lr, p.weight_decay, steps)
        models.append(peer)
    for _ in range(p.epochs):
        for idx in batches.epoch():
            x, y = split.x_train[idx], split.y_train[idx]
            if method == "kd":
                with torch.no_grad():
                    t_logits = teacher(x)
                z = student(x)
                loss = (1 - p.alpha) * F.cross_entropy(z, y) + p.alpha * kd_loss(
                    z, t_logits, p.temperature)
                step(*s_opt, loss)
            elif method == "dml":
                z1, z2 = student(x), peer(x)
                total = dml_loss(z1, [z2], y) + dml_loss(z2, [z1], y)
                s_opt[0].zero_grad(set_to_none=True)
                p_opt[0].zero_grad(set_to_none=True)
                total.backward()
                for opt, sched in (s_opt, p_opt):
                    opt.step()
                    sched.step()
            else:
                step(*s_opt, F.cross_entropy(student(x), y))
            if twin:
                step(*b_opt, F.cross_entropy(base(x), y))
        score_pass(models, split)
    return steps


def with_trainer(method: str, params: dict, data_dir: Path, threads: int) -> int:
    steps = 0

    def consume(event: dict) -> None:
        nonlocal steps
        json.dumps(event)
        if event.get("kind") == "step" and event["phase"] == "train":
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
    print(f"{'method':<10} {'bare steps/s':>13} {'train() steps/s':>16} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        for method in args.methods.split(","):
            method_params = params | ({"teacher_epochs": 5} if method == "kd" else {})
            with_trainer(method, method_params, data_dir, args.threads)  # warm up, cache
            bare_rates, trainer_rates = [], []
            for _ in range(args.rounds):
                bare_rates.append(rate(lambda m=method, p=method_params: bare(m, p, data_dir)))
                trainer_rates.append(rate(
                    lambda m=method, p=method_params: with_trainer(m, p, data_dir, args.threads)))
            b, t = statistics.median(bare_rates), statistics.median(trainer_rates)
            print(f"{method:<10} {b:13.1f} {t:16.1f} {t / b:7.3f}", flush=True)
    print("\nratio = train() / bare loop, medians of alternating rounds (target ≥ 0.9); "
          "both include setup and a test pass per epoch.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
