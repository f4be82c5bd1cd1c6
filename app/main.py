"""The application factory: one place that wires settings, catalog, runs and routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import PROJECT_ROOT
from app.catalog.live import LiveCatalog
from app.runs import RunManager
from app.settings import Settings, get_settings
from app.web import (
    api,
    citing,
    compare,
    errors,
    evidence_page,
    methods,
    pages,
    preview,
    run_pages,
    runs_api,
    security,
    transport,
)
from app.web.bindings import registry_diagnostics
from app.web.i18n import negotiate

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = LiveCatalog(
            settings.notes_dir, poll_interval=settings.notes_poll_interval,
            cache_dir=settings.data_dir / "notes-cache", data_dir=settings.data_dir,
        )
        catalog = store.get()
        # The catalog does not know the methods; a demo bullet's typo is found here.
        for diagnostic in registry_diagnostics(catalog):
            log.warning("%s", diagnostic)
        app.state.catalog = store
        # Runs train in spawned worker processes; this process never imports torch.
        runs = RunManager.from_settings(settings)
        runs.start()
        app.state.runs = runs
        try:
            yield
        finally:
            # Interrupts what is still running: it blocks while workers are reaped.
            await asyncio.to_thread(runs.stop)

    app = FastAPI(
        docs_url=None,  # served by app.web.pages from the installed swagger-ui bundle
        redoc_url=None,
        title="知识蒸馏论文笔记",
        summary="Reading notes on knowledge distillation, with live demos.",
        lifespan=lifespan,
        root_path=settings.root_path,
    )
    app.state.settings = settings
    security.install(app)
    negotiate.install(app)  # around the whole stack: even the 500 page knows the language
    transport.install(app)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    app.include_router(api.router)
    app.include_router(runs_api.router)
    app.include_router(pages.router)
    app.include_router(citing.router)
    app.include_router(preview.router)
    app.include_router(evidence_page.pages)
    app.include_router(evidence_page.api)
    app.include_router(compare.api)
    app.include_router(compare.pages)  # before run_pages: /runs/compare is not a run id
    app.include_router(run_pages.router)
    app.include_router(methods.api)
    app.include_router(methods.pages)
    if settings.metrics_enabled:
        from app.web import metrics

        metrics.install(app)
    return app
