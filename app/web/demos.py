"""Pages of the live demos: the paper page's demo panel, a run's page, the history.
Data comes from the torch-free method registry and the run service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from app import PROJECT_ROOT
from app.catalog.models import Paper
from app.distill.methods import METHODS, Method, methods_for_paper, tfkd_virtual_teacher
from app.web.deps import RunsDep
from app.web.templating import templates

router = APIRouter(include_in_schema=False)

REPRODUCTION_JSON = PROJECT_ROOT / "docs" / "reproduction.json"
STATUS_LABELS = {
    "queued": "排队中",
    "running": "运行中",
    "succeeded": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
    "interrupted": "已中断",
}


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


def _mean_std(stats: dict | None) -> str:
    if not stats:
        return "—"
    return f"{stats['mean'] * 100:.1f} ± {stats['std'] * 100:.1f}"


@lru_cache
def reproduction_rows() -> dict[str, dict]:
    """The committed output of bench/reproduce.py as table cells, by method id.
    Read once per process: it changes only when the benchmark is run again."""
    try:
        data = json.loads(REPRODUCTION_JSON.read_text(encoding="utf-8"))
        methods = data["methods"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    rows = {}
    for method_id, row in methods.items():
        delta = row.get("delta")
        rows[method_id] = {
            "seeds": len(row.get("seeds", [])),
            "method": _mean_std(row.get("student")),
            "baseline": _mean_std(row.get("baseline")),
            "delta": f"{delta * 100:+.1f}" if isinstance(delta, int | float) else "—",
            "wall": f"{row['wall_s']['mean']:.1f} s" if row.get("wall_s") else "—",
            "verdict": row.get("verdict", ""),
        }
    return rows


def demo_panel(paper: Paper) -> dict[str, Any]:
    """What the paper page's demo panel shows: each method with its form and results."""
    methods = methods_for_paper(paper.arxiv_id, paper.title)
    rows = reproduction_rows()
    return {
        "methods": [
            {"method": m, "fields": form_fields(m.id), "reproduction": rows.get(m.id)}
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


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, runs: RunsDep) -> HTMLResponse:
    record = runs.get(run_id)
    if record is None:
        raise HTTPException(404, f"no run {run_id!r}")
    method = METHODS.get(record["method"])
    return templates.TemplateResponse(
        request,
        "run.html",
        {
            "run": record,
            "method": method,
            "status_label": STATUS_LABELS.get(record["status"], record["status"]),
            "run_token_required": bool(request.app.state.settings.run_token),
            "boot": {
                "id": run_id,
                "status": record["status"],
                "method": record["method"],
                "progress": record.get("progress") or {},
                "summary": record.get("summary"),
                "created_at": record.get("created_at"),
                "started_at": record.get("started_at"),
                "virtual_teacher": virtual_teacher(method, record["params"]) if method else None,
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
    return templates.TemplateResponse(
        request,
        "runs.html",
        {
            "runs": records,
            "methods": METHODS,
            "status_labels": STATUS_LABELS,
            "filters": {"method": method, "status": status},
            "compared": compared,
            "compare_ids": [r["id"] for r in compared],
        },
    )
