"""/evidence, for the author: the rating beside the evidence. Every paper with its
rating, its evidence key and each claim's reference verdict; first the two lists that
should make the author look again: the top-rated papers whose claims are not shown
(or are contradicted) at this scale, and the low-rated ones whose claims hold up.
The page and `/api/evidence` are fed by the same call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic_core import to_json

from app.catalog.catalog import Catalog
from app.web.deps import CatalogDep
from app.web.evidence import EVIDENCE_TEXT, evidence_of, paper_claims, reference_judgements
from app.web.templating import templates

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["catalog"])

LOW_RATING = 3  # at or below: "low-rated"


def evidence_table(catalog: Catalog) -> dict[str, Any]:
    """Every paper with a demo, its rating and evidence and each claim's reference
    verdict (Holm-adjusted); the two lists; the words of each evidence key."""
    reference = reference_judgements(catalog)
    top = max(catalog.rating_scale.values or (5,))
    papers = []
    for paper in catalog.papers.values():
        key = evidence_of(catalog, paper)
        if key == "no_demo":
            continue
        found = [reference[c.id] for _, c in paper_claims(paper) if c.id in reference]
        papers.append({
            "slug": paper.slug, "title": paper.title, "url_path": f"/papers/{paper.slug}",
            "rating": paper.rating, "evidence": key,
            "claims": [{"claim": j["claim"], "statement": j["statement"],
                        "comparator": j["comparator"], "mean": j["mean"],
                        "adjusted_verdict": j["adjusted_verdict"],
                        "label": j["adjusted_label"]} for j in found],
        })
    return {
        "top_rating": top,
        "low_rating": LOW_RATING,
        "top_not_shown": [p for p in papers if p["rating"] == top
                          and p["evidence"] in ("not_shown", "contradicted")],
        "low_holding_up": [p for p in papers if p["rating"] is not None
                           and p["rating"] <= LOW_RATING and p["evidence"] == "supported"],
        "papers": papers,
        "words": EVIDENCE_TEXT,
    }


@pages.get("/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, catalog: CatalogDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "evidence.html",
                                      {"table": evidence_table(catalog)})


@api.get("/evidence", summary="The rating beside the evidence, paper by paper")
def evidence_api(catalog: CatalogDep) -> Response:
    return Response(to_json(evidence_table(catalog)), media_type="application/json")
