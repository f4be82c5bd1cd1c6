"""What a run of a method at its defaults will cost here, before anyone starts one:
which of its teachers this server has cached, and what training the missing ones took
when it last did (app/distill/teacher_cache.py, beside the cache). No record, no
number: the page says the time is unknown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.distill.spec import Method
from app.distill.teacher_cache import cached_seeds, recorded_cost, teacher_cost_key


def teacher_costs(method: Method, data_dir: Path) -> dict[str, Any] | None:
    """None for a method without a pretrained teacher; else, for its default seeds,
    each teacher's architecture and epochs, how many seeds are cached, and the
    recorded seconds to train the missing ones (None: never trained here)."""
    params = method.params()
    settings = method.teachers(params)
    if not settings:
        return None
    seeds = params.seed_list()
    teachers, first_s, unknown = [], 0.0, False
    for teacher in settings:
        cached = len(cached_seeds(data_dir, teacher, seeds))
        missing = len(seeds) - cached
        record = recorded_cost(data_dir, teacher_cost_key(teacher))
        seconds = None if record is None else record["per_unit_s"] * missing
        if missing and seconds is None:
            unknown = True
        first_s += seconds or 0.0
        teachers.append({
            "arch": teacher.arch, "epochs": teacher.epochs,
            "smoothed": bool(teacher.label_smoothing), "cached": cached, "missing": missing,
            "seconds": None if seconds is None else round(seconds, 1),
            "device": record["device"] if record else None,
            "threads": record["threads"] if record else None,
        })
    missing = sum(t["missing"] for t in teachers)
    return {"seeds": len(seeds), "teachers": teachers, "missing": missing,
            "first_s": None if unknown else round(first_s, 1)}
