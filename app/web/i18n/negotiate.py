"""Which language a request is answered in: `?lang=` first (and remembered in a
cookie), then the `lang` cookie, then the browser's Accept-Language, else Chinese.

Plain ASGI middleware wrapped around the whole stack, so even the 500 page that
Starlette's outermost error middleware renders knows the language."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language

COOKIE = "lang"
#: A year: the choice outlasts the visit.
COOKIE_MAX_AGE = 365 * 24 * 3600


def supported(value: str | None) -> str | None:
    """`en`, `en-GB`, `zh-Hans-CN`... as one of LANGUAGES, or None."""
    primary = (value or "").strip().lower().split("-")[0].split("_")[0]
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str) -> str | None:
    """The supported language the browser ranks highest (RFC 9110 q-values)."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.partition(";")
        lang = supported(tag)
        if lang is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # Higher quality wins; among equals, the one listed first.
        if quality > 0 and (best is None or (quality, -position) > best[:2]):
            best = (quality, -position, lang)
    return best[2] if best else None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def choose(scope: Scope) -> tuple[str, bool]:
    """The request's language, and whether it was asked for by `?lang=` (to remember)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if asked := supported((query.get("lang") or [""])[-1]):
        return asked, True
    cookie = SimpleCookie()
    try:
        cookie.load(_header(scope, b"cookie"))
    except Exception:  # a malformed cookie header is the browser's problem, not a 500
        cookie = SimpleCookie()
    if COOKIE in cookie and (kept := supported(cookie[COOKIE].value)):
        return kept, False
    return from_accept_language(_header(scope, b"accept-language")) or DEFAULT_LANGUAGE, False


class Language:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang, asked = choose(scope)
        scope.setdefault("state", {})["lang"] = lang
        token = current_language.set(lang)
        path = (scope.get("root_path", "").rstrip("/") or "") + "/"

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if asked:
                    headers.append((b"set-cookie", (
                        f"{COOKIE}={lang}; Path={path}; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax"
                    ).encode()))  # fmt: skip
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    # A page differs by language: a cache must not hand one to the other.
                    headers.append((b"vary", b"Cookie, Accept-Language"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            current_language.reset(token)


def install(app: FastAPI) -> None:
    """Outside the whole middleware stack, as app/web/security.py does."""
    build = app.build_middleware_stack

    def build_with_language() -> ASGIApp:
        return Language(build())

    app.build_middleware_stack = build_with_language  # type: ignore[method-assign]
