"""How results read on the pages: accuracies in percent, paired differences in
points with their 95% CI, win/tie/loss counts and verdict, a run's summary and a
run's row in the history.

A summary arrives typed (app/distill/events.py; a stored one of any earlier shape
is upgraded when its record is read): what an older trainer did not report is
null, and a value that is not a finite number shows as "—".
"""

from __future__ import annotations

from typing import Any

from app.distill.events import Paired, SplitSizes, Summary, upgrade_summary
from app.distill.stats import PairedStats
from app.distill.sweep import POINT_VERDICTS  # torch-free
from app.web.i18n import translate
from app.web.numbers import DASH, number, pct, points

#: The model names that get a label (`model.<name>` in app/web/i18n's tables); any
#: other (peer, exit1, …) shows as is. plain_teacher: ls_teacher's second teacher.
MODEL_LABELS = ("student", "baseline", "teacher", "plain_teacher")


def mean_sd(arm: Any, digits: int = 1, signed: bool = False) -> str:
    """An arm (or a paired Δ) in percent as "mean ± sd"; "mean" alone when the sd is
    undefined (one seed)."""
    if not isinstance(arm, dict) or number(arm.get("mean")) is None:
        return DASH
    mean = arm["mean"] * 100
    text = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    sd = number(arm.get("sd"))
    return text if sd is None else f"{text} ± {sd * 100:.{digits}f}"


def paired_view(paired: Paired | PairedStats | None, digits: int = 2) -> dict[str, str] | None:
    """The display strings of paired statistics (docs/contracts.md's PAIRED), or
    None without them. The CI is "—" with one seed, where it is undefined."""
    if paired is None:
        return None
    if isinstance(paired, PairedStats):
        paired = Paired.of(paired)
    low, high = number(paired.ci_low), number(paired.ci_high)
    return {
        "mean": points(paired.mean, digits),
        "mean_sd": mean_sd({"mean": paired.mean, "sd": paired.sd}, digits, signed=True),
        "ci": DASH
        if low is None or high is None
        else f"[{points(low, digits)}, {points(high, digits)}]",
        "wtl": f"{paired.wins}/{paired.ties}/{paired.losses}",
        "verdict": paired.verdict,
        "label_zh": paired.label_zh,
        "label_en": paired.label_en,
        "n": str(paired.n or ""),
    }


def seed_rows(summary: Summary) -> list[dict[str, str]]:
    """One row per seed: the final student's and baseline's test accuracy and Δ."""
    student, baseline = summary.accuracies("student"), summary.accuracies("baseline")
    seeds = summary.seeds
    if len(seeds) != len(student):  # as the index, should the two ever disagree
        seeds = list(range(len(student)))
    rows = []
    for i, seed in enumerate(seeds):
        s = number(student[i])
        b = number(baseline[i]) if i < len(baseline) else None
        rows.append(
            {
                "seed": str(seed),
                "student": pct(s),
                "baseline": pct(b),
                "delta": points(None if s is None or b is None else s - b),
            }
        )
    return rows


def _split_text(split: SplitSizes | None) -> str | None:
    if split is None:
        return None
    parts = ((translate(f"result.split_{key}"), getattr(split, key))
             for key in ("train", "val", "test"))
    return " · ".join(f"{label} {n}" for label, n in parts)


def _model_accuracies(summary: Summary, over_seeds: bool) -> list[tuple[str, str]]:
    """Mean test accuracy per model but the teacher's (shown on its own)."""
    models = {k: v for k, v in summary.models.items() if k != "teacher" and v is not None}
    key = "result.model_acc_mean" if over_seeds else "result.model_acc"

    def label(name: str) -> str:
        return translate(f"model.{name}") if name in MODEL_LABELS else name

    return [
        (translate(key, label=label(name), name=name), pct(value))
        for name, value in models.items()
    ]


def summary_view(summary: Summary | dict[str, Any] | None) -> dict[str, Any]:
    """What the run page's result block shows, in order: `facts` (label, value and,
    for paired differences, `paired`) and `seeds` (the per-seed table's rows)."""
    summary = upgrade_summary(summary)
    if summary is None:
        return {"facts": [], "seeds": []}
    facts: list[dict[str, Any]] = []

    def fact(key: str, label: str, value: str = DASH, paired: dict | None = None) -> None:
        facts.append({"key": key, "label": label, "value": value, "paired": paired})

    seeds = summary.seeds
    if seeds:
        listed = ", ".join(map(str, seeds))
        fact("seeds", translate("result.seeds"),
             translate("result.seeds_value", seeds=listed, n=len(seeds)))  # fmt: skip
    if split := _split_text(summary.split):
        fact("split", translate("result.split"), split)
    for label, value in _model_accuracies(summary, over_seeds=bool(seeds)):
        fact("acc", label, value)
    delta = paired_view(summary.delta)
    if delta or number(summary.delta_acc) is not None:
        fact(
            "delta",
            translate("result.delta"),
            translate("result.points", value=points(summary.delta_acc)),
            delta,
        )
    if best := paired_view(summary.delta_best_val):
        fact(
            "delta_best_val",
            translate("result.delta_best_val"),
            translate("result.points", value=best["mean"]),
            best,
        )
    fact("teacher", translate("result.teacher_acc"), pct(summary.teacher_acc))
    wall = number(summary.wall_s)
    seconds = DASH if wall is None else translate("result.seconds", value=f"{wall:.1f}")
    fact("wall", translate("result.wall"), seconds)
    return {"facts": facts, "seeds": seed_rows(summary)} | run_claims(summary)


def run_claims(summary: Summary) -> dict[str, Any]:
    """The run's claims (Holm across them, as the trainer judged them) and what
    chance alone gives for the intervals the result block shows; nothing for a
    summary without claims."""
    # Imported here: claim_views formats with this module's helpers.
    from app.distill.methods import METHODS
    from app.web.claim_views import chance, claim_rows, intervals

    if summary.method not in METHODS or not summary.comparisons:
        return {}  # a run before claims reads as it did
    rows = claim_rows(summary.method, summary.comparisons)
    shown = intervals(rows) + sum(1 for d in (summary.delta, summary.delta_best_val)
                                  if d is not None and d.ci_low is not None)
    return {"claims": [r.model_dump() for r in rows], "chance": chance(shown)}


def _verdict_cell(key: str) -> dict[str, str]:
    en, zh = POINT_VERDICTS.get(key, (DASH, DASH))
    return {"key": key, "label_en": en, "label_zh": zh}


def _pp(value: float | None) -> str:
    return DASH if number(value) is None else f"{value:.3f}"


def _interval(low: float | None, high: float | None) -> str:
    if number(low) is None or number(high) is None:
        return DASH
    return f"[{points(low)}, {points(high)}]"


def sweep_view(summary: Summary | None) -> dict[str, Any] | None:
    """A sweep's tables, one per comparator line: each point's value, Δ and CI (points),
    p, its raw verdict and its Holm-adjusted one; the claims over the points; and which
    arms were trained once. None for a plain run."""
    sweep = summary.sweep if summary is not None else None
    if sweep is None:
        return None
    lines = [{
        "arm": line.arm, "versus": line.versus.model_dump(),
        "rows": [{"value": p.value, "delta": points(p.mean), "ci": _interval(p.ci_low, p.ci_high),
                  "p": _pp(p.p), "p_holm": _pp(p.p_holm), "raw": _verdict_cell(p.verdict_raw),
                  "holm": _verdict_cell(p.verdict_holm)} for p in line.points],
    } for line in sweep.lines]
    return {"param": sweep.param, "lines": lines,
            "claims": [c.model_dump() for c in sweep.claims], "reused": sweep.reused}


def history_row(summary: Summary | dict[str, Any] | None) -> dict[str, str]:
    """A run's cells in the history tables: mean test accuracy of the method and the
    baseline, the mean Δ in points and the verdict (when the run has one)."""
    s = upgrade_summary(summary) or Summary()
    if s.sweep is not None:  # a sweep has no one Δ: say what it swept
        points_text = f"扫描 {s.sweep.param}（{len(s.sweep.points)} 点）"
        return {"acc": DASH, "baseline": DASH, "delta": DASH, "label_zh": points_text,
                "label_en": f"sweep over {s.sweep.param}"}
    paired = paired_view(s.delta)
    return {
        "acc": pct(s.final_acc),
        "baseline": pct(s.baseline_final_acc),
        "delta": paired["mean"] if paired else points(s.delta_acc),
        "label_zh": paired["label_zh"] if paired else "",
        "label_en": paired["label_en"] if paired else "",
    }
