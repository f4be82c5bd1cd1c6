"""Pages of the live demos: the paper page's demo panel, a run's page, the history.
Data comes from the torch-free method registry and the run service."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError

from app import PROJECT_ROOT
from app.catalog.catalog import Catalog
from app.catalog.models import Paper
from app.distill.methods import METHODS, Method, methods_for_paper, tfkd_virtual_teacher
from app.distill.params import SPLIT_TEXT
from app.distill.stats import VERDICTS, PairedStats, t_quantile
from app.runs.contract import STATUS_LABELS as CONTRACT_LABELS
from app.web.deps import CatalogDep, RunsDep
from app.web.results import DASH, history_row, mean_sd, paired_view, summary_view
from app.web.templating import templates

router = APIRouter(include_in_schema=False)

REPRODUCTION_JSON = PROJECT_ROOT / "docs" / "reproduction.json"
#: The run contract's labels (app/runs/contract.py), for the templates and run.js.
STATUS_LABELS = {status.value: label for status, label in CONTRACT_LABELS.items()}


@dataclass(frozen=True)
class FormField:
    """One input of a method's parameter form, read off its JSON schema."""

    name: str
    label: str
    kind: str  # "integer", "number", "boolean" or "choice"
    default: Any
    minimum: float | None
    maximum: float | None
    help: str
    choices: tuple[Any, ...] = ()

    @property
    def step(self) -> str:
        return "1" if self.kind == "integer" else "any"


@lru_cache
def form_fields(method_id: str) -> tuple[FormField, ...]:
    schema = METHODS[method_id].params.model_json_schema()
    fields = []
    for name, prop in schema["properties"].items():
        kind = "choice" if "enum" in prop else prop.get("type", "number")
        fields.append(
            FormField(
                name=name,
                label=prop.get("title", name),
                kind=kind,
                default=prop.get("default"),
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
                help=prop.get("description", ""),
                choices=tuple(prop.get("enum", ())),
            )
        )
    return tuple(fields)


#: The split of every seed, as SPLIT_TEXT says it in English (a test keeps the numbers
#: of the two in step).
SPLIT_TEXT_ZH = (
    "每个种子按类分层：359 个测试（20%，只在最后报告，从不用于选择）、"
    "269 个验证（15%，曲线与最佳轮次）、1,169 个训练池。"
)


class _Arm(BaseModel):
    """One arm of a reproduction row; `sd` is null for one seed, but must be there."""

    mean: float
    sd: float | None
    n: int


class _Wall(BaseModel):
    mean: float


class _Row(BaseModel):
    """A row of docs/reproduction.json (bench/reproduce.py): a method at its defaults,
    or a variant of it with the parameters in `over` changed."""

    method: str
    label: str
    over: dict[str, Any] = Field(default_factory=dict)
    student: _Arm
    baseline: _Arm | None = None
    delta: PairedStats | None = None  # validated from its as_dict() form
    wall_s: _Wall | None = None
    note: str = ""


def _parse_rows(raws: Iterable[Any]) -> list[_Row]:
    """The rows that have the expected shape; any other (a file written in an older
    format, a half-edited one) is left out rather than shown wrong."""
    rows = []
    for raw in raws:
        try:
            rows.append(_Row.model_validate(raw))
        except ValidationError:
            continue
    return rows


def _row_cells(row: _Row) -> dict[str, str]:
    """A row as table cells: accuracies in %, Δ in points, one decimal."""
    paired = paired_view(row.delta.as_dict() if row.delta else None, digits=1) or {}
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
        "note": row.note,
    }


@lru_cache
def reproduction() -> dict[str, Any]:
    """The committed output of bench/reproduce.py as table cells: `seeds` (how many)
    and `rows` by method id, its default row first, then its variants. Read once per
    process: it changes only when the benchmark is run again."""
    try:
        data = json.loads(REPRODUCTION_JSON.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"seeds": 0, "rows": {}}
    if not isinstance(data, dict):
        return {"seeds": 0, "rows": {}}
    methods, variants = data.get("methods"), data.get("variants")
    defaults = _parse_rows(methods.values() if isinstance(methods, dict) else [])
    extra = _parse_rows(variants if isinstance(variants, list) else [])
    rows: dict[str, list[dict[str, str]]] = {}
    for row in defaults + extra:
        rows.setdefault(row.method, []).append(_row_cells(row))
    seeds = data.get("seeds")
    return {"seeds": len(seeds) if isinstance(seeds, list) else 0, "rows": rows}


def demo_panel(paper: Paper) -> dict[str, Any]:
    """What the paper page's demo panel shows: the split, and each method with its
    form and reproduction rows."""
    methods = methods_for_paper(paper.arxiv_id, paper.title)
    repro = reproduction()
    return {
        "split_zh": SPLIT_TEXT_ZH,
        "split_en": SPLIT_TEXT,
        "repro_seeds": repro["seeds"],
        "methods": [
            {"method": m, "fields": form_fields(m.id), "reproduction": repro["rows"].get(m.id, [])}
            for m in methods
        ],
    }


def virtual_teacher(method: Method, params: dict[str, Any]) -> list[float] | None:
    """Tf-KD reg's hand-made teacher for the run's own T and correct_prob."""
    if method.id != "tfkd_reg":
        return None
    defaults = method.params()
    return tfkd_virtual_teacher(
        10,
        float(params.get("temperature", defaults.temperature)),
        float(params.get("correct_prob", defaults.correct_prob)),
    )


#: Most seeds a run may have (the `seeds` parameter's bound), so most degrees of freedom.
MAX_DF = 7


@lru_cache
def t975_table() -> list[float]:
    """t_{0.975, df} for df = 1..MAX_DF (index df - 1): the run page computes its live
    95% intervals with these, so page and server share one t quantile."""
    return [t_quantile(0.975, df) for df in range(1, MAX_DF + 1)]


def method_papers(catalog: Catalog, method: Method | None) -> list[dict[str, str]]:
    """The catalog's papers that a method demos, as {url, title}, matched the way the
    paper pages find their demos (methods_for_paper), so both directions agree."""
    if method is None:
        return []
    return [
        {"url": f"/papers/{paper.slug}", "title": paper.title}
        for paper in catalog.papers.values()
        if any(m.id == method.id for m in methods_for_paper(paper.arxiv_id, paper.title))
    ]


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, runs: RunsDep, catalog: CatalogDep) -> HTMLResponse:
    record = runs.get(run_id)
    if record is None:
        raise HTTPException(404, f"no run {run_id!r}")
    method = METHODS.get(record.method)
    return templates.TemplateResponse(
        request,
        "run.html",
        {
            "run": record,
            "method": method,
            "result": summary_view(record.summary),
            "status_label": record.status.label_zh,
            "run_token_required": bool(request.app.state.settings.run_token),
            "papers": method_papers(catalog, method),
            "boot": {
                "id": run_id,
                "status": record.status.value,
                "status_labels": STATUS_LABELS,
                "method": record.method,
                "progress": record.progress,
                "summary": record.summary,
                "created_at": record.created_at,
                "started_at": record.started_at,
                "virtual_teacher": virtual_teacher(method, record.params) if method else None,
                "t975": t975_table(),
                "verdicts": {key: list(labels) for key, labels in VERDICTS.items()},  # [en, zh]
            },
        },
    )


@router.get("/runs", response_class=HTMLResponse)
def runs_page(
    request: Request,
    runs: RunsDep,
    method: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    compare: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    method = method or None
    status = status if status in STATUS_LABELS else None
    if method is not None and method not in METHODS:
        raise HTTPException(400, f"unknown method {method!r}")
    records = runs.list_runs(methods={method} if method else None, status=status, limit=200)
    compared = [r for r in (runs.get(i) for i in (compare or [])) if r is not None]
    cells = {r.id: history_row(r.summary) for r in [*records, *compared]}
    return templates.TemplateResponse(
        request,
        "runs.html",
        {
            "runs": records,
            "methods": METHODS,
            "status_labels": STATUS_LABELS,
            "filters": {"method": method, "status": status},
            "compared": compared,
            "cells": cells,
            "compare_ids": [r.id for r in compared],
        },
    )
