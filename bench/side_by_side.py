"""Run a benchmark of this checkout and of another (the branch a change starts
from) alternately, in one run, and print their numbers side by side with the
ratio of each: a change's cost measured on the same machine at the same time.

    python bench/side_by_side.py OTHER_CHECKOUT [--pairs 3] -- bench/trainer_overhead.py ARGS

Each pair runs the other checkout first, then this one (the order alternates
from pair to pair). Every number of a line of output is paired with the number in
the same place of the same line of the other's output; the table gives the
median over the pairs of each, and ours / theirs. Never fails on a number.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def run(checkout: Path, script: str, args: list[str]) -> list[str]:
    out = subprocess.run([sys.executable, str(checkout / script), *args], cwd=checkout,
                         capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(checkout), **_env()})
    return [line for line in out.stdout.splitlines() if NUMBER.search(line)]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path)
    ap.add_argument("--pairs", type=int, default=3)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:cut])
    script, *rest = argv[cut + 1:]
    ours: list[list[str]] = []
    theirs: list[list[str]] = []
    for i in range(args.pairs):
        order = [(args.other, theirs), (ROOT, ours)]
        for checkout, into in order if i % 2 == 0 else order[::-1]:
            into.append(run(checkout, script, rest))
            print(f"pair {i + 1}: {'ours' if into is ours else 'theirs'} done", file=sys.stderr)
    print(f"{script} {' '.join(rest)}: median of {args.pairs} alternating pairs\n")
    for n, line in enumerate(ours[0]):
        if any(len(o) <= n for o in ours + theirs):
            break
        label = " ".join(NUMBER.sub("#", line).split())
        if any(" ".join(NUMBER.sub("#", t[n]).split()) != label for t in theirs):
            print(f"(line {n} differs in shape: {line!r})")
            continue
        cells = []
        for k in range(len(NUMBER.findall(line))):
            a = statistics.median(float(NUMBER.findall(o[n])[k]) for o in ours)
            b = statistics.median(float(NUMBER.findall(t[n])[k]) for t in theirs)
            ratio = f"{a / b:.3f}" if b else "-"
            cells.append(f"{b:g} -> {a:g} ({ratio})")
        print(f"{label}\n    theirs -> ours (ours/theirs): " + "; ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
