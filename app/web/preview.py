"""The author's live preview: an open page reloads itself when the notes it shows
change, and, with AUTHOR_MODE=1, a banner lists the notes' diagnostics.

One small event stream per open page sends the version of what the page shows (a
paper's own note and dates on its page, the whole catalog elsewhere) whenever it
changes; static/js/preview.js compares it with the version the page was rendered
from. No inline script: the page carries its version in a meta tag."""

from __future__ import annotations

import asyncio
import hashlib
import time

from fastapi import APIRouter, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.catalog.catalog import Catalog
from app.catalog.dates import note_digest
from app.catalog.models import Diagnostic
from app.web.bindings import registry_diagnostics
from app.web.templating import templates

router = APIRouter(include_in_schema=False)

#: A stream ends after this long and the browser opens a new one (EventSource does by
#: itself): no connection is held for ever by a tab left open.
STREAM_SECONDS = 300.0
RETRY_MS = 2000
PING_SECONDS = 15
_MIN_INTERVAL = 0.5  # seconds between looks at the catalog, whatever NOTES_POLL_INTERVAL


def notes_version(catalog: Catalog, paper: str | None = None) -> str:
    """What a page shows of the notes, as a short hash: a paper page changes with its
    own note (and dates), any other page with the catalog."""
    if not paper:
        return catalog.fingerprint
    found = catalog.paper(paper)
    if found is None:
        return "gone"  # removed or renamed: reloading shows the 404
    parts = (note_digest(found), found.added, found.updated, found.shares_notes_with)
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def author_diagnostics(catalog: Catalog) -> list[Diagnostic]:
    """The parser's and the registry's diagnostics, once per parse."""
    key = "author-diagnostics"
    if key not in catalog.derived:
        catalog.derived[key] = registry_diagnostics(catalog)
    return catalog.derived[key]


def _preview_context(request: Request) -> dict[str, object]:
    state = request.app.state
    settings, store = state.settings, getattr(state, "catalog", None)
    catalog = store.get() if store is not None else None
    context: dict[str, object] = {
        "notes_folder": settings.notes_dir.name or "notes",
        "live_reload": settings.live_reload,
        # "New" marks skip what the first-seen store found on its first look.
        "new_after": catalog.derived.get("new-after") if catalog is not None else None,
    }
    # Never computed, never shown, unless the author asked for it.
    if settings.author_mode and catalog is not None:
        context["author_diagnostics"] = author_diagnostics(catalog)
    return context


templates.context_processors.append(_preview_context)
templates.env.globals.update(notes_version=notes_version)


@router.get("/api/notes/events")
async def notes_events(
    request: Request, paper: str | None = Query(None, max_length=200)
) -> EventSourceResponse:
    """`event: version` with the version of what a page shows, at once and whenever it
    changes; the stream ends after STREAM_SECONDS and the browser reconnects."""
    store = request.app.state.catalog
    interval = max(request.app.state.settings.notes_poll_interval, _MIN_INTERVAL)

    async def stream():
        yield ServerSentEvent(retry=RETRY_MS)
        sent, ends = None, time.monotonic() + STREAM_SECONDS
        while True:
            version = notes_version(store.get(), paper)
            if version != sent:
                yield ServerSentEvent(data=version, event="version")
                sent = version
            if time.monotonic() >= ends:
                return
            await asyncio.sleep(min(interval, max(0.0, ends - time.monotonic())))

    return EventSourceResponse(stream(), ping=PING_SECONDS,
                               headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"})
