"""What the routes that launch or cancel runs share: the request's fields from a JSON
body or a plain HTML form (bounded in size), the run token, the client's address, and
the error shapes they document."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel

MAX_BODY = 64 * 1024


class Message(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class FieldErrors(BaseModel):
    """FastAPI's own 422 shape: one entry per bad field."""

    detail: list[FieldError]


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ClientDep = Annotated[str, Depends(client_host)]


async def read_fields(request: Request) -> tuple[dict[str, Any], bool]:
    """The request's fields, from JSON or an HTML form; True when it was a form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await read_body(request)
    if kind == "application/x-www-form-urlencoded":
        # Blank fields are dropped so that an empty input keeps the default.
        fields: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8", "replace")))
        if "params" in fields:
            fields["params"] = _json(fields["params"], "the params field is not valid JSON")
        else:
            params = {k: v for k, v in fields.items() if k not in ("method", "token")}
            fields = {k: fields[k] for k in ("method", "token") if k in fields}
            fields["params"] = params
        return fields, True
    if kind in ("", "application/json") or kind.endswith("+json"):
        body = _json(raw, "the body is not valid JSON") if raw.strip() else {}
        if not isinstance(body, dict):
            raise HTTPException(400, "the body must be a JSON object")
        return body, False
    raise HTTPException(415, "send JSON or an application/x-www-form-urlencoded form")


async def read_body(request: Request) -> bytes:
    """The body, refused with 413 past MAX_BODY before it is all read."""
    too_big = HTTPException(413, f"the body is larger than {MAX_BODY} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_big
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY:
            raise too_big
    return bytes(body)


def _json(raw: str | bytes, message: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nesting a 64 kB body allows
        raise HTTPException(400, message) from None


def check_token(settings: Any, request: Request, fields: dict[str, Any]) -> None:
    expected = settings.run_token
    if not expected:
        return
    given = request.headers.get("x-run-token") or fields.get("token")
    if not given:
        raise HTTPException(
            401, "this server needs a run token: send the X-Run-Token header or a token field"
        )
    if not isinstance(given, str) or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "wrong run token")


def wants_page(request: Request, is_form: bool) -> bool:
    """A browser that posted a plain form gets redirected to the run's page."""
    return is_form and "text/html" in request.headers.get("accept", "")
