"""What k seeds trained together cost: wall time of a k-seed run ÷ a 1-seed run;
and what the comparator arms cost: a default run with its arms ÷ the same run without.

For every method at its default parameters (teacher cached): rounds alternate a
1-seed, a 5-seed and an 8-seed run of the same method, and the medians' ratios are
printed. Five separate runs would cost 5×. The floor is what the compute itself
grows by: one student network stepping on a 5× (8×) larger batch, timed here in the
same run; each method's ratio is also shown against it. A method whose claims name
another method (the KD student, LSR, BYOT) trains that arm in the same run: the
``arms`` columns give the default k = 5 run without its arms and the ratio of the
run with them to it, in wall and in CPU seconds (the CPU figures hardly move with
the machine's load). The method and its arms share one teacher, whose outputs on
the training digits are computed once a run (teacher.FrozenTeacher). The lockstep
floor says what training an arm as more seeds of the method's own stack could save
at most. Ratios measured side by side on a shared machine: read them as ratios,
never as absolute speeds.

    python bench/seeds.py [--rounds 3] [--threads 1] [--device cpu|cuda] [--methods kd,...]
"""

from __future__ import annotations

import argparse
import os
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


CPU: dict[tuple[str, int, bool], list[float]] = {}  # (method, k, arms) -> CPU seconds


def wall(method: str, seeds: int, data_dir: Path, device: str, threads: int,
         arms: bool = True) -> float:
    """Wall seconds of one run; its CPU seconds go to ``CPU`` (on a loaded machine the
    wall time grows with the load, the CPU time hardly does)."""
    params = {"seeds": seeds} | ({} if arms else {"arms": False})
    config = RunConfig(method=method, params=params, data_dir=data_dir,
                       device=device, threads=threads)
    start, cpu = time.perf_counter(), time.process_time()
    train(config, lambda event: None)
    if device == "cuda":
        torch.cuda.synchronize()
    CPU.setdefault((method, seeds, arms), []).append(time.process_time() - cpu)
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


def lockstep_floor(device: torch.device, rounds: int, k: int = 5) -> float:
    """What training an arm in lockstep as more seeds of the method's own stack could
    save at most: one CE step of a 2k-seed student stack ÷ two steps of a k-seed one
    (the same work in one kernel per layer instead of two)."""
    def step_k(n: int, steps: int = 200) -> float:
        model = build_stacked(SmallCNN, list(range(n)), device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(n, 16, 1, 8, 8, device=device)
        y = torch.randint(0, 10, (n, 16), device=device)
        for i in range(steps + 20):
            if i == 20:
                start = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            cross_entropy(model(x), y).sum().backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / steps

    ratios = []
    for _ in range(rounds):
        ratios.append(step_k(2 * k) / (2 * step_k(k)))
    return statistics.median(ratios)


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
    lockstep = lockstep_floor(torch.device(args.device), args.rounds)
    print(f"lockstep floor (one student stack of 10 seeds ÷ two of 5, per step): "
          f"{lockstep:.2f}× — the most that training an arm as more seeds of the method's "
          "stack could save\n")
    print(f"{'method':<12} {'k=1 s':>6} {'k=5 s':>6} {'k=8 s':>6} {'k5/k1':>6} "
          f"{'÷floor':>7} {'k8/k1':>6} {'÷floor':>7} {'k5 −arms':>8} {'arms×':>6} "
          f"{'CPU k5':>7} {'CPU −arms':>9} {'CPU arms×':>9}", flush=True)
    slow, over, cpu_slow = [], [], []
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
            cpu5 = statistics.median(CPU[(method, 5, True)])
            cpu = (f"{cpu5:7.2f} {statistics.median(CPU[(method, 5, False)]):9.2f} "
                   f"{cpu5 / statistics.median(CPU[(method, 5, False)]):9.2f}" if has_arms
                   else f"{cpu5:7.2f} {'–':>9} {'–':>9}")
            print(f"{method:<12} {one:6.2f} {five:6.2f} {eight:6.2f} {r5:6.2f} "
                  f"{r5 / floor[5]:7.2f} {r8:6.2f} {r8 / floor[8]:7.2f} {arms} {cpu}",
                  flush=True)
            cpu_slow += [method] if cpu5 > TARGET_S else []
            over += [method] if r5 > TARGET_RATIO else []
            slow += [method] if five > TARGET_S else []
    print(f"\nk5/k1 target ≤ {TARGET_RATIO:.1f}× on CPU (≤ 1.2× on a GPU): "
          + (f"over it: {', '.join(over)}." if over else "every method within it."))
    print(f"default demo with its arms (k=5, teacher cached) target ≤ {TARGET_S:.0f} s: "
          + (f"over it: {', '.join(slow)}." if slow else "every method within it.")
          + " In CPU seconds: "
          + (f"over it: {', '.join(cpu_slow)}." if cpu_slow else "every method within it."))
    print(f"load average: {os.getloadavg()[0]:.1f} (2 cores shared with other work)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
