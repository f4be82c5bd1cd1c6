"""What the run service refuses, and why. Each error knows its HTTP status, so the
web layer maps them without a table of its own; none carries a traceback."""

from __future__ import annotations


class RunError(Exception):
    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownMethod(RunError):
    status_code = 404


class InvalidParams(RunError):
    status_code = 422

    def __init__(self, errors: list[dict[str, str]]):
        fields = ", ".join(e["field"] for e in errors)
        super().__init__(f"invalid parameters: {fields}")
        self.errors = errors  # [{"field": "epochs", "message": "..."}]


class RunNotFound(RunError):
    status_code = 404


class RunFinished(RunError):
    """Cancelling a run that has already ended."""

    status_code = 409


class Busy(RunError):
    """The queue is full, or this client holds as many runs as it may."""

    status_code = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class QueueFull(Busy):
    pass


class ClientLimit(Busy):
    pass


class ShuttingDown(RunError):
    status_code = 503
