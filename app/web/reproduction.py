"""The committed reference results: `docs/reproduction.json`, written by
`bench/reproduce.py` (every method at its defaults over 10 seeds, plus variants).

The paper pages' demo panels show them as table cells; `/methods` shows each
method's default row beside the latest run of this server, so both read the rows
through `reference()`. A file of another shape (older format, half edited) gives
no rows rather than wrong ones."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from app import PROJECT_ROOT
from app.distill.events import Comparison
from app.distill.stats import PairedStats
from app.web.i18n import TABLES
from app.web.results import DASH, mean_sd, paired_view

REPRODUCTION_JSON = PROJECT_ROOT / "docs" / "reproduction.json"


class Arm(BaseModel):
    """One arm of a row; `sd` is null for one seed, but must be there."""

    mean: float
    sd: float | None
    n: int


class _Wall(BaseModel):
    mean: float
    seeds_per_run: int | None = None  # the seeds of one timed run
    teachers_cached: bool | None = None  # timed with its teachers already trained


class Measured(BaseModel):
    """What the reference times were measured on (the file's `meta`)."""

    machine: str = ""
    threads: int | None = None
    torch: str = ""
    date: str = ""


class Row(BaseModel):
    """A row of docs/reproduction.json: a method at its defaults, or a variant of it
    with the parameters in `over` changed."""

    method: str
    label: str
    over: dict[str, Any] = Field(default_factory=dict)
    student: Arm
    baseline: Arm | None = None
    delta: PairedStats | None = None  # validated from its as_dict() form
    wall_s: _Wall | None = None
    note: str = ""


@dataclass(frozen=True)
class Reference:
    seeds: int  # how many seeds every row has
    defaults: dict[str, Row] = field(default_factory=dict)  # by method id
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # cells, default first
    # Every claim at defaults, by claim id, Holm-adjusted across them all.
    claims: dict[str, Comparison] = field(default_factory=dict)
    # How many intervals that Holm family holds (the claims at defaults and the
    # notes' comparisons): what the pages say chance alone gives in it.
    family: int = 0
    measured: Measured = field(default_factory=Measured)


def _parse_rows(raws: Iterable[Any]) -> list[Row]:
    rows = []
    for raw in raws:
        try:
            rows.append(Row.model_validate(raw))
        except ValidationError:
            continue
    return rows


def row_cells(row: Row) -> dict[str, str]:
    """A row as table cells: accuracies in %, Δ in points, one decimal."""
    paired = paired_view(row.delta, digits=1) or {}
    return {
        "label": row.label,
        "over": ", ".join(f"{k}={v}" for k, v in row.over.items()),
        "method": mean_sd(row.student.model_dump()),
        "baseline": mean_sd(row.baseline.model_dump() if row.baseline else None),
        "delta": paired.get("mean_sd", DASH),
        "ci": paired.get("ci", DASH),
        "wtl": paired.get("wtl", DASH),
        "label_zh": paired.get("label_zh", ""),
        "label_en": paired.get("label_en", ""),
        "wall": f"{row.wall_s.mean:.1f} s" if row.wall_s else DASH,
        "wall_cached": bool(row.wall_s and row.wall_s.teachers_cached),
        "wall_seeds": row.wall_s.seeds_per_run if row.wall_s else None,
        "note": row.note,
        # For the pages, in the reader's language: the row's parameters by name, and
        # its note's key in the interface tables (app/web/i18n, `refnote.*`).
        "params": dict(row.over),
        "note_key": note_key(row),
    }


def note_key(row: Row) -> str:
    """The `refnote.*` key of a row's note: one for every sweep point, else the row's
    own (`kd`, `nst_stages_3`, from its label) while its English is the note's very
    words; "" when the benchmark has written another note since (shown as written)."""
    if not row.note:
        return ""
    if row.note.startswith("A point of"):
        return "refnote.sweep_point"
    key = "refnote." + re.sub(r"\W+", "_", row.label).strip("_")
    return key if TABLES["en"].get(key) == row.note else ""


@lru_cache
def reference() -> Reference:
    """Read once per process: the file changes only when the benchmark runs again."""
    try:
        data = json.loads(REPRODUCTION_JSON.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Reference(0)
    if not isinstance(data, dict):
        return Reference(0)
    methods, variants = data.get("methods"), data.get("variants")
    defaults = _parse_rows(methods.values() if isinstance(methods, dict) else [])
    extra = _parse_rows(variants if isinstance(variants, list) else [])
    rows: dict[str, list[dict[str, str]]] = {}
    for row in defaults + extra:
        rows.setdefault(row.method, []).append(row_cells(row))
    seeds = data.get("seeds")
    return Reference(
        seeds=len(seeds) if isinstance(seeds, list) else 0,
        defaults={row.method: row for row in defaults},
        rows=rows,
        claims=_parse_claims(data.get("claims")),
        family=_family_size(data.get("chance")),
        measured=_measured(data.get("meta")),
    )


def _measured(meta: Any) -> Measured:
    try:
        return Measured.model_validate(meta if isinstance(meta, dict) else {})
    except ValidationError:
        return Measured()


def _family_size(chance: Any) -> int:
    count = chance.get("count") if isinstance(chance, dict) else None
    return count if isinstance(count, int) and count >= 0 else 0


def _parse_claims(raws: Any) -> dict[str, Comparison]:
    out = {}
    for raw in raws if isinstance(raws, list) else []:
        try:
            c = Comparison.model_validate(raw)
        except ValidationError:
            continue
        out[c.claim] = c
    return out
