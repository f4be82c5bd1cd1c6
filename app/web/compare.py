"""Comparing runs: `/runs/compare?ids=a,b,c` overlays their curves, lists only the
parameters that differ, and, for every two runs that share seeds, gives the paired
Δ between them with its 95% CI (the same statistics as method − baseline within a
run). `/api/compare` is its JSON twin; `/api/compare/metrics.csv` and `.json` hold
every metric point of all the runs in one long table."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel

from app.distill.events import Summary
from app.distill.stats import PairedStats, paired_stats
from app.runs import RunManager
from app.runs.contract import RunRecord
from app.runs.metrics import to_csv
from app.web.deps import RunsDep
from app.web.errors import Refusal
from app.web.launch import FieldErrors, Message
from app.web.results import DASH, history_row, number, paired_view
from app.web.templating import templates

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/compare", tags=["runs"])

MAX_RUNS = 20
RUN_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
#: The long format of the download: one row per number.
LONG_COLUMNS = ("run", "method", "model", "seed", "phase", "epoch", "step", "metric", "value")

IdsQuery = Annotated[
    list[str],
    Query(
        min_length=1,
        max_length=MAX_RUNS,
        description="Run ids, repeated (`ids=a&ids=b`) or comma-separated (`ids=a,b`).",
        # Documents one id per value, which bounds a valid request to MAX_RUNS ids;
        # the comma form is accepted as well, and checked by parse_ids.
        json_schema_extra={"items": {"type": "string", "pattern": RUN_ID_PATTERN}},
    ),
]


class ParamRow(BaseModel):
    name: str
    values: list[Any]  # one per run, in the order asked; null where a run lacks it


class Pair(BaseModel):
    """Run `b` against run `a` on the seeds they share: Δ = b − a, per seed."""

    a: str
    b: str
    label: str
    seeds: list[int]
    delta: PairedStats


class ComparedRun(BaseModel):
    id: str
    url: str
    method: str
    status: str
    seeds: list[int]
    final_acc: float | None
    baseline_final_acc: float | None
    # A sweep (params.sweep) is a grid of points, not one student: {"param", "values"}.
    sweep: dict[str, Any] | None = None


class Notice(BaseModel):
    """Why a run is in the table but not in the pairs, in both languages."""

    run: str
    zh: str
    en: str


class RunsCompared(BaseModel):
    runs: list[ComparedRun]
    differing_params: list[ParamRow]
    pairs: list[Pair]
    # The pairwise intervals are not adjusted for their number: the page says so.
    pairs_adjusted: bool = False
    notices: list[Notice] = []


#: What the page says of a sweep among the compared runs (one place, for issue 18).
SWEEP_NOTICE = {
    "zh": "{id} 是对 {param} 的扫描（{n} 个点）：它没有一个可与其他运行按种子配对的学生，"
          "所以不进入配对差值；每个点对各对照的 Δ ± 95% 区间和结论在它自己的页面上。",
    "en": "{id} is a sweep over {param} ({n} points): it has no one student to pair seed "
          "by seed with another run, so it is left out of the paired differences; each "
          "point's Δ ± 95% CI against its comparators, and its verdict, are on its page.",
}


def sweep_of(record: RunRecord) -> dict[str, Any] | None:
    sweep = (record.params or {}).get("sweep")
    return sweep if isinstance(sweep, dict) and "param" in sweep else None


def notices(records: list[RunRecord]) -> list[Notice]:
    out = []
    for record in records:
        sweep = sweep_of(record)
        if sweep is not None:
            fmt = {"id": record.id, "param": sweep["param"],
                   "n": len(sweep.get("values") or [])}
            out.append(Notice(run=record.id, zh=SWEEP_NOTICE["zh"].format(**fmt),
                              en=SWEEP_NOTICE["en"].format(**fmt)))
    return out


def parse_ids(raw: list[str]) -> list[str]:
    """Ids in the order given, once each, from repeated and comma-separated values."""
    ids = [part.strip() for value in raw for part in value.split(",") if part.strip()]
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise Refusal(400, "name the runs to compare: ?ids=a,b", "compare_none")
    if len(ids) > MAX_RUNS:
        raise Refusal(
            400, f"at most {MAX_RUNS} runs can be compared at once", "compare_too_many", n=MAX_RUNS
        )
    return ids


def load_runs(runs: RunManager, ids: list[str]) -> list[RunRecord]:
    records = {i: runs.get(i) for i in ids}
    missing = [i for i, record in records.items() if record is None]
    if missing:
        names = ", ".join(map(repr, missing))
        raise Refusal(404, f"no run {names}", "no_run_html", id=", ".join(missing))
    return [records[i] for i in ids]


def _per_seed_acc(record: RunRecord) -> dict[int, float]:
    """Seed -> the method model's final test accuracy, from the run's summary (none
    for a sweep: its points each have their own student)."""
    if record.summary is None or sweep_of(record) is not None:
        return {}
    seeds, accs = record.summary.seeds, record.summary.accuracies("student")
    if len(seeds) != len(accs):  # a summary from before seeds has neither
        return {}
    return {s: a for s, a in zip(seeds, accs, strict=True) if number(a) is not None}


def differing_params(records: list[RunRecord]) -> list[ParamRow]:
    """The parameters (method included) whose values are not the same in every run."""
    columns = [{"method": r.method, **r.params} for r in records]
    names = list(dict.fromkeys(name for column in columns for name in column))
    rows = []
    for name in names:
        values = [column.get(name) for column in columns]
        if any(v != values[0] for v in values[1:]):
            rows.append(ParamRow(name=name, values=values))
    return rows


def seed_pairs(records: list[RunRecord]) -> list[Pair]:
    """Every two runs with at least one seed in common, later run minus earlier."""
    accs = [_per_seed_acc(r) for r in records]
    pairs = []
    for (i, a), (j, b) in combinations(enumerate(records), 2):
        shared = sorted(set(accs[i]) & set(accs[j]))
        if not shared:
            continue
        delta = paired_stats([accs[j][s] for s in shared], [accs[i][s] for s in shared])
        label = f"{b.id} ({b.method}) − {a.id} ({a.method})"
        pairs.append(Pair(a=a.id, b=b.id, label=label, seeds=shared, delta=delta))
    return pairs


def comparison(runs: RunManager, ids: list[str]) -> RunsCompared:
    records = load_runs(runs, ids)
    compared = []
    for record in records:
        summary = record.summary or Summary()
        compared.append(
            ComparedRun(
                id=record.id,
                url=f"/runs/{record.id}",
                method=record.method,
                status=record.status,
                seeds=sorted(_per_seed_acc(record)),
                final_acc=summary.final_acc,
                baseline_final_acc=summary.baseline_final_acc,
                sweep=sweep_of(record),
            )
        )
    return RunsCompared(
        runs=compared, differing_params=differing_params(records), pairs=seed_pairs(records),
        notices=notices(records),
    )


def long_rows(runs: RunManager, records: list[RunRecord]) -> Iterator[dict[str, Any]]:
    """Every metric point of every run, one row per number (see LONG_COLUMNS)."""
    for record in records:
        for point in runs.metric_rows(record.id):
            yield {
                "run": record.id,
                "method": record.method,
                "model": point["model"],
                "seed": point["seed"],
                "phase": point["phase"],
                "epoch": point["epoch"],
                "step": point["step"],
                "metric": point["name"],
                "value": point["value"],
            }


# -- routes ---------------------------------------------------------------------------


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Message} for code in (400, 404, 503)} | {
    422: {"model": FieldErrors}
}


@api.get(
    "",
    response_model=RunsCompared,
    responses=ERRORS,
    summary="Runs side by side: differing params, paired Δ",
)
def compare_json(runs: RunsDep, ids: IdsQuery) -> RunsCompared:
    return comparison(runs, parse_ids(ids))


class LongMetrics(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]


@api.get(
    "/metrics.json",
    response_model=LongMetrics,
    responses=ERRORS,
    summary="All the runs' metrics, long form",
)
def compare_metrics_json(runs: RunsDep, ids: IdsQuery) -> dict[str, Any]:
    records = load_runs(runs, parse_ids(ids))
    return {"columns": list(LONG_COLUMNS), "rows": list(long_rows(runs, records))}


@api.get(
    "/metrics.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **ERRORS},
    summary="All the runs' metrics as one CSV in long form",
)
def compare_metrics_csv(runs: RunsDep, ids: IdsQuery) -> StreamingResponse:
    records = load_runs(runs, parse_ids(ids))
    name = "runs-" + "-".join(r.id for r in records[:4]) + ("-etc" if len(records) > 4 else "")
    return StreamingResponse(
        to_csv(long_rows(runs, records), LONG_COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-metrics.csv"'},
    )


@pages.get("/runs/compare", response_class=HTMLResponse)
def compare_page(request: Request, runs: RunsDep, ids: IdsQuery) -> HTMLResponse:
    ids = parse_ids(ids)
    result = comparison(runs, ids)
    records = {r.id: runs.get(r.id) for r in result.runs}
    query = "ids=" + ",".join(ids)
    return templates.TemplateResponse(
        request,
        "compare.html",
        {
            "result": result,
            "cells": {i: history_row(record.summary) for i, record in records.items()},
            "pairs": [(p, paired_view(p.delta, digits=2) or {}) for p in result.pairs],
            "ids": ids,
            "query": query,
            "dash": DASH,
        },
    )
