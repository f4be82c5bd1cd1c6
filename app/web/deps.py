"""Dependencies as Annotated aliases, so routes declare what they need by type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from app.catalog.catalog import Catalog
from app.catalog.models import Paper
from app.catalog.query import PaperQuery
from app.runs import RunManager
from app.settings import Settings
from app.web.errors import Refusal


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog.get()


async def _maybe_catalog(request: Request) -> Catalog | None:
    store = getattr(request.app.state, "catalog", None)
    return store.get() if store is not None else None


SettingsDep = Annotated[Settings, Depends(_settings)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
#: The catalog, or None in an app that serves runs alone (the run API's tests).
MaybeCatalogDep = Annotated[Catalog | None, Depends(_maybe_catalog)]
QueryDep = Annotated[PaperQuery, Query()]


async def _paper(slug: str, catalog: CatalogDep) -> Paper:
    paper = catalog.paper(slug)
    if paper is None:
        raise Refusal(404, f"no paper with slug {slug!r}", "no_paper_html", slug=slug)
    return paper


PaperDep = Annotated[Paper, Depends(_paper)]


async def _maybe_runs(request: Request) -> RunManager | None:
    return getattr(request.app.state, "runs", None)


async def _runs(runs: Annotated[RunManager | None, Depends(_maybe_runs)]) -> RunManager:
    if runs is None:
        raise Refusal(503, "the run service is not running", "runs_down")
    return runs


#: The run service; 503 when it is not running.
RunsDep = Annotated[RunManager, Depends(_runs)]
#: The run service when it is up, else None: pages that show reference rows without it.
MaybeRunsDep = Annotated[RunManager | None, Depends(_maybe_runs)]
