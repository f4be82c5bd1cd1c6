"""Reproduce every demo at its default parameters over 10 seeds; write the results.

For each method: the test accuracy of the method's student and of its control
(mean ± sd over seeds), the paired Δ per seed (mean ± sd), its 95% confidence
interval from Student's t, wins/ties/losses, and the verdict, which comes from the
interval alone (``app/distill/stats.py``): never from win counts. Seeds are 0..N-1,
never chosen; they train in runs of 5 seeds together, exactly as a default demo does
(a seed's numbers do not depend on which seeds it trains beside). A few variants
beside the defaults test what the descriptions claim.

Writes ``docs/reproduction.md`` (a table) and ``docs/reproduction.json`` (for the
paper pages). Timings are of this machine at that moment; nothing asserts on them.
With ``--methods``, the rows (and variants) of the other methods already in the JSON
are kept as they were measured, and the table is rebuilt from all rows.

    python bench/reproduce.py [--seeds 10] [--threads 1] [--methods kd,lsr,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from app.distill.events import Summary  # noqa: E402
from app.distill.methods import METHODS, RunConfig  # noqa: E402
from app.distill.stats import arm_stats, paired_stats  # noqa: E402
from app.distill.trainer import train  # noqa: E402

CHUNK = 5  # seeds per run: a default demo
# Non-default settings measured beside the defaults (shown as extra rows).
VARIANTS = [("fsp", {"epochs": 5}), ("kd", {"train_fraction": 1.0}), ("dml", {"update": "joint"}),
            ("at", {"beta": 1000.0})]
# Context that the numbers alone do not carry (no numbers here: those are measured).
NOTES = {
    "kd": "Student sees 10% of the training pool; the teacher (15 convs) saw all of it.",
    "tfkd_reg": "Its virtual teacher is nearly uniform at K=10, T=20: compare with lsr.",
    "tfkd_self": "The teacher is the student's own architecture trained like the baseline.",
    "sp": "γ = 375: the paper's 3000 at batch 128, rescaled for batch 16 (the loss ~ 1/B).",
    "fsp": "Compute-matched: the control trains with CE through stage 1 and stage 2.",
    "byot": "Accuracy of the deepest exit; the control trains that exit alone.",
    "msd": "Same network and feature term as byot; every exit learns from every other.",
    "dml": "Accuracy of the first peer; the second is in the JSON.",
    "fitnets": "Compute-matched: the control trains with CE through stage 1 and stage 2 "
               "(stage 2 of the method is KD).",
    "at": "β = 62.5: the authors' 1000 rescaled for maps with 16× fewer positions.",
    "nst": "The first two stages only: at 2×2 the normalised channels made training chaotic.",
    "pkt": "β = 7500: RepDistiller's 30000 at batch 64, rescaled for batch 16 (the loss ~ 1/B).",
    "crd": "40 negatives per positive from the other classes of a 119-digit pool.",
    "dkd": "α = 1, β = 8, T = 4; warm-up over 2 of 20 epochs (mdistiller: 20 of 240).",
    "ls_teacher": "The control is KD from a plain teacher of the same architecture: Δ < 0 "
                  "supports the paper (smoothed teachers distil worse).",
    "conf_penalty": "β = 0.1 fixed beforehand, not tuned.",
}
VARIANT_NOTES = {
    "fsp": "A short train phase (the paper's fast-optimisation claim), still compute-matched.",
    "kd": "Every training digit: does KD's gain shrink with more data?",
    "dml": "Both peers step from one forward pass instead of in turn.",
    "at": "The authors' β = 1000 unscaled: the attention term swamps CE and the training "
          "CE blows up (the reason for the default's rescaling).",
}


def label(method: str, over: dict) -> str:
    return method + "".join(f" ({k}={v})" for k, v in over.items())


def run_chunks(method: str, seeds: list[int], data_dir: Path, threads: int, over: dict):
    """Train ``seeds`` in runs of CHUNK; returns (summaries, wall seconds per run)."""
    summaries = []
    for start in range(0, len(seeds), CHUNK):
        part = seeds[start:start + CHUNK]
        params = {"seed": part[0], "seeds": len(part), **over}
        config = RunConfig(method=method, params=params, data_dir=data_dir, device="cpu",
                           threads=threads)
        summaries.append(train(config, lambda event: None))
    return summaries, [s.wall_s for s in summaries]


def joined(summaries: list[Summary], model: str, key: str) -> list[float]:
    return [v for s in summaries for v in getattr(s.per_seed[model], key)]


def measure(method: str, seeds: list[int], data_dir: Path, threads: int, over: dict) -> dict:
    run_chunks(method, seeds, data_dir, threads, over)  # teachers trained and cached
    summaries, walls = run_chunks(method, seeds, data_dir, threads, over)
    models = summaries[0].per_seed
    row = {
        "method": method,
        "label": label(method, over),
        "over": over,
        "title": METHODS[method].title,
        "papers": list(METHODS[method].papers),
        "params": METHODS[method].params(**over).model_dump(),
        "seeds": seeds,
        "student": arm_stats(joined(summaries, "student", "test_acc")),
        "baseline": None, "delta": None, "delta_best_val": None,
        "models": {m: arm_stats(joined(summaries, m, "test_acc"))["mean"] for m in models},
        "wall_s": arm_stats(walls) | {"seeds_per_run": CHUNK},
        "note": VARIANT_NOTES.get(method, "") if over else NOTES.get(method, ""),
    }
    if "baseline" in models:
        row["baseline"] = arm_stats(joined(summaries, "baseline", "test_acc"))
        for key, acc in (("delta", "test_acc"), ("delta_best_val", "best_val_test_acc")):
            row[key] = paired_stats(joined(summaries, "student", acc),
                                    joined(summaries, "baseline", acc)).as_dict()
    return row


def pct(stats: dict | None) -> str:
    return "–" if stats is None else f"{100 * stats['mean']:.1f} ± {100 * stats['sd']:.1f}"


def delta_cells(d: dict | None) -> list[str]:
    if d is None:
        return ["–", "–", "–", "the reference"]
    return [f"{100 * d['mean']:+.2f} ± {100 * d['sd']:.2f}",
            f"[{100 * d['ci_low']:+.2f}, {100 * d['ci_high']:+.2f}]",
            f"{d['wins']}/{d['ties']}/{d['losses']}", d["label_en"]]


def markdown(rows: list[dict], meta: dict) -> str:
    n = len(meta["seeds"])
    lines = [
        "# Reproduction of the demos",
        "",
        f"Every method at its default parameters, seeds 0–{n - 1}, trained {CHUNK} at a "
        "time as a default demo does. Test accuracy (%) of the final models on each seed's "
        "359 test digits, mean ± sd over seeds; the control is trained in lockstep (same "
        "split, initial weights and batches within a seed, as many optimiser steps). Δ is "
        "the paired per-seed difference in points, mean ± sd, with its 95% confidence "
        f"interval (Student's t, {n - 1} df). The verdict comes from the interval alone: "
        "above 0 beats the baseline, below 0 worse, otherwise no clear difference at this "
        "scale. W/T/L counts seeds, for reading only. Wall s: one default run of "
        f"{CHUNK} seeds, teacher cached, on {meta['machine']} with {meta['threads']} torch "
        f"thread(s), while other work shared the machine. Made by `python "
        f"bench/reproduce.py` ({meta['date']}); every number is in `docs/reproduction.json`.",
        "",
        "| method | method acc | baseline acc | Δ points | 95% CI | W/T/L | verdict | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        cells = [f"`{r['label']}`", pct(r["student"]), pct(r["baseline"]),
                 *delta_cells(r["delta"]), f"{r['wall_s']['mean']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Δ with each model taken at its best validation epoch (chosen on "
              "validation, reported on test):", "",
              "| method | Δ points | 95% CI | W/T/L | verdict |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        if r["delta_best_val"]:
            lines.append("| " + " | ".join([f"`{r['label']}`",
                                            *delta_cells(r["delta_best_val"])]) + " |")
    lines += ["", "## Notes", ""]
    for r in rows:
        models = ", ".join(f"{k} {100 * v:.1f}" for k, v in r["models"].items())
        lines.append(f"- `{r['label']}`: mean test accuracy per model: {models}."
                     + (f" {r['note']}" if r["note"] else ""))
    return "\n".join(lines) + "\n"


def merged(rows: list[dict], path: Path, methods: list[str], seeds: list[int]) -> list[dict]:
    """The new rows beside the kept rows of the methods not re-run (same seeds only),
    defaults in registry order, then the variants."""
    if not path.exists():
        return rows
    old = json.loads(path.read_text(encoding="utf-8"))
    if old.get("seeds") != seeds:
        return rows
    kept = [r for r in [*old["methods"].values(), *old["variants"]]
            if r["method"] not in methods and r["method"] in METHODS]
    order = {m: i for i, m in enumerate(METHODS)}
    variant = {label(m, o): i for i, (m, o) in enumerate(VARIANTS)}
    return sorted(kept + rows, key=lambda r: (bool(r["over"]), variant.get(r["label"], 0)
                                              if r["over"] else order[r["method"]]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads per run (1: what a worker on a shared 2-core box gets)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--data-dir", type=Path, help="teacher cache (default: a temporary dir)")
    args = ap.parse_args()
    methods, seeds = args.methods.split(","), list(range(args.seeds))
    meta = {"seeds": seeds, "threads": args.threads, "torch": torch.__version__,
            "machine": f"{os.cpu_count()} CPU cores ({platform.machine()})",
            "date": time.strftime("%Y-%m-%d")}
    jobs = [(m, {}) for m in methods] + [(m, o) for m, o in VARIANTS if m in methods]
    rows = []
    print(f"{'method':<28} {'method acc':>11} {'baseline':>11} {'Δ points':>13} "
          f"{'95% CI':>16} {'W/T/L':>6}  verdict", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for method, over in jobs:
            r = measure(method, seeds, args.data_dir or Path(tmp), args.threads, over)
            rows.append(r)
            d = delta_cells(r["delta"])
            print(f"{r['label']:<28} {pct(r['student']):>11} {pct(r['baseline']):>11} "
                  f"{d[0]:>13} {d[1]:>16} {d[2]:>6}  {d[3]}", flush=True)
    rows = merged(rows, args.out / "reproduction.json", methods, seeds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reproduction.md").write_text(markdown(rows, meta), encoding="utf-8")
    payload = {"meta": meta, "seeds": seeds,
               "methods": {r["method"]: r for r in rows if not r["over"]},
               "variants": [r for r in rows if r["over"]]}
    (args.out / "reproduction.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'reproduction.md'} and reproduction.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
