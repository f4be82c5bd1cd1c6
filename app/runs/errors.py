"""What the run service refuses, and why: plain domain exceptions. The web maps
them to HTTP (app/web/run_errors.py, one table); none carries a traceback."""

from __future__ import annotations


class RunError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownMethod(RunError):
    pass


class InvalidParams(RunError):
    def __init__(self, errors: list[dict[str, str]]):
        fields = ", ".join(e["field"] for e in errors)
        super().__init__(f"invalid parameters: {fields}")
        self.errors = errors  # [{"field": "epochs", "message": "..."}]


class RunNotFound(RunError):
    pass


class RunFinished(RunError):
    """Cancelling a run that has already ended."""


class Busy(RunError):
    """The queue is full, or this client holds as many runs as it may."""

    def __init__(self, message: str, wait_s: int):
        super().__init__(message)
        self.wait_s = wait_s  # the service's estimate of when a place frees up


class QueueFull(Busy):
    pass


class ClientLimit(Busy):
    def __init__(self, message: str, wait_s: int, held: int = 0, limit: int = 0):
        super().__init__(message, wait_s)
        self.held, self.limit = held, limit  # for a page that says it in its own words


class ShuttingDown(RunError):
    pass
