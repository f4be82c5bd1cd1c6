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
from app.web.run_errors import http_error
from app.web.templating import templates

log = logging.getLogger(__name__)

_TITLES = {
    400: "请求有误",
    401: "需要运行令牌",
    403: "运行令牌不对",
    404: "找不到页面",
    405: "不支持的请求方法",
    409: "操作冲突",
    422: "参数有误",
    429: "请求太多",
    500: "服务器出错了",
}


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
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": _TITLES.get(status, "出错了"), "message": message},
        status_code=status,
        headers=headers,
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
        return _page(request, exc.status_code, str(exc.detail), headers)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    if wants_html(request):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
        )
        status = 422 if request.url.path.startswith("/api/") else 400
        return _page(request, status, problems)
    return await request_validation_exception_handler(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    if wants_html(request):
        return _page(request, 500, "意外错误，已记录在服务器日志中。")
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
