"""How responses travel: HEAD answered on every GET route, and gzip for what
compresses (HTML, JSON, CSS, JS), never for event streams.

HEAD is plain ASGI middleware rather than a HEAD method on each route, so the
OpenAPI schema keeps one operation per route. The request goes to the app as a GET;
its headers go out, its body never does. Once the headers are sent, the app is told
the client has gone, so an event stream asked for with HEAD ends at once."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bytes below which gzip is not worth its header.
GZIP_MIN_SIZE = 500


class HeadAsGet:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        headers_sent = asyncio.Event()

        async def receive_until_headers() -> Message:
            if headers_sent.is_set():
                return {"type": "http.disconnect"}
            getting = asyncio.ensure_future(receive())
            waiting = asyncio.ensure_future(headers_sent.wait())
            done, _ = await asyncio.wait({getting, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if getting in done:
                waiting.cancel()
                return getting.result()
            getting.cancel()
            return {"type": "http.disconnect"}

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                headers_sent.set()
            # every body message is dropped: a HEAD response has none

        await self.app({**scope, "method": "GET"}, receive_until_headers, send_headers_only)


def install(app: FastAPI) -> None:
    # Added last, so HEAD sits outside gzip: the headers a HEAD shows are those a GET
    # gets, Content-Encoding included.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_SIZE)
    app.add_middleware(HeadAsGet)
