"""How honest the run page's one bar and ETA are: a method's runs through the real
emit path (``to_wire`` then ``EventLog``, which puts the whole run's progress on each
event, app/runs/progress.py), with the ETA read at moments of the run and set beside
the time the run really had left.

Three runs of one method in one process, as a server sees them:

1. **fresh**: nothing recorded, teachers to train (the time left is unknown until the
   student's own steps give a pace);
2. **recorded**: other seeds, so the teachers must train again, but this server has
   their cost (and the run's steps') on record: the ETA from the first event;
3. **cached**: the seeds of run 2 again: no teacher phase, the run's steps priced.

Each line: the share of the run's real time elapsed, the ETA then, the time really
left, and their ratio (1 is exact). Measured in one run on a shared machine: read
the ratios, not the seconds.

    python bench/progress.py [--method kd] [--seeds 5] [--epochs 20] [--teacher-epochs 15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.distill.methods import METHODS
from app.distill.trainer import train
from app.runs.emit import EventLog, to_wire

MOMENTS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9)


def watched_run(method: str, params: dict, data_dir: Path, threads: int) -> list[tuple]:
    """(t, whole) of every event the progress speaks of, and the run's end time."""
    log, seen = EventLog(), []

    def emit(event) -> None:
        data = to_wire(event)
        stored = log.add([data])[0]
        whole = log.progress.get("whole") if '"whole"' in stored.data else None
        if whole is not None:
            seen.append((data["t"], dict(whole), data.get("phase")))

    start = time.time()
    train({"method": method, "params": params, "data_dir": str(data_dir), "device": "cpu",
           "threads": threads}, emit)
    return [(start, None, None), *seen]


def report(name: str, seen: list[tuple]) -> None:
    start, end = seen[0][0], seen[-1][0]
    total = end - start
    print(f"\n{name}: {total:.1f} s in all")
    print("| elapsed | phase | bar | ETA s | really left s | ETA / left |")
    print("| --- | --- | --- | --- | --- | --- |")
    events = seen[1:]
    for share in MOMENTS:
        t, whole, phase = next(((t, w, p) for t, w, p in events if t - start >= share * total),
                               events[-1])
        left = end - t
        eta = whole["left_s"]
        ratio = "—" if eta is None or left <= 0 else f"{eta / left:.2f}"
        print(f"| {(t - start) / total:4.0%} | {phase or ''} | {whole['done']:.2f} | "
              f"{'unknown' if eta is None else f'{eta:.1f}'} | {left:.1f} | {ratio} |")
    final = events[-1][1]
    print(f"end: bar {final['done']:.2f}, elapsed by the bar {final['elapsed_s']:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="kd", choices=sorted(METHODS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--teacher-epochs", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    params = {"seeds": args.seeds, "epochs": args.epochs}
    if "teacher_epochs" in METHODS[args.method].params.model_fields:
        params["teacher_epochs"] = args.teacher_epochs
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        # The loop's first run in a process pays torch's warm-up: one tiny run first,
        # of another method, so that none of the three is measured cold.
        train({"method": "baseline", "params": {"epochs": 1, "seeds": 1},
               "data_dir": str(data / "warm"), "threads": args.threads}, lambda e: None)
        report("fresh (nothing recorded)",
               watched_run(args.method, params | {"seed": 0}, data, args.threads))
        other = params | {"seed": 100}
        report("recorded (teachers to train, their cost on record)",
               watched_run(args.method, other, data, args.threads))
        report("cached (no teacher phase)", watched_run(args.method, other, data, args.threads))


if __name__ == "__main__":
    main()
