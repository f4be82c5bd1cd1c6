"""Every method's answer in one place: the paired Δ against its baseline from the
latest finished default-parameter run in this server's store (the *live* row),
beside the committed reference row of `docs/reproduction.json`.

One call, `method_table`, feeds `/methods`, its JSON twin `/api/methods` and the
live rows of the paper pages, so the three never disagree."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from app.catalog.catalog import Catalog
from app.distill.methods import METHODS
from app.distill.stats import PairedStats
from app.runs import RunManager
from app.runs.contract import RunRecord
from app.web.bindings import method_url, paper_methods
from app.web.reproduction import Arm, reference
from app.web.results import DASH, number, paired_view, pct

#: The yardstick itself has no Δ against itself.
BASELINE = "baseline"
Sort = Literal["method", "live", "reference"]


class Link(BaseModel):
    url: str
    title: str


class LiveRow(BaseModel):
    """The latest succeeded run of a method at its default parameters."""

    run_id: str
    url: str
    finished_at: float | None
    seeds: list[int]
    student_acc: float | None  # mean test accuracy over seeds, a fraction
    baseline_acc: float | None
    delta: PairedStats | None  # None for a summary written before seeds existed


class ReferenceRow(BaseModel):
    seeds: int
    student: Arm
    baseline: Arm | None
    delta: PairedStats | None


class MethodRow(BaseModel):
    id: str
    title: str
    url: str
    runs_url: str
    papers: list[Link]
    control_en: str
    live: LiveRow | None
    reference: ReferenceRow | None


class MethodTable(BaseModel):
    sort: Sort
    reference_seeds: int
    methods: list[MethodRow]


@lru_cache
def default_params(method_id: str) -> dict[str, Any]:
    """A method's parameters as `RunManager.validate` stores them for an empty form."""
    return METHODS[method_id].params().model_dump(mode="json")


def latest_default_run(runs: RunManager, method_id: str) -> RunRecord | None:
    return runs.latest_default_run(method_id)


def live_row(runs: RunManager | None, method_id: str) -> LiveRow | None:
    record = latest_default_run(runs, method_id) if runs is not None else None
    if record is None:
        return None
    summary = record.summary if isinstance(record.summary, dict) else {}
    try:
        delta = PairedStats(**_paired_fields(summary.get("delta")))
    except (TypeError, ValueError, ValidationError):
        delta = None
    seeds = summary.get("seeds")
    return LiveRow(
        run_id=record.id,
        url=f"/runs/{record.id}",
        finished_at=record.finished_at,
        seeds=[s for s in seeds if isinstance(s, int)] if isinstance(seeds, list) else [],
        student_acc=number(summary.get("final_acc")),
        baseline_acc=number(summary.get("baseline_final_acc")),
        delta=delta,
    )


def _paired_fields(stored: Any) -> dict[str, Any]:
    """The PairedStats fields of a stored `as_dict()` (its labels are derived)."""
    if not isinstance(stored, dict):
        raise TypeError("no paired statistics")
    names = PairedStats.__dataclass_fields__
    fields = {k: v for k, v in stored.items() if k in names}
    fields["deltas"] = tuple(fields.get("deltas") or ())
    return fields


def reference_row(method_id: str) -> ReferenceRow | None:
    ref = reference()
    row = ref.defaults.get(method_id)
    if row is None:
        return None
    return ReferenceRow(
        seeds=ref.seeds, student=row.student, baseline=row.baseline, delta=row.delta
    )


def papers_by_method(catalog: Catalog) -> dict[str, list[Link]]:
    """The catalog's papers of each method, matched as the paper pages match them.
    Computed once per catalog: the catalog is replaced, never changed, on reload."""
    cached = _PAPERS.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    found: dict[str, list[Link]] = {}
    for paper in catalog.papers.values():
        for method in paper_methods(paper):
            found.setdefault(method.id, []).append(
                Link(url=f"/papers/{paper.slug}", title=paper.title)
            )
    _PAPERS.clear()  # one catalog is live at a time
    _PAPERS[id(catalog)] = (catalog, found)
    return found


_PAPERS: dict[int, tuple[Catalog, dict[str, list[Link]]]] = {}


def method_table(runs: RunManager | None, catalog: Catalog, sort: Sort = "method") -> MethodTable:
    papers = papers_by_method(catalog)
    rows = [
        MethodRow(
            id=m.id,
            title=m.title,
            url=method_url(m),
            runs_url=f"/runs?method={m.id}",
            papers=papers.get(m.id, []),
            control_en=m.control_en,
            live=live_row(runs, m.id),
            reference=reference_row(m.id),
        )
        for m in METHODS.values()
        if m.id != BASELINE
    ]
    if sort != "method":
        rows.sort(key=lambda row: _sort_key(row, sort))
    return MethodTable(sort=sort, reference_seeds=reference().seeds, methods=rows)


def _sort_key(row: MethodRow, sort: Sort) -> tuple[bool, float]:
    """Largest Δ first; rows without one last, in registry order (the sort is stable)."""
    source = row.live if sort == "live" else row.reference
    delta = source.delta if source is not None else None
    return (delta is None, -delta.mean if delta is not None else 0.0)


def live_cells(live: LiveRow | None) -> dict[str, str] | None:
    """A live row as the cells of a reproduction table row (see reproduction.row_cells),
    plus the run's link: the paper page shows the two one above the other."""
    if live is None:
        return None
    paired = paired_view(live.delta.as_dict() if live.delta else None, digits=1) or {}
    return {
        "run_id": live.run_id,
        "url": live.url,
        "seeds": str(len(live.seeds)),
        "method": pct(live.student_acc, 1),
        "baseline": pct(live.baseline_acc, 1),
        "delta": paired.get("mean_sd", DASH),
        "ci": paired.get("ci", DASH),
        "wtl": paired.get("wtl", DASH),
        "label_zh": paired.get("label_zh", ""),
        "label_en": paired.get("label_en", ""),
    }


class Param(BaseModel):
    name: str
    title: str
    type: str
    default: Any
    minimum: int | float | None  # ints stay ints: "1 – 30" epochs, not "1.0 – 30.0"
    maximum: int | float | None
    choices: list[Any]
    description: str


class MethodDetail(MethodRow):
    """A method's page: its row of the table, plus what it is and what it takes."""

    summary_zh: str
    summary_en: str
    control_zh: str
    formula: str
    models: list[str]
    paper_refs: list[str]  # the registry's binding: arXiv ids or exact titles
    params: list[Param]


def method_detail(runs: RunManager | None, catalog: Catalog, method_id: str) -> MethodDetail:
    method = METHODS[method_id]
    schema = method.params.model_json_schema()["properties"]
    params = [
        Param(
            name=name,
            title=prop.get("title", name),
            type="choice" if "enum" in prop else prop.get("type", "number"),
            default=prop.get("default"),
            minimum=prop.get("minimum"),
            maximum=prop.get("maximum"),
            choices=list(prop.get("enum", ())),
            description=prop.get("description", ""),
        )
        for name, prop in schema.items()
    ]
    return MethodDetail(
        id=method.id,
        title=method.title,
        url=method_url(method),
        runs_url=f"/runs?method={method.id}",
        papers=papers_by_method(catalog).get(method.id, []),
        control_en=method.control_en,
        live=live_row(runs, method.id),
        reference=reference_row(method.id),
        summary_zh=method.summary_zh,
        summary_en=method.summary_en,
        control_zh=method.control_zh,
        formula=method.formula,
        models=list(method.models),
        paper_refs=list(method.papers),
        params=params,
    )
