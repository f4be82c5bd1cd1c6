"""Server-rendered pages. They work without JavaScript; scripts only enhance.

Handlers here are async on purpose: each is a few ms of pure CPU, and a thread-pool
hop per dependency cost more than the work itself."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from pathlib import Path

import swagger_ui_bundle
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from markupsafe import Markup

from app import PROJECT_ROOT
from app.catalog import files, search
from app.catalog.catalog import Catalog
from app.catalog.dates import is_new
from app.catalog.models import Paper
from app.catalog.query import EvidenceIndex, PaperQuery, run_query
from app.web import conditional
from app.web.citing import public_base
from app.web.deps import CatalogDep, MaybeRunsDep, PaperDep, QueryDep, SettingsDep
from app.web.errors import Refusal
from app.web.evidence import evidence_index, paper_evidence
from app.web.preview import notes_version
from app.web.run_pages import demo_panel
from app.web.templating import language, root, site_title, templates
from app.web.views import category_chain, paper_detail

router = APIRouter(include_in_schema=False)

# npm's plotly.js-basic-dist-min, vendored (static/vendor/plotly/README.md): a quarter
# of the full bundle, and it draws everything the pages draw.
PLOTLY_JS = PROJECT_ROOT / "static" / "vendor" / "plotly" / "plotly-basic.min.js"
SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)


templates.env.globals.update(is_new=is_new)


def _listing(request: Request, catalog: Catalog, query: PaperQuery, **extra) -> Response:
    # An unchanged view answers 304 before anything is queried or rendered.
    etag = conditional.view_etag(request, catalog, "listing")
    if hit := conditional.not_modified(request, etag):
        return hit
    index = evidence_index(catalog)
    result = run_query(catalog, query, index)
    # Group by category only in file order; other sorts, and a search ranked by
    # where it hit, read best as one list.
    grouped = query.sort == "file" and not result.terms
    keyed = groupby(result.papers, key=lambda p: p.category) if grouped else [(None, result.papers)]
    groups = [{"category": key, "papers": list(papers)} for key, papers in keyed]
    response = templates.TemplateResponse(
        request,
        "index.html",
        {
            "catalog": catalog,
            "query": query,
            "result": result,
            "grouped": grouped,
            "groups": [g for g in groups if g["papers"]],
            "scale": catalog.rating_scale,
            "active_filters": _active_filters(query),
            "with_demo": {p.slug for p in result.papers if index.has_demo(p.slug)},
            "preview_version": notes_version(catalog),
            "cards": None if result.terms else _card_cache(request, catalog, index),
            **_search_marks(result.terms),
            **extra,
        },
    )
    return conditional.tagged(response, etag)


def _card_cache(request: Request, catalog: Catalog, index: EvidenceIndex) -> dict[str, Markup]:
    """The cards of an unsearched listing, rendered once and kept, by slug: a card
    shows only its paper, so it is the same on every page and filter. Kept on the
    catalog (a new parse makes a new one) per language and root path, and dropped
    on the hour (a "new" mark ages) or with the evidence index its demo badges come
    from (a new one when the reference file changes)."""
    hour = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H")
    key = ("cards", language(request), root(request))
    kept = catalog.derived.get(key)
    if kept is None or kept[0] != hour or kept[1] is not index:
        kept = catalog.derived[key] = (hour, index, {})
    return kept[2]


def _remember(cards: dict[str, Markup], slug: str, html: Markup) -> Markup:
    cards[slug] = html
    return html


templates.env.globals.update(remember_card=_remember)


def _search_marks(terms: tuple[str, ...]) -> dict:
    """What the cards call to show a search's hits: each text with its matches in
    <mark>, and the insight that matched (else the first). With no search, the text
    as it is (the template escapes it) and the first insight, at no cost."""
    if not terms:
        return {"mark": str, "snippet": _first_insight}
    return {
        "mark": lambda text: Markup(search.highlight(text, terms)),
        "snippet": lambda paper: search.best_snippet(paper.insights, terms),
    }


def _first_insight(paper: Paper) -> str | None:
    return paper.first_insight


def _active_filters(query: PaperQuery) -> int:
    """How many filters narrow the list (search included; sort and page do not)."""
    defaults = PaperQuery().model_dump()
    values = query.model_dump(exclude={"sort", "page", "per_page"})
    return sum(1 for key, value in values.items() if value not in (None, "", defaults[key]))


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, catalog: CatalogDep, query: QueryDep) -> Response:
    return _listing(request, catalog, query)


@router.get("/categories/{slug}", response_class=HTMLResponse)
async def category_page(request: Request, slug: str, catalog: CatalogDep, query: QueryDep):
    category = catalog.category(slug)
    if category is None:
        raise Refusal(404, f"no category with slug {slug!r}", "no_category_html", slug=slug)
    query = query.model_copy(update={"category": slug})
    return _listing(request, catalog, query, category=category, chain=category_chain(catalog, slug))


@router.get("/papers/{slug}", response_class=HTMLResponse)
async def paper_page(
    request: Request, catalog: CatalogDep, paper: PaperDep, settings: SettingsDep,
    runs: MaybeRunsDep,
) -> HTMLResponse:
    context = {
        "detail": paper_detail(catalog, paper),
        "paper": paper,
        "scale": catalog.rating_scale,
        "demo": demo_panel(paper, runs, settings.data_dir),
        "evidence": paper_evidence(catalog, paper, runs),
        "run_token_required": bool(settings.run_token),
        "canonical": f"{public_base(request, settings)}/papers/{paper.slug}",
        "preview_version": notes_version(catalog, paper.slug),
        "preview_paper": paper.slug,
    }
    # Tagged by its bytes: the page shows live runs too, which no catalog tag covers.
    return conditional.by_body(request, templates.TemplateResponse(request, "paper.html", context))


@router.get("/papers/{slug}/bibtex", response_class=PlainTextResponse)
async def paper_bibtex(request: Request, catalog: CatalogDep, paper: PaperDep) -> Response:
    etag = conditional.view_etag(request, catalog, "bibtex")
    return conditional.not_modified(request, etag) or conditional.tagged(
        PlainTextResponse(paper_detail(catalog, paper).bibtex), etag
    )


_EPOCH = dt.datetime.fromtimestamp(0, dt.UTC)


def _atom_time(when: dt.datetime | None) -> str:
    return (when or _EPOCH).isoformat(timespec="seconds")


@router.get("/feed.xml")
async def feed(request: Request, catalog: CatalogDep, settings: SettingsDep) -> Response:
    """Each entry dated by its own paper (app/catalog/dates.py): newest first, and an
    edit re-announces only the paper it touched."""
    base = public_base(request, settings)
    etag = conditional.view_etag(request, catalog, "feed", base)
    if hit := conditional.not_modified(request, etag):
        return hit
    papers = sorted(catalog.papers.values(), key=lambda p: (p.added or _EPOCH, -p.order),
                    reverse=True)  # fmt: skip
    body = templates.get_template("feed.xml").render(
        site_title=site_title(settings, catalog),
        papers=papers,
        base=base,
        updated=_atom_time(max((p.updated for p in papers if p.updated), default=None)),
        atom_time=_atom_time,
    )
    response = Response(body, media_type="application/atom+xml; charset=utf-8")
    return conditional.tagged(response, etag)


@router.get(files.ROUTE + "/{path:path}")
async def note_file(path: str, settings: SettingsDep) -> FileResponse:
    """An image or PDF beside the notes, as a note links to it (app/catalog/files.py).
    Anything else under NOTES_DIR, the notes themselves included, is a 404."""
    found = files.resolve(settings.notes_dir, path)
    if found is None:
        raise HTTPException(404, "no image or PDF by that name beside the notes")
    file, media_type = found
    # An SVG opened on its own is a document: it gets no script and no origin.
    headers = {"Content-Security-Policy": _SVG_POLICY} if media_type == "image/svg+xml" else {}
    return FileResponse(file, media_type=media_type, headers=headers)


_SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@router.get("/healthz")
async def healthz(catalog: CatalogDep) -> dict:
    return {"status": "ok", "papers": len(catalog.papers)}


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "docs.html", {})


@router.get("/vendor/plotly.min.js")
async def plotly_js() -> FileResponse:
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=_LONG_CACHE)


@router.get("/vendor/swagger/{name}")
async def swagger_asset(name: str) -> FileResponse:
    if name not in _SWAGGER_FILES:
        raise HTTPException(404, "no such asset")
    return FileResponse(SWAGGER_DIR / name, headers=_LONG_CACHE)


_SWAGGER_FILES = {"swagger-ui-bundle.js", "swagger-ui.css"}
_LONG_CACHE = {"Cache-Control": "public, max-age=86400"}
