"""Citing and finding the papers: bulk BibTeX and CSL-JSON of any catalog view, the
metadata reference managers read (Highwire `citation_*` tags on a paper's page,
COinS spans on the catalog's cards), link previews (OpenGraph, Twitter cards), and
what crawlers ask for (sitemap.xml, robots.txt)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic_core import to_json

from app.catalog import export
from app.catalog.catalog import Catalog
from app.catalog.models import Paper
from app.catalog.query import PaperQuery, run_query
from app.distill.methods import METHODS  # torch-free by contract
from app.settings import Settings
from app.web import conditional
from app.web.deps import CatalogDep, QueryDep, SettingsDep
from app.web.evidence import evidence_index
from app.web.templating import templates

router = APIRouter(include_in_schema=False)

#: The most papers one export holds: the whole of any real notes collection.
EXPORT_LIMIT = 100_000


def public_base(request: Request, settings: Settings) -> str:
    """Absolute address of the site. A configured PUBLIC_URL wins: behind a shared
    cache, a forged Host header must not end up in what everyone gets."""
    return (settings.public_url or str(request.base_url)).rstrip("/")


def view_papers(catalog: Catalog, query: PaperQuery) -> list[Paper]:
    """Every paper of a view, in its order: its filters and sort, not its pages."""
    whole = query.model_copy(update={"page": 1, "per_page": EXPORT_LIMIT})
    return run_query(catalog, whole, evidence_index(catalog)).papers


# -- metadata for reference managers -------------------------------------------------


def highwire(paper: Paper) -> list[tuple[str, str]]:
    """(name, content) of the `citation_*` meta tags Zotero and Google Scholar read."""
    tags = [("citation_title", paper.title)]
    tags += [("citation_author", name) for name in paper.authors]
    if paper.year:
        tags.append(("citation_publication_date", str(paper.year)))
    if paper.venue and paper.venue.lower() != "arxiv":
        tags.append(("citation_conference_title", paper.venue))
    if paper.arxiv_id:
        tags += [("citation_arxiv_id", paper.arxiv_id),
                 ("citation_pdf_url", f"https://arxiv.org/pdf/{paper.arxiv_id}")]  # fmt: skip
    tags.append(("citation_abstract_html_url", paper.url))
    return tags


def coins(paper: Paper) -> str:
    """The `title` of a COinS span (OpenURL 1.0 ContextObject): a page of cards holds
    one per paper, and Zotero offers to save every paper of the view."""
    fields: list[tuple[str, str]] = [
        ("ctx_ver", "Z39.88-2004"),
        ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
        ("rft.genre", "preprint" if paper.arxiv_id else "proceeding"),
        ("rft.atitle", paper.title),
    ]
    if paper.venue:
        fields.append(("rft.jtitle", paper.venue))
    if paper.year:
        fields.append(("rft.date", str(paper.year)))
    fields += [("rft.au", name) for name in paper.authors]
    fields.append(("rft_id", paper.url))
    if paper.arxiv_id:
        fields.append(("rft_id", f"info:arxiv/{paper.arxiv_id}"))
    return urlencode(fields)


templates.env.globals.update(highwire=highwire, coins=coins)


# -- bulk exports ----------------------------------------------------------------------


def _export(request: Request, catalog: Catalog, kind: str, build) -> Response:
    etag = conditional.view_etag(request, catalog, kind)
    return conditional.not_modified(request, etag) or conditional.tagged(build(), etag)


@router.get("/papers.bib", response_class=PlainTextResponse)
async def papers_bib(request: Request, catalog: CatalogDep, query: QueryDep) -> Response:
    """The view's papers as BibTeX: `/papers.bib?min_rating=4` is what `/?min_rating=4`
    lists, every page of it."""
    return _export(request, catalog, "bib", lambda: Response(
        export.bibtex_all(view_papers(catalog, query)),
        media_type="application/x-bibtex; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="papers.bib"'},
    ))  # fmt: skip


@router.get("/papers.csl.json")
async def papers_csl(request: Request, catalog: CatalogDep, query: QueryDep) -> Response:
    """The view's papers as CSL-JSON (Zotero, Pandoc, citeproc)."""
    return _export(request, catalog, "csl", lambda: Response(
        to_json(export.csl_json_all(view_papers(catalog, query))),
        media_type="application/vnd.citationstyles.csl+json",
    ))  # fmt: skip


# -- crawlers --------------------------------------------------------------------------


@router.get("/sitemap.xml")
async def sitemap(request: Request, catalog: CatalogDep, settings: SettingsDep) -> Response:
    etag = conditional.view_etag(request, catalog, public_base(request, settings))
    if hit := conditional.not_modified(request, etag):
        return hit
    papers = list(catalog.papers.values())
    body = templates.get_template("sitemap.xml").render(
        base=public_base(request, settings),
        papers=papers,
        newest=max((p.updated for p in papers if p.updated), default=None),
        categories=list(catalog.categories.values()),
        methods=list(METHODS),
    )
    return conditional.tagged(Response(body, media_type="application/xml"), etag)


@router.get("/robots.txt", response_class=PlainTextResponse)
async def robots(request: Request, settings: SettingsDep) -> str:
    base = public_base(request, settings)
    root = request.scope.get("root_path", "").rstrip("/")
    # Readers' runs are theirs, and the run API is not for crawling.
    return (
        "User-agent: *\n"
        f"Disallow: {root}/runs\n"
        f"Disallow: {root}/api/runs\n"
        f"Allow: {root}/\n"
        f"Sitemap: {base}/sitemap.xml\n"
    )
