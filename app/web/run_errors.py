"""The run service's refusals as HTTP: one table of status codes, `Retry-After`
from the service's estimate of the wait, and a 422 that names the field path."""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError

from app.runs.errors import (
    Busy,
    ClientLimit,
    InvalidParams,
    QueueFull,
    RunError,
    RunFinished,
    RunNotFound,
    ShuttingDown,
    UnknownMethod,
)

#: Each refusal's status code; the most specific class listed wins.
STATUS: dict[type[RunError], int] = {
    UnknownMethod: 404,
    InvalidParams: 422,
    RunNotFound: 404,
    RunFinished: 409,
    Busy: 429,
    ShuttingDown: 503,
}


#: What a reader's page says of each refusal: a key of `errors.message` in the
#: interface tables (app/web/i18n); `{wait}` is the service's estimate in seconds.
MESSAGE_KEYS: dict[type[RunError], str] = {
    UnknownMethod: "unknown_method",
    RunNotFound: "run_not_found",
    RunFinished: "run_finished",
    QueueFull: "queue_full",
    ClientLimit: "client_limit",
    Busy: "busy",
    ShuttingDown: "shutting_down",
}


def message_key(exc: RunError) -> str | None:
    return next((MESSAGE_KEYS[c] for c in type(exc).__mro__ if c in MESSAGE_KEYS), None)


def status_of(exc: RunError) -> int:
    return next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), 400)


def retry_after(exc: RunError) -> int | None:
    return exc.wait_s if isinstance(exc, Busy) else None


def http_error(exc: RunError) -> Exception:
    """A refusal as the HTTP error that says the same thing."""
    if isinstance(exc, InvalidParams):
        return RequestValidationError(
            [
                {
                    "loc": ("body", "params", *e["field"].split(".")),
                    "msg": e["message"],
                    "type": "value_error",
                }
                for e in exc.errors
            ]
        )
    wait = retry_after(exc)
    headers = {"Retry-After": str(wait)} if wait is not None else None
    error = HTTPException(status_of(exc), exc.message, headers=headers)
    # The JSON detail stays the service's own words; a page says it in the UI's.
    error.ui_key, error.ui_values = message_key(exc), {"wait": wait}  # type: ignore[attr-defined]
    return error
