"""ETag and If-None-Match: a poll of an unchanged view answers 304 without rendering.

A view's tag is a hash of everything it is made from: the catalog's fingerprint
(files and dates), the reference evidence, the build (templates and code), the
settings pages show, the request's URL and the headers the language may come from.
Views that also show live runs (a paper page) are tagged by their body instead:
correct whatever they read, and still a 304 with no body to send. Tags are weak,
since gzip changes the bytes but not the meaning."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response

from app import PROJECT_ROOT
from app.catalog.catalog import Catalog
from app.web.reproduction import REPRODUCTION_JSON

#: Headers a page's language may come from (the i18n's cookie, Accept-Language).
VARY = "Accept-Language, Cookie"
_CACHE_CONTROL = "no-cache"  # keep it, but ask each time: the notes may change any minute


def _build_id(roots: Iterable[Path]) -> str:
    """The templates and code as deployed: a new release changes every tag."""
    digest = hashlib.blake2b(digest_size=8)
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in {".html", ".xml", ".py", ".txt"} and path.is_file():
                digest.update(path.as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


BUILD_ID = _build_id([PROJECT_ROOT / "templates", PROJECT_ROOT / "app" / "web",
                      PROJECT_ROOT / "app" / "catalog"])  # fmt: skip


def _reference_stamp() -> int:
    try:
        return REPRODUCTION_JSON.stat().st_mtime_ns
    except OSError:
        return 0


_SETTINGS_TAGS: dict[int, str] = {}
_SHOWN_SETTINGS = {"site_title", "public_url", "root_path", "author_mode", "live_reload",
                   "notes_dir"}  # fmt: skip


def _settings_tag(request: Request) -> str:
    """The settings a page shows: flipping one must not leave a client with the old
    page. Only these, by name: a secret must never feed a value sent to clients."""
    settings = request.app.state.settings
    key = id(settings)
    if key not in _SETTINGS_TAGS:
        shown = settings.model_dump_json(include=_SHOWN_SETTINGS)
        _SETTINGS_TAGS[key] = hashlib.blake2b(shown.encode(), digest_size=8).hexdigest()
    return _SETTINGS_TAGS[key]


def _tag(*parts: object) -> str:
    return 'W/"' + hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest() + '"'


def view_etag(request: Request, catalog: Catalog, *extra: object) -> str:
    """The tag of a view made from the catalog and the request alone. The day is in
    it because "new" marks depend on it."""
    headers = request.headers
    return _tag(
        BUILD_ID, _settings_tag(request), catalog.fingerprint, _reference_stamp(),
        dt.date.today().toordinal(),
        str(request.url), request.scope.get("root_path", ""),
        headers.get("accept-language", ""), headers.get("cookie", ""), *extra,
    )  # fmt: skip


def body_etag(body: bytes) -> str:
    return _tag(BUILD_ID, hashlib.blake2b(body, digest_size=16).digest())


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    if wanted.strip() == "*":
        return True
    # Weak comparison (RFC 9110, 13.1.2): W/ is ignored on either side.
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in wanted.split(","))


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Vary": VARY, "Cache-Control": _CACHE_CONTROL}


def not_modified(request: Request, etag: str) -> Response | None:
    """A 304 when the client's copy is this one, else None: build the response."""
    if _matches(request, etag):
        return Response(status_code=304, headers=_headers(etag))
    return None


def tagged(response: Response, etag: str) -> Response:
    headers = _headers(etag)
    if response.headers.get("content-type", "").startswith("text/html"):
        del headers["Vary"]  # app/web/i18n/negotiate.py says it of every page already
    response.headers.update(headers)
    return response


def by_body(request: Request, response: Response) -> Response:
    """Tag a rendered response by its bytes; 304 when the client has them."""
    etag = body_etag(bytes(response.body))
    return not_modified(request, etag) or tagged(response, etag)
