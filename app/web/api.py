"""JSON API of the catalog. Each route calls the same service as its HTML page; its
response model is what the OpenAPI document promises and what the fuzz tests check."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.catalog.models import NoteDemo, RatingLevel
from app.catalog.query import Facet, PaperQuery, run_query
from app.web.deps import CatalogDep, PaperDep, QueryDep
from app.web.views import category_counts, paper_detail, paper_detail_json, paper_summary_json

router = APIRouter(prefix="/api", tags=["catalog"])


# -- shapes ------------------------------------------------------------------------
# The catalog's own dataclasses (NoteDemo, Facet, RatingLevel) serve as they are:
# pydantic reads them without a copy into a twin model.


class Message(BaseModel):
    detail: str


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


class PaperSummary(_PaperFields):
    mentions: list[str] = Field(description="Always empty here; see the paper's own JSON.")
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


@router.get(
    "/papers", response_model=PaperList, summary="Papers matching the filters, with facet counts"
)
async def list_papers(catalog: CatalogDep, query: QueryDep) -> dict:
    result = run_query(catalog, query)
    return {
        "query": query,
        "matched": result.matched,
        "total": result.total,
        "page": query.page,
        "pages": result.pages,
        "papers": [paper_summary_json(p) for p in result.papers],
        "facets": result.facets,
    }


@router.get(
    "/papers/{slug}",
    response_model=PaperOut,
    summary="One paper with its rendered note and its demos",
    responses={404: {"model": Message, "description": "No paper has this slug"}},
)
async def get_paper(catalog: CatalogDep, paper: PaperDep) -> dict:
    return paper_detail_json(paper_detail(catalog, paper))


@router.get(
    "/categories",
    response_model=list[CategoryOut],
    summary="Categories in file order with paper counts",
)
async def list_categories(catalog: CatalogDep) -> list[dict]:
    return category_counts(catalog)


@router.get(
    "/rating-scale", response_model=list[RatingLevel], summary="The notes' own rating legend"
)
async def rating_scale(catalog: CatalogDep) -> list[RatingLevel]:
    return list(catalog.rating_scale.levels)
