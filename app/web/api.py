"""JSON API of the catalog. Each route calls the same service as its HTML page."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel

from app.catalog.query import run_query
from app.web.deps import CatalogDep, PaperDep, QueryDep
from app.web.views import category_counts, paper_detail, paper_detail_json, paper_summary_json

router = APIRouter(prefix="/api", tags=["catalog"])


class Message(BaseModel):
    detail: str


@router.get("/papers", summary="Papers matching the filters, with facet counts")
async def list_papers(catalog: CatalogDep, query: QueryDep) -> dict:
    result = run_query(catalog, query)
    return {
        "query": query.model_dump(),
        "matched": result.matched,
        "total": result.total,
        "page": query.page,
        "pages": result.pages,
        "papers": [paper_summary_json(p) for p in result.papers],
        "facets": {name: [asdict(f) for f in facets] for name, facets in result.facets.items()},
    }


@router.get(
    "/papers/{slug}",
    summary="One paper with its rendered note",
    responses={404: {"model": Message, "description": "No paper has this slug"}},
)
async def get_paper(catalog: CatalogDep, paper: PaperDep) -> dict:
    return paper_detail_json(paper_detail(catalog, paper))


@router.get("/categories", summary="Categories in file order with paper counts")
async def list_categories(catalog: CatalogDep) -> list[dict]:
    return category_counts(catalog)


@router.get("/rating-scale", summary="The notes' own rating legend")
async def rating_scale(catalog: CatalogDep) -> list[dict]:
    return [asdict(level) for level in catalog.rating_scale.levels]
