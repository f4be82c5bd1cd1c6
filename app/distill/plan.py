"""What a run's parameters ask for, read once (torch-free): the method's own
parameters, and at most one of a sweep (``sweep.py``) or a comparison with another
method's student (``versus``), both riding in the params so that they go through the
same queue, limits, token, history and CSV as any run. The run service calls
``plan`` when it admits a run, the trainer when it trains it.

A **comparison** (a note's `对比: tfkd_reg vs lsr`, or any pair of methods) trains
the comparator's method on the run's seeds after the run's own, so both see the same
splits, initial weights and batches, and pairs the two students seed by seed. The
run's seeds, data and optimiser are the comparator's too (the fields every run has:
seeds, train_fraction, epochs, batch size, learning rate, weight decay, control): it
may set its own method's parameters, never those (the pairing needs them equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.distill.methods import METHODS
from app.distill.params import LockstepParams
from app.distill.spec import Method
from app.distill.sweep import SweepError, split_sweep

#: What the comparator shares with the run, so that its seeds pair with the run's and
#: both sides get the same compute.
SHARED = tuple(LockstepParams.model_fields)


class VersusSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = Field(description="The comparator's method id.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Its parameters; its defaults fill the rest."
    )


@dataclass(frozen=True)
class Plan:
    params: BaseModel  # the run's method's parameters
    sweep: dict | None = None  # {"param", "values"}
    versus: dict | None = None  # {"method", "params"}: the comparator's, validated

    def as_params(self) -> BaseModel:
        """The run's parameters as one model whose dump is what the run stores: the
        method's own model when there is nothing else; with a sweep or a comparison,
        the same model (a subclass that lets the extras ride along)."""
        extras = self.extras()
        if not extras:
            return self.params
        riding = _riding(type(self.params))
        return riding.model_validate({**self.params.model_dump(), **extras})

    def extras(self) -> dict[str, Any]:
        """What the stored params carry beside the method's own fields."""
        out: dict[str, Any] = {}
        if self.sweep:
            out["sweep"] = self.sweep
        if self.versus:
            out["versus"] = self.versus
        return out


@cache
def _riding(cls: type[BaseModel]) -> type[BaseModel]:
    config = ConfigDict(**{**cls.model_config, "extra": "allow"})
    return type(cls.__name__, (cls,), {"model_config": config, "__module__": cls.__module__})


def comparator_params(versus: dict, run_params: BaseModel) -> BaseModel:
    """The comparator's parameter model, with the run's seeds and data."""
    shared = {name: getattr(run_params, name) for name in SHARED}
    # The comparator's own comparator arms are not this comparison's business.
    return METHODS[versus["method"]].params.model_validate(
        {**versus["params"], **shared, "arms": False})


def _versus(raw: Any, run_params: BaseModel) -> dict:
    try:
        spec = VersusSpec.model_validate(raw)
    except ValidationError as exc:
        raise SweepError("versus", exc.errors()[0]["msg"]) from None
    if spec.method not in METHODS:
        raise SweepError("versus.method", f"unknown method {spec.method!r}; known: "
                                          f"{', '.join(METHODS)}")
    shared = sorted(set(SHARED) & set(spec.params))
    if shared:
        raise SweepError("versus.params", f"{', '.join(shared)}: the run's, shared by both "
                                          "sides (same seeds, data and optimiser)")
    try:
        model = comparator_params(spec.model_dump(), run_params)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise SweepError(f"versus.params.{where}", error["msg"]) from None
    given = set(spec.params)
    return {"method": spec.method,
            "params": {k: v for k, v in model.model_dump(mode="json").items() if k in given}}


def plan(method: Method, params: dict[str, Any]) -> Plan:
    """Read a run's params. Raises ValidationError for the method's own fields and
    SweepError (with the field it concerns) for a sweep or a comparison."""
    params = dict(params)
    raw_versus = params.pop("versus", None)
    model, sweep = split_sweep(method, params)
    if raw_versus is None:
        return Plan(model, sweep)
    if sweep is not None:
        raise SweepError("versus", "a run is a sweep or a comparison, not both")
    return Plan(model, None, _versus(raw_versus, model))
