"""Microseconds per event on the emit path, from the trainer's `emit` to the stored
JSON: what the typed events and the one emit path changed, without the training
around it (whose noise on a shared machine is larger than the change).

Runs against whichever `app` is first on the path; with `--other CHECKOUT` it
alternates between that checkout's code and this one's, in subprocesses, and
prints both with their ratio.

    python bench/emit_path.py [--events 20000] [--rounds 7] [--other CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(events: int) -> dict[str, float]:
    """µs per event: building the step event in the engine, then the worker's and
    the service's handling of it, then JSON as stored."""
    import torch

    from app.distill.engine import Emitter

    losses = {m: {t: torch.rand(5) for t in ("total", "ce", "kd")}
              for m in ("student", "baseline")}
    got: list = []
    emitter = Emitter(got.append)
    start = time.perf_counter()
    for i in range(events):
        emitter.step("train", 1, i + 1, events, losses)
    built = time.perf_counter() - start
    try:  # this branch: one emit path
        from app.runs.emit import EventLog, to_wire

        log = EventLog()
        start = time.perf_counter()
        for event in got:
            log.add([to_wire(event)])
        handled = time.perf_counter() - start
    except ImportError:  # before: the worker checks and stamps, the service checks again
        from app.runs.contract import encode_event, parse_event, track_progress
        from app.runs.worker import json_safe

        progress: dict = {}
        start = time.perf_counter()
        for seq, event in enumerate(got, start=1):
            data = json_safe(dict(event))
            data["t"] = time.time()
            wire = parse_event(data).wire()
            typed = parse_event(wire)
            encode_event(seq, typed)
            track_progress(progress, typed)
        handled = time.perf_counter() - start
    return {"build": built / events * 1e6, "handle": handled / events * 1e6,
            "total": (built + handled) / events * 1e6}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--other", type=Path)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one or args.other is None:
        print(json.dumps(measure(args.events)))
        return 0
    runs: dict[str, list[dict]] = {"theirs": [], "ours": []}
    for i in range(args.rounds):
        order = [("theirs", args.other), ("ours", ROOT)]
        for name, checkout in order if i % 2 == 0 else order[::-1]:
            env = {**os.environ, "PYTHONPATH": str(checkout)}
            out = subprocess.run([sys.executable, __file__, "--one", "--events",
                                  str(args.events)], env=env, cwd=checkout, check=True,
                                 capture_output=True, text=True).stdout
            runs[name].append(json.loads(out))
    print(f"emit path, µs per step event (2 models × 3 terms × 5 seeds), median of "
          f"{args.rounds} alternating rounds of {args.events} events")
    print(f"{'part':<8} {'before':>8} {'after':>8} {'after/before':>13}")
    for part in ("build", "handle", "total"):
        before = statistics.median(r[part] for r in runs["theirs"])
        after = statistics.median(r[part] for r in runs["ours"])
        print(f"{part:<8} {before:8.1f} {after:8.1f} {after / before:13.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
