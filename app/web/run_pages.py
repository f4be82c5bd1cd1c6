"""Pages of the live demos: the paper page's demo panel, a run's page, the history.
Data comes from the torch-free method registry and the run service."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.catalog.catalog import Catalog
from app.catalog.models import Paper
from app.distill.methods import METHODS, Method, tfkd_virtual_teacher
from app.distill.params import SPLIT_TEXT
from app.distill.stats import VERDICTS, t_quantile
from app.runs import RunManager
from app.runs.charts import chart_table
from app.runs.contract import STATUS_LABELS as CONTRACT_LABELS
from app.web.bindings import paper_methods
from app.web.costs import teacher_costs
from app.web.deps import CatalogDep, RunsDep, SettingsDep
from app.web.errors import Refusal
from app.web.i18n import DEFAULT_LANGUAGE, TABLES, param_help_key, translate
from app.web.method_rows import live_cells, live_row
from app.web.reproduction import reference
from app.web.results import history_row, summary_view, sweep_view
from app.web.templating import root, templates

router = APIRouter(include_in_schema=False)

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
    #: The label's and the help's keys in the interface tables (app/web/i18n).
    label_key: str = ""
    help_key: str = ""

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
                label_key=f"params.{name}.label",
                help_key=param_help_key(method_id, name),
            )
        )
    return tuple(fields)


#: The split of every seed, as SPLIT_TEXT says it in English (a test keeps the numbers
#: of the two in step).
SPLIT_TEXT_ZH = (
    "每个种子按类分层：359 个测试（20%，只在最后报告，从不用于选择）、"
    "269 个验证（15%，曲线与最佳轮次）、1,169 个训练池。"
)


def demo_panel(paper: Paper, runs: RunManager | None = None,
               data_dir: Path | None = None) -> dict[str, Any]:
    """What the paper page's demo panel shows: the split, and each method with its
    form, its latest default run on this server, its reference rows (and what their
    times were measured on) and what a first run costs here (its teachers)."""
    methods = paper_methods(paper)
    repro = reference()
    return {
        "split_zh": SPLIT_TEXT_ZH,
        "split_en": SPLIT_TEXT,
        "repro_seeds": repro.seeds,
        "measured": repro.measured,
        "methods": [
            {
                "method": m,
                "fields": form_fields(m.id),
                "reproduction": repro.rows.get(m.id, []),
                "live": live_cells(live_row(runs, m.id)),
                "costs": None if data_dir is None else teacher_costs(m, data_dir),
            }
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
    paper pages find their demos (paper_methods), so both directions agree."""
    if method is None:
        return []
    return [
        {"url": f"/papers/{paper.slug}", "title": paper.title}
        for paper in catalog.papers.values()
        if any(m.id == method.id for m in paper_methods(paper))
    ]


#: The pin button's words (`pin.<key>` in the interface tables).
PIN_TEXT = ("pin", "unpin", "reader", "methods", "hint")


def charts_in_language() -> list[dict[str, Any]]:
    """app/runs/charts.py's table with its titles in the page's language
    (`chart.<id>.y_title`, `.label`, `.title`); a chart the tables do not know keeps
    its own."""
    charts = []
    for chart in chart_table():
        for field in ("y_title", "label", "title"):
            key = f"chart.{chart['id']}.{field}"
            if key in TABLES[DEFAULT_LANGUAGE]:
                chart[field] = translate(key)
        charts.append(chart)
    return charts


def status_labels() -> dict[str, str]:
    """Each status as the page's language says it (`status.<value>`)."""
    return {value: translate(f"status.{value}") for value in STATUS_LABELS}


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, run_id: str, runs: RunsDep, catalog: CatalogDep, settings: SettingsDep
) -> HTMLResponse:
    record = runs.get(run_id)
    if record is None:
        raise Refusal(404, f"no run {run_id!r}", "no_run_html", id=run_id)
    method = METHODS.get(record.method)
    return templates.TemplateResponse(
        request,
        "run.html",
        {
            "run": record,
            "method": method,
            "result": summary_view(record.summary),
            "sweep": sweep_view(record.summary),
            "status_label": translate(f"status.{record.status.value}"),
            "run_token_required": bool(settings.run_token),
            "pin_text": {key: translate(f"pin.{key}") for key in PIN_TEXT},
            "papers": method_papers(catalog, method),
            "boot": {
                "id": run_id,
                "status": record.status.value,
                "status_labels": status_labels(),
                "method": record.method,
                "progress": record.progress,
                "summary": record.summary.model_dump(mode="json") if record.summary else None,
                "created_at": record.created_at,
                "started_at": record.started_at,
                "virtual_teacher": virtual_teacher(method, record.params) if method else None,
                "t975": t975_table(),
                "charts": charts_in_language(),
                # Each verdict in the page's language (the tables' `verdict.<key>`).
                "verdicts": {key: translate(f"verdict.{key}") for key in VERDICTS},
                "sweep": record.params.get("sweep"),
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
) -> Response:
    if compare:  # the overlay that lived here moved to its own page; old links follow
        query = urlencode({"ids": ",".join(compare)})
        return RedirectResponse(f"{root(request)}/runs/compare?{query}", 303)
    method = method or None
    status = status if status in STATUS_LABELS else None
    if method is not None and method not in METHODS:
        raise HTTPException(400, f"unknown method {method!r}")
    records = runs.list_runs(methods={method} if method else None, status=status, limit=200)
    return templates.TemplateResponse(
        request,
        "runs.html",
        {
            "runs": records,
            "methods": METHODS,
            "status_labels": status_labels(),
            "filters": {"method": method, "status": status},
            "cells": {r.id: history_row(r.summary) for r in records},
        },
    )
