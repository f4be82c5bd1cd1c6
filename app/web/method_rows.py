"""Every method's answer in one place: the paired Δ against its baseline from the
latest finished default-parameter run in this server's store (the *live* row),
beside the committed reference row of `docs/reproduction.json`.

One call, `method_table`, feeds `/methods`, its JSON twin `/api/methods` and the
live rows of the paper pages, so the three never disagree."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel

from app.catalog.catalog import Catalog
from app.distill.events import Comparison, Summary
from app.distill.methods import METHODS
from app.distill.stats import PairedStats
from app.runs import RunManager
from app.runs.contract import RunRecord
from app.web.bindings import method_url, paper_methods
from app.web.claim_views import ClaimRow, claim_rows, page_chance, readjust
from app.web.reproduction import Arm, reference
from app.web.results import DASH, paired_view, pct

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
    comparisons: list[Comparison] = []  # the run's claims, judged


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
    claims: list[ClaimRow] = []  # its papers' claims: live (Holm across the page) and reference
    # The direction its papers claim against the run's own control, where one does:
    # "worse" for ls_teacher, whose Δ < 0 supports its paper.
    control_claim: str | None = None


class MethodTable(BaseModel):
    sort: Sort
    reference_seeds: int
    methods: list[MethodRow]
    chance: dict[str, Any] = {}  # what chance alone gives for the page's intervals


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
    summary = record.summary or Summary()
    return LiveRow(
        run_id=record.id,
        url=f"/runs/{record.id}",
        finished_at=record.finished_at,
        seeds=summary.seeds,
        student_acc=summary.final_acc,
        baseline_acc=summary.baseline_final_acc,
        delta=summary.delta.stats() if summary.delta else None,
        comparisons=summary.comparisons,
    )


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
    page_claims(rows)
    if sort != "method":
        rows.sort(key=lambda row: _sort_key(row, sort))
    return MethodTable(sort=sort, reference_seeds=reference().seeds, methods=rows,
                       chance=page_chance(page_families(rows)))


def page_claims(rows: list[MethodRow]) -> None:
    """Each row's claims, the live ones Holm-adjusted across every row given."""
    ref = reference().claims
    for row in rows:
        row.claims = claim_rows(row.id, row.live.comparisons if row.live else (), ref)
        row.control_claim = next((c.direction for c in METHODS[row.id].claims
                                  if c.versus.method is None), None)
    readjust([c for row in rows for c in row.claims])


def page_families(rows: list[MethodRow]) -> dict[str, tuple[int, int]]:
    """The 95% intervals the rows show, by Holm family: (shown, family size) for the
    live claims (one family across the page), the reference claims (the
    reproduction's family) and each Δ against the run's own control (unadjusted)."""
    deltas = sum(1 for row in rows for found in (row.live, row.reference)
                 if found is not None and found.delta is not None
                 and found.delta.ci_low is not None)
    live = sum(1 for row in rows for c in row.claims
               if c.live is not None and c.live.p_value is not None)
    ref = sum(1 for row in rows for c in row.claims
              if c.reference is not None and c.reference.p_value is not None)
    return {"live": (live, live), "reference": (ref, reference().family),
            "control": (deltas, deltas)}


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
    paired = paired_view(live.delta, digits=1) or {}
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

    chance: dict[str, Any] = {}
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
    detail = MethodDetail(
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
    page_claims([detail])
    detail.chance = page_chance(page_families([detail]))
    return detail
