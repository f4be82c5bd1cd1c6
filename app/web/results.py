"""How results read on the pages: accuracies in percent, paired differences in
points with their 95% CI, win/tie/loss counts and verdict, a run's summary and a
run's row in the history.

Everything here accepts what a stored run may hold: a summary written by an older
trainer (plain numbers, no per-seed data), missing keys, nulls where the worker
turned NaN into null. A value that is not a finite number shows as "—".
"""

from __future__ import annotations

import math
from typing import Any

from app.distill.sweep import POINT_VERDICTS  # torch-free

DASH = "—"
#: The model names that get a Chinese label; any other (peer, exit1, …) shows as is.
MODEL_LABELS = {
    "student": "方法",
    "baseline": "基线",
    "teacher": "教师",
    "plain_teacher": "普通教师",  # ls_teacher's second teacher, trained without smoothing
}


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (None, NaN, a string, a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def pct(value: Any, digits: int = 2) -> str:
    """A fraction as a percentage: 0.9412 -> "94.12%"."""
    x = number(value)
    return DASH if x is None else f"{x * 100:.{digits}f}%"


def points(value: Any, digits: int = 2) -> str:
    """A difference of fractions in signed percentage points: 0.026 -> "+2.60"."""
    x = number(value)
    return DASH if x is None else f"{x * 100:+.{digits}f}"


def mean_sd(arm: Any, digits: int = 1, signed: bool = False) -> str:
    """An arm (or a paired Δ) in percent as "mean ± sd"; "mean" alone when the sd is
    undefined (one seed)."""
    if not isinstance(arm, dict) or number(arm.get("mean")) is None:
        return DASH
    mean = arm["mean"] * 100
    text = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    sd = number(arm.get("sd"))
    return text if sd is None else f"{text} ± {sd * 100:.{digits}f}"


def paired_view(paired: Any, digits: int = 2) -> dict[str, str] | None:
    """The display strings of a PAIRED dict (docs/contracts.md), or None if it is not
    one. The CI is "—" with one seed, where it is undefined."""
    if not isinstance(paired, dict) or number(paired.get("mean")) is None:
        return None
    low, high = number(paired.get("ci_low")), number(paired.get("ci_high"))
    counts = [paired.get(k) for k in ("wins", "ties", "losses")]
    return {
        "mean": points(paired["mean"], digits),
        "mean_sd": mean_sd(paired, digits, signed=True),
        "ci": DASH
        if low is None or high is None
        else f"[{points(low, digits)}, {points(high, digits)}]",
        "wtl": "/".join(str(c) if isinstance(c, int) else "?" for c in counts),
        "verdict": str(paired.get("verdict") or ""),
        "label_zh": str(paired.get("label_zh") or ""),
        "label_en": str(paired.get("label_en") or ""),
        "n": str(paired.get("n") or ""),
    }


def _list(value: Any) -> list:
    """A per-seed list as stored; a plain number (older runs) is a one-seed list."""
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def seed_rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    """One row per seed: the final student's and baseline's test accuracy and Δ."""
    per_seed = summary.get("per_seed")
    if not isinstance(per_seed, dict):
        return []

    def accs(model: str) -> list:
        entry = per_seed.get(model)
        return _list(entry.get("test_acc")) if isinstance(entry, dict) else []

    student, baseline = accs("student"), accs("baseline")
    seeds = summary.get("seeds")
    if not isinstance(seeds, list) or len(seeds) != len(student):
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


def _split_text(split: Any) -> str | None:
    if not isinstance(split, dict):
        return None
    parts = [
        (label, split.get(key))
        for key, label in (("train", "训练"), ("val", "验证"), ("test", "测试"))
    ]
    return " · ".join(f"{label} {n}" for label, n in parts if isinstance(n, int)) or None


def _model_accuracies(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Mean test accuracy per model; for summaries without `models`, the two
    top-level means."""
    models = summary.get("models")
    if not isinstance(models, dict):
        models = {
            "student": summary.get("final_acc"),
            "baseline": summary.get("baseline_final_acc"),
        }
    models = {k: v for k, v in models.items() if k != "teacher" and v is not None}
    return [
        (f"{MODEL_LABELS.get(name, name)}（{name}）测试准确率", pct(value))
        for name, value in models.items()
    ]


def summary_view(summary: Any) -> dict[str, Any]:
    """What the run page's result block shows, in order: `facts` (label, value and,
    for paired differences, `paired`) and `seeds` (the per-seed table's rows)."""
    if not isinstance(summary, dict):
        return {"facts": [], "seeds": []}
    facts: list[dict[str, Any]] = []

    def fact(key: str, label: str, value: str = DASH, paired: dict | None = None) -> None:
        facts.append({"key": key, "label": label, "value": value, "paired": paired})

    seeds = summary.get("seeds")
    seeds = seeds if isinstance(seeds, list) else []
    if seeds:
        fact("seeds", "种子", f"{', '.join(map(str, seeds))}（{len(seeds)} 个）")
    if split := _split_text(summary.get("split")):
        fact("split", "每个种子的数据", split)
    for label, value in _model_accuracies(summary):
        fact("acc", label + ("（各种子均值）" if seeds else ""), value)
    delta = paired_view(summary.get("delta"))
    if delta or number(summary.get("delta_acc")) is not None:
        fact(
            "delta",
            "差值 Δ（最终模型的测试准确率）",
            f"{points(summary.get('delta_acc'))} 个百分点",
            delta,
        )
    if best := paired_view(summary.get("delta_best_val")):
        fact(
            "delta_best_val",
            "差值 Δ（每个种子取验证集最佳轮次时的测试准确率）",
            f"{best['mean']} 个百分点",
            best,
        )
    fact("teacher", "教师测试准确率", pct(summary.get("teacher_acc")))
    wall = number(summary.get("wall_s"))
    fact("wall", "用时", DASH if wall is None else f"{wall:.1f} 秒")
    return {"facts": facts, "seeds": seed_rows(summary)}


def _verdict_cell(key: Any) -> dict[str, str]:
    en, zh = POINT_VERDICTS.get(key, (DASH, DASH)) if isinstance(key, str) else (DASH, DASH)
    return {"key": key or "", "label_en": en, "label_zh": zh}


def _pp(value: Any) -> str:
    return DASH if number(value) is None else f"{value:.3f}"


def sweep_view(summary: Any) -> dict[str, Any] | None:
    """A sweep's tables, one per comparator line: each point's value, Δ and CI (points),
    p, its raw verdict and its Holm-adjusted one; the claims over the points; and which
    arms were trained once. None for a plain run."""
    sweep = summary.get("sweep") if isinstance(summary, dict) else None
    if not isinstance(sweep, dict) or not isinstance(sweep.get("lines"), list):
        return None
    lines = []
    for line in sweep["lines"]:
        if not isinstance(line, dict) or not isinstance(line.get("points"), list):
            continue
        rows = [{
            "value": p.get("value"),
            "delta": points(p.get("mean")),
            "ci": DASH if number(p.get("ci_low")) is None or number(p.get("ci_high")) is None
            else f"[{points(p['ci_low'])}, {points(p['ci_high'])}]",
            "p": _pp(p.get("p")), "p_holm": _pp(p.get("p_holm")),
            "raw": _verdict_cell(p.get("verdict_raw")),
            "holm": _verdict_cell(p.get("verdict_holm")),
        } for p in line["points"] if isinstance(p, dict)]
        versus = line.get("versus") if isinstance(line.get("versus"), dict) else {}
        lines.append({"arm": line.get("arm"), "versus": versus, "rows": rows})
    claim_lines = [c for c in _list(sweep.get("claims")) if isinstance(c, dict)]
    return {"param": sweep.get("param"), "lines": lines, "claims": claim_lines,
            "reused": [str(arm) for arm in _list(sweep.get("reused"))]}


def history_row(summary: Any) -> dict[str, str]:
    """A run's cells in the history tables: mean test accuracy of the method and the
    baseline, the mean Δ in points and the verdict (when the run has one)."""
    s = summary if isinstance(summary, dict) else {}
    paired = paired_view(s.get("delta"))
    if isinstance(s.get("sweep"), dict):  # a sweep has no one Δ: say what it swept
        sweep = s["sweep"]
        points_text = f"扫描 {sweep.get('param')}（{len(_list(sweep.get('points')))} 点）"
        return {"acc": DASH, "baseline": DASH, "delta": DASH, "label_zh": points_text,
                "label_en": f"sweep over {sweep.get('param')}"}
    return {
        "acc": pct(s.get("final_acc")),
        "baseline": pct(s.get("baseline_final_acc")),
        "delta": paired["mean"] if paired else points(s.get("delta_acc")),
        "label_zh": paired["label_zh"] if paired else "",
        "label_en": paired["label_en"] if paired else "",
    }
