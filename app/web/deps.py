"""Dependencies as Annotated aliases, so routes declare what they need by type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request

from app.catalog.catalog import Catalog
from app.catalog.models import Paper
from app.catalog.query import PaperQuery
from app.runs import RunManager
from app.settings import Settings


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog.get()


SettingsDep = Annotated[Settings, Depends(_settings)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
QueryDep = Annotated[PaperQuery, Query()]


async def _paper(slug: str, catalog: CatalogDep) -> Paper:
    paper = catalog.paper(slug)
    if paper is None:
        raise HTTPException(404, f"no paper with slug {slug!r}")
    return paper


PaperDep = Annotated[Paper, Depends(_paper)]


async def _runs(request: Request) -> RunManager:
    runs = getattr(request.app.state, "runs", None)
    if runs is None:
        raise HTTPException(503, "the run service is not running")
    return runs


RunsDep = Annotated[RunManager, Depends(_runs)]
