"""What a sweep costs: a 5-point × 5-seed sweep ÷ five separate runs of its points.

kd over ``train_fraction`` (its declared grid) by default, teacher cached: in each
round, the sweep as one run, then each point as its own run, then the default run
(train_fraction 0.1) five times' worth, measured side by side; the order of the
first two alternates from round to round and the medians are printed. A sweep over a
parameter that leaves the control unchanged (``--param temperature``) trains the
control once, so it should cost less than its points run apart; over
``train_fraction`` nothing but the teacher is shared. Ratios measured on a shared
machine: read them as ratios, never as absolute speeds.

    python bench/sweep.py [--method kd] [--param train_fraction] [--seeds 5]
                          [--rounds 2] [--threads 2] [--device cpu|cuda]
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

from app.distill.methods import METHODS, RunConfig
from app.distill.sweep import reused_arms, sweep_grids
from app.distill.trainer import train

TARGET_S = 60.0


def wall(method: str, params: dict, data_dir: Path, device: str, threads: int) -> float:
    config = RunConfig(method=method, params=params, data_dir=data_dir, device=device,
                       threads=threads)
    start = time.perf_counter()
    train(config, lambda event: None)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="kd")
    ap.add_argument("--param", default="train_fraction")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    method = METHODS[args.method]
    grid = list(sweep_grids(method)[args.param])
    seeds = {"seeds": args.seeds}
    sweep = {**seeds, "sweep": {"param": args.param, "values": grid}}
    print(f"{args.method} over {args.param} = {grid}, {args.seeds} seeds, {args.device}, "
          f"{args.threads} thread(s); trained once: "
          f"{', '.join(reused_arms(method, args.param)) or 'nothing but the cached teacher'}")
    times: dict[str, list[float]] = {"sweep": [], "points": [], "default": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        wall(args.method, {**seeds, "epochs": 1}, data, args.device, args.threads)  # teachers
        def one_sweep() -> None:
            times["sweep"].append(wall(args.method, sweep, data, args.device, args.threads))

        def apart() -> None:
            times["points"].append(sum(
                wall(args.method, {**seeds, args.param: v}, data, args.device, args.threads)
                for v in grid
            ))

        for i in range(args.rounds):  # the order alternates, so a drift in load evens out
            for measure in (one_sweep, apart) if i % 2 == 0 else (apart, one_sweep):
                measure()
            times["default"].append(wall(args.method, seeds, data, args.device, args.threads))
    swept, apart, one = (statistics.median(times[k]) for k in ("sweep", "points", "default"))
    print(f"\nmedians of {args.rounds} round(s)\n{'':<34} {'s':>7}")
    print(f"{'sweep (one run, ' + str(len(grid)) + ' points)':<34} {swept:7.2f}")
    print(f"{'its points as separate runs':<34} {apart:7.2f}")
    print(f"{'one default run (5× below)':<34} {one:7.2f}")
    print(f"\nsweep ÷ its points run apart: {swept / apart:.2f}×")
    print(f"sweep ÷ (5 × one default run): {swept / (5 * one):.2f}×")
    print(f"target ≤ {TARGET_S:.0f} s on 2 cores: "
          + ("within it." if swept <= TARGET_S else f"over it ({swept:.1f} s)."))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
