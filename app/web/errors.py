"""Errors as a reader or a client expects them: a friendly page for browsers, JSON
with a message for the API, and never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from app.web.templating import templates

log = logging.getLogger(__name__)

_TITLES = {400: "请求有误", 404: "找不到页面", 405: "不支持的请求方法", 500: "服务器出错了"}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.endswith((".json", ".csv", ".xml", ".js", ".css")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _page(request: Request, status: int, message: str) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": _TITLES.get(status, "出错了"), "message": message},
        status_code=status,
    )


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if wants_html(request):
        return _page(request, exc.status_code, str(exc.detail))
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    if wants_html(request):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
        )
        return _page(request, 400, problems)
    return await request_validation_exception_handler(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    if wants_html(request):
        return _page(request, 500, "意外错误，已记录在服务器日志中。")
    return JSONResponse({"detail": "internal error; see the server log"}, 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
