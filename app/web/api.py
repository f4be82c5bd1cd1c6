"""JSON API of the catalog. Each route calls the same service as its HTML page; its
response model is what the OpenAPI document promises and what the tests (tests/web,
and schemathesis in tests/fuzz) hold each body to."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from pydantic_core import to_json

from app.catalog.models import NoteDemo, RatingLevel
from app.catalog.query import Facet, PaperQuery, run_query
from app.web import conditional
from app.web.deps import CatalogDep, MaybeRunsDep, PaperDep, QueryDep
from app.web.evidence import evidence_index, evidence_json, paper_evidence
from app.web.views import category_counts, paper_detail, paper_detail_json, paper_summary_json

router = APIRouter(prefix="/api", tags=["catalog"])


# -- shapes ------------------------------------------------------------------------
# The catalog's own dataclasses (NoteDemo, Facet, RatingLevel) are used as they are,
# so there is no twin model to keep in step with them.


class Message(BaseModel):
    detail: str


class SideOut(BaseModel):
    method: str = Field(description="A method id, as `POST /api/runs` takes it.")
    params: dict[str, bool | int | float | str] = Field(
        description="The parameters the note sets; the method's defaults fill the rest."
    )


class NoteComparisonOut(BaseModel):
    method: SideOut
    against: SideOut
    line: int = Field(ge=1, description="The bullet's line in the paper's notes file.")
    text: str = Field(description="The comparison as the page shows it: `a vs b(x=1)`.")


class _PaperFields(BaseModel):
    """What every JSON form of a paper carries: the record as parsed."""

    slug: str = Field(description="The arXiv id when the paper has one, else from the title.")
    title: str
    url: str
    venue: str | None
    year: int | None
    status: str | None = Field(description="oral, spotlight, under review...")
    rating: int | None = Field(ge=1, le=5)
    category: str | None = Field(description="The category's slug.")
    category_path: list[str] = Field(description="Category titles from the top down.")
    insights: list[str] = Field(description="Each insight of the note as plain text.")
    first_insight: str | None
    file: str = Field(description="The notes file, relative to NOTES_DIR.")
    line: int = Field(ge=1)
    order: int = Field(ge=0, description="Position in file order across all notes files.")
    arxiv_id: str | None
    venue_raw: str | None = Field(description="The venue as the note writes it.")
    shares_notes_with: list[str] = Field(description="Slugs of papers sharing this note.")
    note_demos: list[NoteDemo] = Field(
        description="Demo method ids from the note's `演示:` / `demo:` bullet, as written."
    )
    note_comparisons: list[NoteComparisonOut] = Field(
        description="The note's `对比: a vs b` / `compare: a vs b` bullets, as written; "
        "each is judged as the claim that `method` beats `against`."
    )
    authors: list[str] = Field(description="From the note's `作者:` / `authors:` bullet.")
    added: dt.datetime | None = Field(
        description="When the paper came into the notes: its lines' first commit in a git "
        "checkout, else when this site first saw it."
    )
    updated: dt.datetime | None = Field(
        description="When its line or note last changed (latest commit, or first seen so)."
    )


class PaperSummary(_PaperFields):
    evidence: str | None = Field(
        None, description="supported / contradicted / not_shown / no_demo: how the paper's "
        "claims fared in the reference reproduction (Holm-adjusted)."
    )
    has_demo: bool = Field(False, description="Whether the paper has a live demo.")
    url_path: str = Field(description="The paper's page: `/papers/{slug}`.")


class PaperLink(BaseModel):
    slug: str
    title: str


class CategoryLink(BaseModel):
    slug: str
    title: str


class DemoLink(BaseModel):
    id: str = Field(description="The method id, as `POST /api/runs` takes it.")
    title: str
    url: str = Field(description="The method's page: `/methods/{id}`.")


class PaperOut(_PaperFields):
    evidence: str = Field(description="supported / contradicted / not_shown / no_demo.")
    claims: list[dict[str, Any]] = Field(
        description="Its methods' claims and its note's comparisons, each with the "
        "reference judgement (Holm-adjusted) and the latest live run's, as the page shows."
    )
    notes_html: str = Field(description="The note, rendered and sanitised.")
    rating_label: str | None = Field(description="The legend's words for the rating.")
    categories: list[CategoryLink] = Field(description="From the top down to the paper's own.")
    previous: PaperLink | None = Field(description="In the same category, in file order.")
    next: PaperLink | None
    mentions: list[PaperLink] = Field(description="Other papers whose title the note names.")
    bibtex: str
    demos: list[DemoLink] = Field(
        description="The live demos of the paper (the registry's and the note's), "
        "as its page lists them."
    )


class Facets(BaseModel):
    rating: list[Facet]
    min_rating: list[Facet]
    category: list[Facet]
    venue: list[Facet]
    year: list[Facet]
    evidence: list[Facet] = Field(
        default_factory=list, description="supported, contradicted, not shown, no demo."
    )
    has_demo: list[Facet] = Field(
        default_factory=list, description="With a live demo (`true`) or without (`false`)."
    )


class PaperList(BaseModel):
    query: PaperQuery
    matched: int = Field(ge=0, description="Papers that match the filters.")
    total: int = Field(ge=0, description="Papers in the catalog.")
    page: int = Field(ge=1)
    pages: int = Field(ge=1)
    papers: list[PaperSummary] = Field(description="This page of the matches.")
    facets: Facets = Field(description="Counts per value, each under every other filter.")


class CategoryOut(BaseModel):
    slug: str
    title: str
    path: list[str] = Field(description="Titles from the top heading down to this one.")
    parent: str | None = Field(description="The parent category's slug.")
    description: str
    file: str
    line: int = Field(ge=1)
    depth: int = Field(ge=1)
    papers: int = Field(ge=0, description="Papers right in this category.")
    papers_total: int = Field(ge=0, description="Papers in it and every category below.")


# -- routes ------------------------------------------------------------------------


def _json(data: object) -> Response:
    """The body, serialised once by pydantic-core. Returning a Response makes the
    response model documentation only: FastAPI's own check would first validate
    every paper into a model, 2.5x the time of a 1,000-paper page (and a p99 of GC
    pauses), for a shape the tests already hold the body to."""
    return Response(to_json(data), media_type="application/json")


@router.get(
    "/papers", response_model=PaperList, summary="Papers matching the filters, with facet counts"
)
async def list_papers(request: Request, catalog: CatalogDep, query: QueryDep) -> Response:
    # A poll of an unchanged view answers 304 before anything is queried.
    etag = conditional.view_etag(request, catalog, "api-papers")
    if hit := conditional.not_modified(request, etag):
        return hit
    index = evidence_index(catalog)
    result = run_query(catalog, query, index)
    body = {
        "query": query,
        "matched": result.matched,
        "total": result.total,
        "page": query.page,
        "pages": result.pages,
        "papers": [paper_summary_json(p) | {"evidence": index.by_slug.get(p.slug),
                                            "has_demo": index.has_demo(p.slug)}
                   for p in result.papers],
        "facets": result.facets,
    }
    return conditional.tagged(_json(body), etag)


@router.get(
    "/papers/{slug}",
    response_model=PaperOut,
    summary="One paper with its rendered note and its demos",
    responses={404: {"model": Message, "description": "No paper has this slug"}},
)
async def get_paper(
    request: Request, catalog: CatalogDep, paper: PaperDep, runs: MaybeRunsDep
) -> Response:
    evidence = paper_evidence(catalog, paper, runs)
    body = paper_detail_json(paper_detail(catalog, paper)) | evidence_json(evidence)
    return conditional.by_body(request, _json(body))  # live runs too: tagged by its bytes


@router.get(
    "/categories",
    response_model=list[CategoryOut],
    summary="Categories in file order with paper counts",
)
async def list_categories(catalog: CatalogDep) -> Response:
    return _json(category_counts(catalog))


@router.get(
    "/rating-scale", response_model=list[RatingLevel], summary="The notes' own rating legend"
)
async def rating_scale(catalog: CatalogDep) -> Response:
    return _json(catalog.rating_scale.levels)
