"""Reproduce every claim of every demo over 10 seeds; write docs/reproduction.{md,json}.

Each method runs at its default parameters on seeds 0..N-1 (never chosen), in runs
of 5 seeds as a default demo does (a seed's numbers do not depend on its
neighbours). Every claim in the method files (``claims.py``) is then judged from the
paired per-seed Δ against its comparator on the same seeds: the run's own control
arm, or the comparator method's own default run (the KD student with the same
cached teacher, LSR, BYOT), which has the same splits, initial weights and batches
seed for seed. The notes' comparisons (`对比: a vs b`, NOTE_SOURCES) are judged the
same way from their two sides' rows; a side with parameters gets its own variant
row. Verdicts are raw (the 95% interval) and Holm-adjusted at a family-wise 5%: the
claims at defaults and the comparisons form one family (the one the paper pages'
reference verdicts come from), each sweep another.

Beside the defaults: the sweeps of the conditional claims (kd over train_fraction,
dkd over β, fsp over epochs), AT's β grid with the default picked on **validation**
accuracy (the grid is fixed in methods/at.py before any result), NST with all three
stages, DML's joint update. For every row the final epoch's mean training CE of the
student and of its control is kept, so under-fitting shows. The verdicts stand as
measured. Timings are of this machine at that moment; nothing asserts on them.

    python bench/reproduce.py [--seeds 10] [--threads 1] [--methods kd,lsr,...]
    python bench/reproduce.py --comparisons-only   # add the rows the comparisons lack
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from app.catalog.parser import parse_texts  # noqa: E402
from app.distill.claims import Claim, Versus, adjust, chance, judge, judged, labelled  # noqa: E402
from app.distill.events import Summary  # noqa: E402
from app.distill.methods import METHODS, RunConfig  # noqa: E402
from app.distill.methods.at import BETA_GRID  # noqa: E402
from app.distill.stats import arm_stats, paired_stats  # noqa: E402
from app.distill.trainer import train  # noqa: E402

CHUNK = 5  # seeds per run: a default demo
VARIANTS = [("dml", {"update": "joint"}), ("nst", {"stages": 3})]
NOTES = {
    "kd": "Student sees 10% of the training pool; the teacher (15 convs) saw all of it.",
    "tfkd_reg": "Its virtual teacher is nearly uniform at K=10, T=20: compare with lsr.",
    "tfkd_self": "The teacher is the student's own architecture trained like the baseline; "
                 "α = 0.5, T = 6 are ours (the authors' self-teacher configs use α = 0.95, "
                 "T ∈ {6, 20} and a KL averaged over batch × classes times a multiplier).",
    "sp": "γ = 375: the paper's 3000 at batch 128, rescaled for batch 16 (the loss ~ 1/B).",
    "fsp": "Compute-matched: the control trains with CE through stage 1 and stage 2.",
    "byot": "Accuracy of the deepest exit; the control trains that exit alone.",
    "msd": "Same network and feature term as byot; every exit learns from every other.",
    "dml": "Accuracy of the first peer; the second is in the JSON.",
    "fitnets": "Compute-matched: the control trains with CE through stage 1 and stage 2 "
               "(stage 2 of the method is KD: its claim is against the kd student).",
    "at": "β = 1000/256 ≈ 3.9, picked on validation from the grid 1000/4^k fixed "
          "beforehand (see AT's β above).",
    "nst": "The first two stages only: at 2×2 the normalised channels made training chaotic "
           "(the three-stage variant is below).",
    "pkt": "β = 7500: RepDistiller's 30000 at batch 64, rescaled for batch 16 (the loss ~ 1/B).",
    "crd": "40 negatives per positive from the other classes of a 119-digit pool.",
    "dkd": "α = 1, β = 8, T = 4; warm-up over 2 of 20 epochs (mdistiller: 20 of 240).",
    "ls_teacher": "The control is KD from a plain teacher of the same architecture: Δ < 0 "
                  "supports the paper (smoothed teachers distil worse).",
    "conf_penalty": "β = 0.1 fixed beforehand, not tuned.",
}
#: Where the notes' comparisons (`对比: a vs b`) come from: the bundled notes, and the
#: seed's two doubts as the README writes them (the author's file stays unchanged).
NOTE_SOURCES = (ROOT / "notes", ROOT / "tests" / "catalog" / "fixtures" / "doubts.md")
VARIANT_NOTES = {
    "dml": "Both peers step from one forward pass instead of in turn.",
    "nst": "All three stages, as RepDistiller. Not the default: on the 2×2 stage, "
           "normalising near-dead channels makes gradients explode, and seed s then "
           "depends on its neighbours' float rounding (a k-seed run no longer equals "
           "one-seed runs).",
    "at": "A point of AT's β grid.",
    "kd": "A point of the train_fraction sweep.",
    "dkd": "A point of the β sweep.",
    "fsp": "A point of the epochs sweep.",
    "byot": "A side of a notes comparison: BYOT with its KL and feature terms off "
            "(deep supervision alone), which the seed's note doubts matter.",
}


def label(method: str, over: dict) -> str:
    return method + "".join(f" ({k}={v:g})" if isinstance(v, float) else f" ({k}={v})"
                            for k, v in over.items())


class TrainCE:
    """Collects each model's training CE over the last epoch's steps of ``train``."""

    def __init__(self) -> None:
        self.last: dict[int, dict[str, list[list[float]]]] = {}

    def __call__(self, event) -> None:
        event = event.wire() if hasattr(event, "wire") else event  # a typed event
        if event.get("kind") != "step" or event.get("phase") != "train":
            return
        epoch = self.last.setdefault(event["epoch"], {})
        for model, terms in event["losses"].items():
            value = terms.get("ce", terms.get("total"))
            epoch.setdefault(model, []).append(value)

    def final(self) -> dict[str, list[float]]:
        """model → per-seed mean CE over the final epoch's steps."""
        steps = self.last[max(self.last)] if self.last else {}
        return {m: [statistics.fmean(col) for col in zip(*rows, strict=True)]
                for m, rows in steps.items()}


def run_chunks(method: str, seeds: list[int], data_dir: Path, threads: int, over: dict):
    """Train ``seeds`` in runs of CHUNK: (summaries, wall s per run, final train CE)."""
    summaries, ce = [], {}
    for start in range(0, len(seeds), CHUNK):
        part = seeds[start:start + CHUNK]
        params = {"seed": part[0], "seeds": len(part), **over}
        if "arms" in METHODS[method].params.model_fields:
            params["arms"] = False  # the comparators' own default rows serve as arms
        config = RunConfig(method=method, params=params, data_dir=data_dir, device="cpu",
                           threads=threads)
        collect = TrainCE()
        summaries.append(train(config, collect))
        for model, values in collect.final().items():
            ce.setdefault(model, []).extend(values)
    return summaries, [s.wall_s for s in summaries], ce


def joined(summaries: list[Summary], model: str, key: str) -> list[float]:
    return [v for s in summaries for v in getattr(s.per_seed[model], key)]


def measure(method: str, seeds: list[int], data_dir: Path, threads: int, over: dict,
            timed: bool = False) -> dict:
    """One row: every model's per-seed test accuracy, Δ against the run's control,
    the final training CE. ``timed``: run twice, timing the second (teachers cached)."""
    if timed:
        run_chunks(method, seeds, data_dir, threads, over)
    summaries, walls, ce = run_chunks(method, seeds, data_dir, threads, over)
    models = summaries[0].per_seed
    row = {
        "method": method, "label": label(method, over), "over": over,
        "title": METHODS[method].title, "papers": list(METHODS[method].papers),
        "params": METHODS[method].params(**over).model_dump(), "seeds": seeds,
        "student": arm_stats(joined(summaries, "student", "test_acc")),
        "baseline": None, "delta": None, "delta_best_val": None,
        "models": {m: arm_stats(joined(summaries, m, "test_acc"))["mean"] for m in models},
        "per_seed": {m: {k: joined(summaries, m, k) for k in ("test_acc", "val_acc")}
                     for m in models},
        "train_ce": {m: arm_stats(v) for m, v in ce.items()},
        "wall_s": arm_stats(walls) | {"seeds_per_run": CHUNK, "teachers_cached": timed},
        "note": VARIANT_NOTES.get(method, "") if over else NOTES.get(method, ""),
    }
    if "baseline" in models:
        row["baseline"] = arm_stats(joined(summaries, "baseline", "test_acc"))
        for key, acc in (("delta", "test_acc"), ("delta_best_val", "best_val_test_acc")):
            row[key] = paired_stats(joined(summaries, "student", acc),
                                    joined(summaries, "baseline", acc)).as_dict()
    return row


def claim_deltas(claim, row: dict, defaults: dict[str, dict]) -> list[float] | None:
    """Per-seed Δ of ``row``'s student against the claim's comparator: the row's own
    control, or the comparator method's default row on the same seeds."""
    mine = row["per_seed"]["student"]["test_acc"]
    if claim.versus.method is None:
        theirs = row["per_seed"].get(claim.versus.model, {}).get("test_acc")
    else:
        other = defaults.get(claim.versus.method)
        if other is None or claim.versus.params or other["seeds"] != row["seeds"]:
            return None
        theirs = other["per_seed"]["student"]["test_acc"]
    return None if theirs is None else [a - b for a, b in zip(mine, theirs, strict=True)]


def note_comparisons() -> list[tuple[str, dict, str, dict]]:
    """Every `对比: a vs b` of NOTE_SOURCES that the registry accepts, once each, in
    file order: (method, params, against, params)."""
    paths = [p for source in NOTE_SOURCES
             for p in (sorted(source.glob("*.md")) if source.is_dir() else [source])]
    found: dict[str, tuple[str, dict, str, dict]] = {}
    # Each file on its own: the doubts repeat papers of the bundled notes.
    papers = [paper for path in paths
              for paper in parse_texts([(path.name, path.read_text(encoding="utf-8"))])
              .papers.values()]
    for paper in papers:
        for c in paper.note_comparisons:
            sides = (c.method.method, c.method.params_dict, c.against.method,
                     c.against.params_dict)
            try:
                METHODS[sides[0]].params(**sides[1])
                METHODS[sides[2]].params(**sides[3])
            except (KeyError, ValueError):
                continue  # `notes check` reports it with file:line
            found.setdefault(str(c), sides)
    return list(found.values())


def side_label(method: str, params: dict) -> str:
    """As the notes write a side: `byot(alpha=0, feature_weight=0)`."""
    return method + (f"({', '.join(f'{k}={v}' for k, v in params.items())})" if params else "")


def comparison_claim(method: str, params: dict, against: str, against_params: dict) -> Claim:
    """A note's comparison as the claim it is judged as: the left side beats the right
    (the same wording as the paper page's, app/web/evidence.py)."""
    a, b = side_label(method, params), side_label(against, against_params)
    return Claim(id=f"note: {a} vs {b}", paper="", where="the notes",
                 zh=f"{a} 优于 {b}（笔记里的对比）",
                 en=f"{a} beats {b} (a comparison in the notes)",
                 versus=Versus(method=against, params=against_params, zh=b, en=b),
                 direction="better")


def side_values(method: str, params: dict, defaults: dict[str, dict],
                variants: list[dict]) -> list[float] | None:
    """A side's per-seed student test accuracy: the default row, or the variant row
    that changes exactly ``params``."""
    if not params:
        row = defaults.get(method)
    else:
        row = next((r for r in variants if r["method"] == method and r["over"] == params), None)
    return None if row is None else row["per_seed"]["student"]["test_acc"]


def judge_comparisons(defaults: dict[str, dict], variants: list[dict]) -> list[dict]:
    """Every note comparison judged (not adjusted yet) from the two sides' rows, paired
    by seed: every row trained seeds 0..N-1, so the same splits, initial weights and
    batches."""
    out = []
    for method, params, against, against_params in note_comparisons():
        mine = side_values(method, params, defaults, variants)
        theirs = side_values(against, against_params, defaults, variants)
        deltas = (None if mine is None or theirs is None or len(mine) != len(theirs) else
                  [a - b for a, b in zip(mine, theirs, strict=True)])
        claim = comparison_claim(method, params, against, against_params)
        out.append(judged(claim, deltas) | {
            "method": method, "comparison": f"{side_label(method, params)} vs "
                                            f"{side_label(against, against_params)}",
            "sides": [{"method": method, "params": params},
                      {"method": against, "params": against_params}]})
    return out


def comparison_rows_needed(defaults: dict[str, dict], variants: list[dict]) -> list[tuple]:
    """(method, params) of the comparisons' sides that no row has yet."""
    need = []
    for method, params, against, against_params in note_comparisons():
        for side in ((method, params), (against, against_params)):
            if side_values(*side, defaults, variants) is None and side not in need:
                need.append(side)
    return need


def judge_family(defaults: dict[str, dict], variants: list[dict]) -> tuple[list, list]:
    """Every unconditional claim at defaults and every note comparison: one Holm family
    (the intervals the reference's first two tables show together, and the family the
    paper pages' reference verdicts come from). (claims, comparisons), labelled."""
    claims = []
    for method, row in defaults.items():
        for claim in METHODS[method].claims:
            if claim.condition is None:
                claims.append(judged(claim, claim_deltas(claim, row, defaults))
                              | {"method": method})
    notes = judge_comparisons(defaults, variants)
    # A comparison that is a claim's own test (msd vs byot is msd.byot) is that claim's
    # interval, not another one in the family: it reads the claim's judgement.
    same = {j["claim"]: j for j in claims}
    twins = {}
    for i, j in enumerate(notes):
        left, right = j["sides"]
        for claim in METHODS[left["method"]].claims if not left["params"] else ():
            v = claim.versus
            if (v.method, v.params, claim.direction) == (right["method"], right["params"],
                                                          "better"):
                twins[i] = same[claim.id]
    distinct = [j for i, j in enumerate(notes) if i not in twins]
    adjusted = [labelled(j) for j in adjust(claims + distinct)]
    out_claims, out_distinct = adjusted[:len(claims)], iter(adjusted[len(claims):])
    by_id = {j["claim"]: j for j in out_claims}
    out_notes = []
    for i, j in enumerate(notes):
        if i in twins:
            twin = by_id[twins[i]["claim"]]
            keep = {k: j[k] for k in ("claim", "statement", "versus", "comparison", "sides",
                                      "method")}
            out_notes.append(twin | keep | {"same_as": twin["claim"]})
        else:
            out_notes.append(next(out_distinct))
    return out_claims, out_notes


def sweep(method: str, claim, seeds, data_dir, threads, defaults) -> tuple[dict, list[dict]]:
    """A conditional claim over its grid, Holm across the grid's points."""
    cond, points, rows = claim.condition, [], []
    for value in cond.grid:
        over = {cond.param: value}
        is_default = METHODS[method].params().model_dump()[cond.param] == value
        row = defaults[method] if is_default and method in defaults else measure(
            method, seeds, data_dir, threads, over)
        if not is_default:
            rows.append(row)
        swept = {"param": cond.param, "value": value, "in_range": cond.holds_at(value)}
        points.append(judged(claim, claim_deltas(claim, row, defaults), swept))
    reused = ([f"{claim.versus.method} at its defaults (does not depend on {cond.param})"]
              if claim.versus.method else [])
    return ({"claim": claim.id, "method": method, "param": cond.param, "grid": list(cond.grid),
             "range": [cond.low, cond.high], "reused": reused,
             "points": [labelled(j) for j in adjust(points)]}, rows)


def at_grid(seeds, data_dir, threads, defaults) -> tuple[dict, list[dict]]:
    """AT over BETA_GRID; the β with the best mean final validation accuracy is picked
    (test is not looked at), then its test Δ is the claim's."""
    rows, by_beta = [], {}
    default_beta = METHODS["at"].params().beta
    for beta in BETA_GRID:
        row = defaults["at"] if beta == default_beta and "at" in defaults else measure(
            "at", seeds, data_dir, threads, {"beta": beta})
        if beta != default_beta:
            rows.append(row)
        by_beta[beta] = row
    val = {b: statistics.fmean(r["per_seed"]["student"]["val_acc"]) for b, r in by_beta.items()}
    picked = max(BETA_GRID, key=lambda b: (val[b], -b))
    claim = METHODS["at"].claims[0]
    j = judged(claim, claim_deltas(claim, by_beta[picked], defaults),
               {"param": "beta", "value": picked, "in_range": True})
    return ({"grid": list(BETA_GRID), "val_acc": {str(b): v for b, v in val.items()},
             "picked": picked, "default": default_beta,
             "train_ce": {str(b): {m: s["mean"] for m, s in r["train_ce"].items()}
                          for b, r in by_beta.items()},
             "claim_at_picked": labelled(adjust([j])[0]),
             "note": "β picked on mean final validation accuracy from a grid fixed in "
                     "methods/at.py before any result; test only reports the pick."}, rows)


# -- the table -----------------------------------------------------------------------


def pct(stats: dict | None) -> str:
    return "–" if stats is None else f"{100 * stats['mean']:.1f} ± {100 * stats['sd']:.1f}"


def interval(j: dict) -> str:
    if j.get("ci_low") is None:
        return "–"
    return f"{100 * j['mean']:+.2f} [{100 * j['ci_low']:+.2f}, {100 * j['ci_high']:+.2f}]"


def in_family(judgements: list[dict]) -> int:
    """How many of ``judgements`` have an interval, so are in their Holm family (a
    comparison that is a claim's own test counts once, as the claim)."""
    return sum(1 for j in judgements if j.get("p_value") is not None and not j.get("same_as"))


def claim_line(j: dict, name: str | None = None) -> str:
    p = "–" if j.get("p_value") is None else f"{j['p_value']:.3f}"
    pa = "–" if j.get("adjusted_p_value") is None else f"{j['adjusted_p_value']:.3f}"
    cells = [f"`{name or j['claim']}`", j["statement"]["en"], j["versus"]["en"],
             j["direction"] + (f" ±{j['margin']:g}" if j["direction"] == "comparable" else ""),
             interval(j), p, j["label"]["en"], pa, j["adjusted_label"]["en"]]
    return "| " + " | ".join(cells) + " |"


def note_line(j: dict) -> str:
    """A notes comparison's row; one that is a claim's own test names the claim."""
    line = claim_line(j, j["comparison"])
    if j.get("same_as"):
        line = line.replace(f"`{j['comparison']}`", f"`{j['comparison']}` (= `{j['same_as']}`)",
                            1)
    return line


CLAIM_HEAD = ["| claim | statement | comparator | direction | Δ points [95% CI] | p | "
              "verdict (raw) | Holm p | verdict (Holm) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]


def markdown(payload: dict) -> str:
    meta, n = payload["meta"], len(payload["seeds"])
    claims, notes = payload["claims"], payload.get("comparisons", [])
    c = chance(in_family(claims + notes))
    lines = [
        "# Reproduction of the papers' claims", "",
        f"Every claim in the method files, seeds 0–{n - 1}, trained {CHUNK} at a time as a "
        "default demo does. Δ is the paired per-seed difference in test accuracy (points) "
        "between the method's student and the claim's comparator on the same seeds, so on "
        "the same splits, initial weights, batches and cached teacher: the run's own "
        "control, or the comparator method's default run. 95% interval from Student's t "
        f"({n - 1} df). Verdict: supported when the interval lies on the claimed side "
        "(for comparable: wholly inside ±margin), contradicted when on the other side, "
        "else not shown at this scale. Holm: the same at a family-wise 5% across one "
        f"family, the {c['count']} intervals of the first two tables (the claims at the "
        "defaults and the notes' comparisons; the paper pages' reference verdicts come "
        "from the same family). Each sweep, AT's pick and the runs against their own "
        "controls are families of their own, each with its count and chance below. "
        + c["en"], "",
        f"Made by `python bench/reproduce.py` ({meta['date']}, {meta['machine']}, "
        f"{meta['threads']} torch thread(s), shared with other work; torch {meta['torch']}); "
        "every number is in `docs/reproduction.json`. The verdicts stand as measured.", "",
        "## Claims at the default parameters", "", *CLAIM_HEAD,
        *[claim_line(j) for j in claims], "",
        "## Comparisons in the notes", "",
        "Each `对比: a vs b` of the bundled notes and of the seed's doubts "
        "(`tests/catalog/fixtures/doubts.md`, as the README shows them), judged as the "
        "claim that a beats b, from the two sides' rows paired by seed. Holm: in the "
        "family above; a comparison that is a claim's own test (same sides, same "
        "direction) is that claim's interval, counted once.", "", *CLAIM_HEAD,
        *[note_line(j) for j in notes], "",
    ]
    if payload["meta"].get("merged"):
        lines += ["Provenance: " + " ".join(m["note"] for m in payload["meta"]["merged"]), ""]
    for s in payload["sweeps"]:
        lines += [f"## Sweep: `{s['claim']}` over {s['param']} (the paper's range "
                  f"{s['range'][0]:g}–{s['range'][1]:g}; Holm across the points)", "",
                  s["points"][0]["statement"]["en"] + ". "
                  + chance(in_family(s["points"]))["en"].replace("on this page",
                                                                 "in this sweep"),
                  ""]
        if s["reused"]:
            lines += ["Trained once and reused at every point: " + "; ".join(s["reused"]) + ".",
                      ""]
        lines += CLAIM_HEAD + [claim_line(j, f"{s['param']}={j['swept']['value']:g}")
                               for j in s["points"]] + [""]
    a = payload.get("at_beta")
    if a:
        vals = ", ".join(f"β={float(b):g}: {100 * v:.1f}" for b, v in a["val_acc"].items())
        ces = ", ".join(f"β={float(b):g}: {d.get('student', float('nan')):.3f}"
                        for b, d in a["train_ce"].items())
        base_ce = next(iter(a["train_ce"].values())).get("baseline")
        lines += ["## AT's β, picked on validation", "",
                  a["note"] + " " + chance(1)["en"].replace("on this page", "in this family"),
                  "",
                  f"Mean final validation accuracy (%) per β: {vals}. Picked β = "
                  f"{a['picked']:g} (default {a['default']:g}).", "",
                  f"Final-epoch training CE of the AT student per β: {ces}; of the CE "
                  f"control: {base_ce:.3f}. A student whose training CE stays far above "
                  "the control's under-fits: the attention term pulls against CE.", "",
                  *CLAIM_HEAD, claim_line(a["claim_at_picked"], f"at (β={a['picked']:g})"), ""]
    lines += [
        "## Each run against its own control", "",
        "The older question, kept for reference: the student against the run's own "
        "control (plain CE for most; compute-matched CE for fsp and fitnets; the deepest "
        "exit alone for byot and msd; KD from a plain teacher for ls_teacher). "
        "Holm across the default rows (not the variants): "
        + chance(sum(1 for r in payload["rows"] if not r["over"] and r["delta"]
                     and r["delta"].get("ci_low") is not None))["en"]
        .replace("on this page", "in this family") + " Train loss: the final epoch's "
        "mean training CE, student / control (a method that reports no CE term, as lsr, "
        "gives its total loss). Wall s: one 5-seed run, teachers cached for the default "
        "rows, on a machine shared with other work at the time.", "",
        "| run | method acc | control acc | Δ points [95% CI] | verdict (raw) | verdict (Holm) "
        "| train loss | wall s |", "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in payload["rows"]:
        d, h = r["delta"], r.get("delta_holm")
        ce = r["train_ce"]
        ce_text = (f"{ce['student']['mean']:.3f} / {ce['baseline']['mean']:.3f}"
                   if "student" in ce and "baseline" in ce else "–")
        lines.append("| " + " | ".join([
            f"`{r['label']}`", pct(r["student"]), pct(r["baseline"]),
            "–" if d is None or d["ci_low"] is None else
            f"{100 * d['mean']:+.2f} [{100 * d['ci_low']:+.2f}, {100 * d['ci_high']:+.2f}]",
            "–" if d is None else d["label_en"], "–" if h is None else h,
            ce_text, f"{r['wall_s']['mean']:.1f}"]) + " |")
    lines += ["", "## Notes", ""]
    for r in payload["rows"]:
        models = ", ".join(f"{k} {100 * v:.1f}" for k, v in r["models"].items())
        lines.append(f"- `{r['label']}`: mean test accuracy per model: {models}."
                     + (f" {r['note']}" if r["note"] else ""))
    return "\n".join(lines) + "\n"


def _upgrade_judgement(j: dict) -> dict:
    """A judgement written before the comparator was an object (the summary's
    Comparison): the same numbers, the comparator and its names moved."""
    if isinstance(j.get("comparator"), dict):
        return j
    versus = j.get("versus", {})
    return j | {"comparator": {"model": j.get("comparator"), "method": versus.get("method"),
                               "params": versus.get("params", {})},
                "versus": {"zh": versus.get("zh", ""), "en": versus.get("en", "")}}


def upgraded(payload: dict) -> dict:
    """The JSON in the current shape (numbers untouched)."""
    payload["claims"] = [_upgrade_judgement(j) for j in payload.get("claims", [])]
    for s in payload.get("sweeps", []):
        s["points"] = [_upgrade_judgement(j) for j in s["points"]]
    if payload.get("at_beta"):
        a = payload["at_beta"]
        a["claim_at_picked"] = _upgrade_judgement(a["claim_at_picked"])
    return payload


def previous(path: Path, seeds: list[int]) -> dict:
    """The JSON already there, upgraded, if it has these seeds; else an empty one."""
    empty = {"methods": {}, "variants": [], "sweeps": [], "at_beta": None}
    if not path.exists():
        return empty
    old = json.loads(path.read_text(encoding="utf-8"))
    return upgraded(old) if old.get("seeds") == seeds else empty


def holm_rows(rows: list[dict]) -> None:
    """Each default row's Δ against its own control, Holm-adjusted across the default
    rows (the variants and sweep points are not in that family: none for them)."""
    defaults = [r for r in rows if not r["over"] and r["delta"]]
    adjusted = adjust([judge(r["delta"]["deltas"], "better") for r in defaults])
    names = {"supported": "beats the baseline", "contradicted": "worse than the baseline",
             "not_shown": "no clear difference at this scale", "no_verdict": "no verdict"}
    for r in rows:
        r["delta_holm"] = None
    for r, j in zip(defaults, adjusted, strict=True):
        r["delta_holm"] = names[j["adjusted_verdict"]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads per run (1: what a worker on a shared 2-core box gets)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--no-sweeps", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--data-dir", type=Path, help="teacher cache (default: a temporary dir)")
    ap.add_argument("--from-json", action="store_true",
                    help="rebuild reproduction.md from the JSON in --out, training nothing")
    ap.add_argument("--comparisons-only", action="store_true",
                    help="keep every row of the JSON in --out, train only the rows the notes' "
                    "comparisons lack (same seeds), judge the family again, and record it")
    args = ap.parse_args()
    if args.comparisons_only:
        return merge_comparisons(args)
    if args.from_json:
        path = args.out / "reproduction.json"
        payload = upgraded(json.loads(path.read_text(encoding="utf-8")))
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
        payload["rows"] = [*payload["methods"].values(), *payload["variants"]]
        holm_rows(payload["rows"])
        (args.out / "reproduction.md").write_text(markdown(payload), encoding="utf-8")
        return 0
    methods, seeds = args.methods.split(","), list(range(args.seeds))
    meta = {"seeds": seeds, "threads": args.threads, "torch": torch.__version__,
            "machine": f"{os.cpu_count()} CPU cores ({platform.machine()})",
            "date": time.strftime("%Y-%m-%d")}
    start = time.perf_counter()
    old = previous(args.out / "reproduction.json", seeds)
    # With --methods, the other methods' rows are kept as measured (same seeds only):
    # the re-run ones pair against them and all claims are judged together again.
    kept = {m: r for m, r in old["methods"].items() if m not in methods and m in METHODS}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        defaults = dict(kept)
        for method in methods:
            defaults[method] = measure(method, seeds, data_dir, args.threads, {}, timed=True)
            r = defaults[method]
            print(f"{method:<14} {pct(r['student']):>11} {pct(r['baseline']):>11} "
                  f"{(r['delta'] or {}).get('label_en', '–')}  "
                  f"[{time.perf_counter() - start:.0f} s]", flush=True)
        variants, sweeps, at_beta = [], [], None
        for method, over in VARIANTS:
            if method in methods:
                variants.append(measure(method, seeds, data_dir, args.threads, over))
        if not args.no_sweeps:
            for method in methods:
                for claim in METHODS[method].claims:
                    if claim.condition is not None:
                        s, rows = sweep(method, claim, seeds, data_dir, args.threads, defaults)
                        sweeps.append(s)
                        variants += rows
                        print(f"sweep {claim.id} done [{time.perf_counter() - start:.0f} s]",
                              flush=True)
            if "at" in methods:
                at_beta, rows = at_grid(seeds, data_dir, args.threads, defaults)
                variants += rows
        for method, over in comparison_rows_needed(defaults, variants):
            if method in methods:
                variants.append(measure(method, seeds, data_dir, args.threads, over))
    defaults = {m: defaults[m] for m in METHODS if m in defaults}  # registry order
    variants = [r for r in old["variants"] if r["method"] not in methods] + variants
    sweeps = [s for s in old["sweeps"] if s["method"] not in methods] + sweeps
    if "at" not in methods:
        at_beta = old.get("at_beta")
    meta["total_s"] = round(time.perf_counter() - start, 1)
    payload = {"meta": meta, "seeds": seeds, "sweeps": sweeps, "at_beta": at_beta,
               "methods": {r["method"]: r for r in defaults.values()}, "variants": variants}
    write(payload, args.out)
    return 0


def write(payload: dict, out: Path) -> None:
    """Judge the family (claims at defaults and the notes' comparisons), the rows
    against their own controls; write reproduction.md and .json."""
    defaults, variants = payload["methods"], payload["variants"]
    claims, notes = judge_family(defaults, variants)
    for j in claims + notes:
        print(f"{j.get('comparison', j['claim']):<44} {interval(j):>24}  "
              f"{j['label']['en']:<24} Holm: {j['adjusted_label']['en']}", flush=True)
    payload |= {"claims": claims, "comparisons": notes,
                "chance": chance(in_family(claims + notes))}
    payload["rows"] = list(defaults.values()) + variants
    holm_rows(payload["rows"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "reproduction.md").write_text(markdown(payload), encoding="utf-8")
    del payload["rows"]  # the same rows as methods + variants
    (out / "reproduction.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out / 'reproduction.md'} and reproduction.json")


def merge_comparisons(args) -> int:
    """--comparisons-only: the rows the notes' comparisons lack, trained on the JSON's
    seeds and merged in beside the rows as they were measured; one default row of each
    method they run is trained again first and must equal the stored one seed for
    seed, else nothing is written (the code has moved: regenerate the whole file)."""
    path = args.out / "reproduction.json"
    payload = upgraded(json.loads(path.read_text(encoding="utf-8")))
    seeds = payload["seeds"]
    need = comparison_rows_needed(payload["methods"], payload["variants"])
    start = time.perf_counter()
    added = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        for method in dict.fromkeys(m for m, _ in need):
            again = measure(method, seeds, data_dir, args.threads, {})["per_seed"]["student"]
            stored = payload["methods"][method]["per_seed"]["student"]
            if again["test_acc"] != stored["test_acc"]:
                print(f"{method}'s default row trains to other numbers now: not merged")
                return 1
            print(f"{method}'s default row re-trained: equal seed for seed", flush=True)
        for method, over in need:
            added.append(measure(method, seeds, data_dir, args.threads, over))
            print(f"measured {added[-1]['label']} [{time.perf_counter() - start:.0f} s]",
                  flush=True)
    payload["variants"] += added
    labels = ", ".join(f"`{r['label']}`" for r in added) or "none"
    payload["meta"].setdefault("merged", []).append({
        "date": time.strftime("%Y-%m-%d"), "rows": [r["label"] for r in added],
        "total_s": round(time.perf_counter() - start, 1),
        "note": f"The rows {labels} were measured on {time.strftime('%Y-%m-%d')} by "
                "`bench/reproduce.py --comparisons-only` on the same seeds and merged into "
                f"the file of {payload['meta']['date']}; the default rows of the methods "
                "they run were trained again first and matched the stored ones seed for "
                "seed, so the pairing holds. Every other number is as first measured; "
                "the Holm adjustment was redone over the family with the comparisons."})
    write(payload, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
