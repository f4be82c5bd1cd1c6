"""What k seeds trained together cost: wall time of a k-seed run ÷ a 1-seed run;
and what the comparator arms cost: a default run with its arms ÷ the same run without.

For every method at its default parameters (teacher cached): rounds alternate a
1-seed, a 5-seed and an 8-seed run of the same method, and the medians' ratios are
printed. Five separate runs would cost 5×. The floor is what the compute itself
grows by: one student network stepping on a 5× (8×) larger batch, timed here in the
same run; each method's ratio is also shown against it. A method whose claims name
another method (the KD student, LSR, BYOT) trains that arm in the same run: the
``arms`` columns give the default k = 5 run without its arms and the ratio of the
run with them to it. Ratios measured side by side on a shared machine: read them
as ratios, never as absolute speeds.

    python bench/seeds.py [--rounds 3] [--threads 1] [--device cpu|cuda] [--methods kd,...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from app.distill.engine import build_stacked
from app.distill.losses import cross_entropy
from app.distill.methods import METHODS, RunConfig
from app.distill.models import SmallCNN
from app.distill.trainer import train

TARGET_RATIO, TARGET_S = 2.0, 10.0


def wall(method: str, seeds: int, data_dir: Path, device: str, threads: int,
         arms: bool = True) -> float:
    params = {"seeds": seeds} | ({} if arms else {"arms": False})
    config = RunConfig(method=method, params=params, data_dir=data_dir,
                       device=device, threads=threads)
    start = time.perf_counter()
    train(config, lambda event: None)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def step_time(batch: int, device: torch.device, steps: int = 300) -> float:
    """Seconds per CE step of one student network on ``batch`` random digits."""
    model = build_stacked(SmallCNN, [0], device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(1, batch, 1, 8, 8, device=device)
    y = torch.randint(0, 10, (1, batch), device=device)

    def run(n: int) -> None:
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            cross_entropy(model(x), y).sum().backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    run(30)
    start = time.perf_counter()
    run(steps)
    return (time.perf_counter() - start) / steps


def floors(device: torch.device, rounds: int) -> dict[int, float]:
    """Per-step time on a k× larger batch ÷ on batch 16, medians of alternating rounds."""
    times: dict[int, list[float]] = {16: [], 80: [], 128: []}
    for _ in range(rounds):
        for batch in times:
            times[batch].append(step_time(batch, device))
    base = statistics.median(times[16])
    return {5: statistics.median(times[80]) / base, 8: statistics.median(times[128]) / base}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--methods", default=",".join(METHODS))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    floor = floors(torch.device(args.device), args.rounds)
    print(f"floor (one network, batch 80 ÷ batch 16): {floor[5]:.2f}×; "
          f"batch 128 ÷ 16: {floor[8]:.2f}×  ({args.device}, {args.threads} thread(s))\n")
    print(f"{'method':<12} {'k=1 s':>6} {'k=5 s':>6} {'k=8 s':>6} {'k5/k1':>6} "
          f"{'÷floor':>7} {'k8/k1':>6} {'÷floor':>7} {'k5 −arms':>8} {'arms×':>6}", flush=True)
    slow, over = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods.split(","):
            wall(method, 8, Path(tmp), args.device, args.threads)  # cache 8 teachers
            has_arms = bool(METHODS[method].arms)
            runs: dict[int, list[float]] = {1: [], 5: [], 8: []}
            bare: list[float] = []
            for _ in range(args.rounds):
                for k in runs:
                    runs[k].append(wall(method, k, Path(tmp), args.device, args.threads))
                if has_arms:
                    bare.append(wall(method, 5, Path(tmp), args.device, args.threads, False))
            one, five, eight = (statistics.median(runs[k]) for k in (1, 5, 8))
            r5, r8 = five / one, eight / one
            arms = (f"{statistics.median(bare):8.2f} {five / statistics.median(bare):6.2f}"
                    if has_arms else f"{'–':>8} {'–':>6}")
            print(f"{method:<12} {one:6.2f} {five:6.2f} {eight:6.2f} {r5:6.2f} "
                  f"{r5 / floor[5]:7.2f} {r8:6.2f} {r8 / floor[8]:7.2f} {arms}", flush=True)
            over += [method] if r5 > TARGET_RATIO else []
            slow += [method] if five > TARGET_S else []
    print(f"\nk5/k1 target ≤ {TARGET_RATIO:.1f}× on CPU (≤ 1.2× on a GPU): "
          + (f"over it: {', '.join(over)}." if over else "every method within it."))
    print(f"default demo with its arms (k=5, teacher cached) target ≤ {TARGET_S:.0f} s: "
          + (f"over it: {', '.join(slow)}." if slow else "every method within it."))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
