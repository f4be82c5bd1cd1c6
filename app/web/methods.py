"""`/methods`: every method's Δ against its baseline in one table and one forest
plot, its JSON twin `/api/methods`, and "re-run all", which queues one default run
per method through the same admission as any other launch."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.convertors import StringConvertor, register_url_convertor

from app.distill.methods import METHODS
from app.runs import RunError, RunManager
from app.web.costs import teacher_costs
from app.web.deps import CatalogDep, MaybeRunsDep, RunsDep, SettingsDep
from app.web.errors import Refusal
from app.web.launch import (
    ClientDep,
    FieldErrors,
    Message,
    check_token,
    read_fields,
    wants_page,
)
from app.web.method_rows import (
    BASELINE,
    MethodDetail,
    MethodRow,
    MethodTable,
    Sort,
    live_cells,
    method_detail,
    method_table,
)
from app.web.reproduction import reference
from app.web.results import paired_view
from app.web.run_errors import retry_after, status_of
from app.web.run_pages import form_fields
from app.web.templating import root, templates


class _MethodIdConvertor(StringConvertor):
    """A method id in a path: anything but "rerun", so that /api/methods/rerun belongs
    to re-run all alone (and its Allow header says POST only)."""

    regex = "(?!rerun$)[^/]+"


register_url_convertor("method_id", _MethodIdConvertor())

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/methods", tags=["methods"])
ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?$")  # a registry paper that links to arXiv

SortDep = Annotated[
    Sort, Query(description="method: registry order; live/reference: Δ, largest first")
]


@api.get("", response_model=MethodTable, summary="Every method: live and reference Δ with 95% CI")
def list_methods(runs: MaybeRunsDep, catalog: CatalogDep, sort: SortDep = "method") -> MethodTable:
    return method_table(runs, catalog, sort)


@pages.get("/methods", response_class=HTMLResponse)
def methods_page(
    request: Request,
    runs: MaybeRunsDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    sort: SortDep = "method",
    fragment: Annotated[bool, Query(description="Only the table, for live refresh.")] = False,
) -> HTMLResponse:
    table = method_table(runs, catalog, sort)
    context = {
        "table": table,
        "cells": {row.id: _cells(row) for row in table.methods},
        "forest": _forest(table),
        "run_token_required": bool(settings.run_token),
    }
    name = "_methods_table.html" if fragment else "methods.html"
    return templates.TemplateResponse(request, name, context)


def _cells(row: MethodRow) -> dict[str, Any]:
    """A row's live and reference Δ as display strings (results.paired_view)."""
    def view(delta) -> dict[str, str]:
        return paired_view(delta, digits=1) or {}

    live, ref = row.live, row.reference
    return {
        "live": view(live.delta if live else None),
        "live_n": len(live.seeds) if live else 0,
        "ref": view(ref.delta if ref else None),
    }


def _forest(table: MethodTable) -> dict[str, Any]:
    """Δ and CI bounds in points per method and source, for the Plotly error bars."""

    def points(row, source: str) -> dict[str, Any] | None:
        found = getattr(row, source)
        delta = found.delta if found is not None else None
        if delta is None or delta.ci_low is None or delta.ci_high is None:
            return None
        return {
            "mean": delta.mean * 100,
            "low": delta.ci_low * 100,
            "high": delta.ci_high * 100,
            "n": delta.n,
            "verdict": delta.verdict,
        }

    return {
        "rows": [
            {"id": row.id, "live": points(row, "live"), "reference": points(row, "reference")}
            for row in table.methods
        ],
        "reference_seeds": table.reference_seeds,
    }


# -- one method ------------------------------------------------------------------------


def _method_id(method_id: str) -> str:
    if method_id not in METHODS:
        known = ", ".join(METHODS)
        detail = f"no method {method_id!r}; known: {known}"
        raise Refusal(404, detail, "no_method_html", id=method_id)
    return method_id


@api.get(
    "/{method_id:method_id}",
    response_model=MethodDetail,
    responses={404: {"model": Message}},
    summary="One method: formula, parameters, control, papers, live and reference rows",
)
def get_method(runs: MaybeRunsDep, catalog: CatalogDep, method_id: str) -> MethodDetail:
    return method_detail(runs, catalog, _method_id(method_id))


@pages.get("/methods/{method_id:method_id}", response_class=HTMLResponse)
def method_page(
    request: Request, runs: MaybeRunsDep, catalog: CatalogDep, settings: SettingsDep,
    method_id: str,
) -> HTMLResponse:
    detail = method_detail(runs, catalog, _method_id(method_id))
    method = METHODS[method_id]
    ref = reference()
    context = {
        "detail": detail,
        "m": method,
        "entry": {"fields": form_fields(method_id)},
        "live": live_cells(detail.live),
        "reproduction": ref.rows.get(method_id, []),
        "repro_seeds": ref.seeds,
        "costs": teacher_costs(method, settings.data_dir),
        "arxiv": [p for p in detail.paper_refs if ARXIV_ID.match(p)],
        "run_token_required": bool(settings.run_token),
    }
    return templates.TemplateResponse(request, "method.html", context)


# -- re-run all ------------------------------------------------------------------------


class Queued(BaseModel):
    method: str
    id: str
    url: str
    status: str
    position: int | None


class Refused(BaseModel):
    method: str
    status_code: int = Field(description="What a single launch would have answered.")
    detail: str
    retry_after: int | None = None


class RerunOut(BaseModel):
    detail: str
    queued: list[Queued]
    refused: list[Refused]


class RerunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    methods: list[Annotated[str, Field(json_schema_extra={"enum": [*METHODS]})]] | None = Field(
        None,
        min_length=1,
        max_length=len(METHODS),
        description="Method ids; omitted: every method but the baseline.",
    )
    token: str | None = Field(None, description="The run token, when the server sets one.")

    @field_validator("methods")
    @classmethod
    def _known(cls, methods: list[str] | None) -> list[str] | None:
        unknown = [m for m in methods or () if m not in METHODS]
        if unknown:
            raise ValueError(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
        return methods


def rerun_targets(requested: list[str] | None) -> list[str]:
    """The methods to queue: every one but the baseline in registry order, or those
    named, once each; an unknown id is refused by submit like any launch."""
    if requested is None:
        return [m for m in METHODS if m != BASELINE]
    return list(dict.fromkeys(requested))


def queue_all(runs: RunManager, methods: list[str], client: str) -> RerunOut:
    """One default run per method, each admitted or refused as a single launch is."""
    queued, refused = [], []
    for method in methods:
        try:
            record = runs.submit(method, {}, client)
        except RunError as exc:
            refused.append(
                Refused(
                    method=method,
                    status_code=status_of(exc),
                    detail=exc.message,
                    retry_after=retry_after(exc),
                )
            )
            continue
        queued.append(
            Queued(
                method=method,
                id=record.id,
                url=f"/runs/{record.id}",
                status=record.status,
                position=record.position,
            )
        )
    detail = f"queued {len(queued)} of {len(methods)}"
    if refused:
        detail += f"; refused {len(refused)}: {refused[0].detail}"
    return RerunOut(detail=detail, queued=queued, refused=refused)


@api.post(
    "/rerun",
    status_code=202,
    response_model=RerunOut,
    summary="Queue one default run per method (all, or those named)",
    # 429: nothing could be queued (the body lists why, per method); the rest as
    # for a single launch.
    responses={
        **{code: {"model": Message} for code in (400, 401, 403, 413, 415, 503)},
        422: {"model": FieldErrors},
        429: {"model": RerunOut},
    },
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": RerunRequest.model_json_schema()}},
        }
    },
)
async def rerun_all(
    request: Request, runs: RunsDep, settings: SettingsDep, client: ClientDep
) -> Response:
    fields, is_form = await read_fields(request)
    check_token(settings, request, fields)
    if is_form:  # the page's plain form sends its token only
        fields.pop("params", None)
    try:
        body = RerunRequest.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    methods = rerun_targets(body.methods)
    out = await run_in_threadpool(queue_all, runs, methods, client)
    if wants_page(request, is_form):
        return RedirectResponse(root(request) + "/methods", status_code=303)
    if out.queued or not out.refused:
        return JSONResponse(out.model_dump(), status_code=202)
    first = out.refused[0]
    headers = {"Retry-After": str(first.retry_after)} if first.retry_after else None
    return JSONResponse(out.model_dump(), status_code=first.status_code, headers=headers)
