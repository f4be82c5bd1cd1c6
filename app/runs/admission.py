"""Admission: a launch's parameters checked once, by the method's own model, and
the service's bounds (the queue, each client's share) decided in the store's one
transaction, so that they hold across replicas."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from app.distill.plan import plan  # torch-free
from app.distill.sweep import SweepError
from app.runs.contract import RunRecord
from app.runs.errors import ClientLimit, InvalidParams, QueueFull, UnknownMethod
from app.runs.store import Retention, RunStore

if TYPE_CHECKING:
    from app.settings import Settings


@dataclass(frozen=True)
class RunLimits:
    """The service's knobs, read once from Settings (tests override a few)."""

    concurrency: int = 1  # runs that train at the same time
    queue_size: int = 16  # runs that may wait beyond those
    per_client: int = 4  # runs one client may hold, queued or running
    warm_workers: int = 1
    warm_delay: float = 0.5  # seconds after start before the warm worker spawns
    subscriber_queue: int = 1024  # events one viewer may have pending
    batch_limit: int = 256  # events stored in one transaction
    retention: Retention = field(default_factory=Retention)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RunLimits:
        limits = cls(
            concurrency=settings.run_concurrency,
            queue_size=settings.run_queue_size,
            per_client=settings.run_queue_per_client,
            warm_workers=settings.run_warm_workers,
            retention=Retention(settings.run_retention_days, settings.run_max_stored),
        )
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown run limits: {', '.join(sorted(unknown))}")
        return replace(limits, **overrides)


def check_params(methods: Mapping[str, Any], method: str, params: Any) -> BaseModel:
    """The method's parameters, checked by its parameter model and completed with
    defaults: the one check a launch's parameters get (the web calls it at the
    edge; the worker loads their JSON into the same model)."""
    spec = methods.get(method)
    if spec is None:
        raise UnknownMethod(f"unknown method {method!r}; known: {', '.join(methods)}")
    if isinstance(params, spec.params):
        return params
    if not isinstance(params, dict):
        raise InvalidParams([{"field": "params", "message": "must be an object"}])
    try:
        # A sweep or a comparison rides in the params: queue, limits, history and
        # CSV take it as they take any run.
        return plan(spec, params).as_params()
    except ValidationError as exc:
        raise InvalidParams(field_errors(exc)) from None
    except SweepError as exc:
        raise InvalidParams([{"field": exc.field, "message": str(exc)}]) from None


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Each problem's field and message, with pydantic's type and its bound (`ctx`), so
    a page can say the problem in its reader's language."""
    bounds = ("ge", "gt", "le", "lt")
    return [
        {
            "field": ".".join(str(part) for part in err["loc"]) or "params",
            "message": err["msg"],
            "type": err["type"],
            "ctx": {k: v for k, v in (err.get("ctx") or {}).items() if k in bounds},
        }
        for err in exc.errors()
    ]


class Admission:
    """The bounds on what may wait or run, and how long a refused client should wait."""

    def __init__(self, limits: RunLimits):
        self.limits = limits

    def admit(self, store: RunStore, record: RunRecord, *, held_here: bool,
              waiting: int) -> None:
        """Insert the queued run, or raise QueueFull / ClientLimit (`waiting`: runs
        queued in this process, for the estimate of the wait)."""
        limits = self.limits
        refused = store.admit(
            record, capacity=limits.concurrency + limits.queue_size,
            per_client=limits.per_client, held_here=held_here,
        )  # fmt: skip
        if refused is None:
            return
        wait = self.expected_wait(store, waiting)
        if refused.reason == "queue_full":
            raise QueueFull(
                f"the queue is full ({limits.queue_size} runs waiting); try again later", wait
            )
        raise ClientLimit(
            f"you already have {refused.held} runs queued or running"
            f" (at most {limits.per_client})",
            wait,
            held=refused.held,
            limit=limits.per_client,
        )

    def expected_wait(self, store: RunStore, waiting: int) -> int:
        """Seconds until a place is likely free: the mean run time of recent runs."""
        mean = store.mean_duration()
        estimate = (mean or 30.0) * (waiting + 1) / self.limits.concurrency
        return max(1, min(3600, math.ceil(estimate)))
