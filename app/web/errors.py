"""Errors as a reader or a client expects them: a friendly page for browsers, JSON
with a message for the API, and never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount

from app.runs.errors import RunError
from app.web.i18n import DEFAULT_LANGUAGE, TABLES, translate
from app.web.run_errors import http_error
from app.web.templating import route_path, templates

log = logging.getLogger(__name__)


class Refusal(HTTPException):
    """An HTTP error that a reader's page can say in the UI's language: `key` names
    `errors.message.<key>` in the interface tables, `values` fill it. The JSON
    detail stays `detail`, the API's own words."""

    def __init__(self, status: int, detail: str, key: str, **values: object):
        super().__init__(status, detail)
        self.ui_key, self.ui_values = key, values


def _known(key: str) -> bool:
    return key in TABLES[DEFAULT_LANGUAGE]


def _message(exc: HTTPException) -> str:
    """What the page says: the refusal's own message, else its status's."""
    key = getattr(exc, "ui_key", None)
    if key and _known(f"errors.message.{key}"):
        return translate(f"errors.message.{key}", **getattr(exc, "ui_values", {}))
    generic = f"errors.status.{exc.status_code}"
    return translate(generic if _known(generic) else "errors.status.400")


def _field_label(loc: tuple) -> str:
    """A field as a reader knows it: its label in the tables, never a pydantic path."""
    names = [str(p) for p in loc[1:] if not isinstance(p, int)] or [str(loc[-1])]
    name = names[-1]
    for key in (f"fields.{name}", f"params.{name}.label"):
        if _known(key):
            return translate(key)
    return name if len(loc) > 1 else translate("errors.validation.the_request")


#: Where a page's own words say a missing field better than "X: required":
#: (the page's path, the field) -> a key of `errors.message`.
PAGE_PROBLEMS = {("/runs/compare", "ids"): "compare_none"}


def problem_text(error: dict, path: str = "") -> str:
    """One validation error in the UI's language: the field's label and what is wrong
    with it, from the error's type; pydantic's English message never reaches a page."""
    kind = error.get("type", "")
    field = str(error["loc"][-1]) if error.get("loc") else ""
    if kind == "missing" and (key := PAGE_PROBLEMS.get((path, field))):
        return translate(f"errors.message.{key}")
    key = f"errors.validation.{kind}" if _known(f"errors.validation.{kind}") else None
    ctx = error.get("ctx") or {}
    limit = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
    return translate(key or "errors.validation.other", field=_field_label(tuple(error["loc"])),
                     limit=limit)  # fmt: skip


def wants_html(request: Request) -> bool:
    """Browsers get pages: page URLs, and plain HTML forms posted to the API."""
    if "text/html" not in request.headers.get("accept", ""):
        return False
    path = request.url.path
    if path.startswith("/api/"):
        form = request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        return request.method == "POST" and form
    return not path.endswith((".json", ".csv", ".xml", ".js", ".css"))


def _page(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> Response:
    title_key = f"errors.title.{status}"
    title = translate(title_key if _known(title_key) else "errors.generic_title")
    context = {"status": status, "title": title, "message": message, "problems": problems}
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method the path answers to. Starlette's 405 names only the methods of
    the first route that matched the path, and `/api/runs` is two routes (GET
    lists, POST launches). Mounts (static files) match any method: not asked."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    if wants_html(request):  # the page keeps the headers too: Retry-After, Allow
        return _page(request, exc.status_code, _message(exc), headers)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    if wants_html(request):
        status = 422 if request.url.path.startswith("/api/") else 400
        path = route_path(request)
        problems = [problem_text(e, path) for e in exc.errors()]
        return _page(request, status, translate("errors.problems"), problems=problems)
    return await request_validation_exception_handler(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    if wants_html(request):
        return _page(request, 500, translate("errors.unexpected"))
    return JSONResponse({"detail": "internal error; see the server log"}, 500)


async def _refused(request: Request, exc: RunError) -> Response:
    """A run service refusal, mapped by app/web/run_errors.py's table."""
    error = http_error(exc)
    if isinstance(error, RequestValidationError):
        return await _validation_error(request, error)
    return await _http_error(request, error)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RunError, _refused)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
