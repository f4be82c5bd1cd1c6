"""The comparator arms a method's claims need, trained in the same run (torch).

An arm is another method's student (``claims.Versus``): that method's recipe, at its
defaults, run on this run's seeds with this run's data and optimiser settings and
no control of its own. Seed for seed it has the split, initial weights, batch order
and cached teacher of the comparator method's own run, so its per-seed numbers are
that run's (a test checks it) and the claim's Δ is paired exactly. Its events go
out under the phase ``arm <method>: <phase>`` and the model name ``Versus.arm``.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from app.distill.claims import Versus
from app.distill.engine import Context, Emitter
from app.distill.events import BaseEvent, MetricEvent, PhaseEvent
from app.distill.loops import Result
from app.distill.methods import METHODS

# What an arm takes from the run: the data, the optimiser and the teacher's recipe.
CARRIED = ("seed", "seeds", "train_fraction", "batch_size", "lr", "weight_decay",
           "teacher_epochs")


def arm_params(params: BaseModel, versus: Versus) -> BaseModel:
    """The comparator's parameters: its defaults, the run's data and optimiser, as
    many epochs of steps as the run's student (a two-stage method's stage 1
    included), no control, no arms of its own. ValidationError where that is out of
    the comparator's bounds."""
    other = METHODS[versus.method].params
    values = {k: getattr(params, k) for k in CARRIED
              if k in other.model_fields and hasattr(params, k)}
    values["epochs"] = params.epochs + getattr(params, "stage1_epochs", 0)
    return other.model_validate({**values, **versus.params, "baseline": False,
                                 "arms": False})


def _renamed(event: BaseEvent, versus: Versus) -> BaseEvent:
    """An arm's event as the run reports it: its phase prefixed; in its training
    phases its student renamed and every other model (its frozen teacher, extra
    exits) left out. A teacher it trains (none cached yet) keeps its own names."""
    if not isinstance(event, PhaseEvent | MetricEvent) or event.phase is None:
        return event
    update: dict = {"phase": f"arm {versus.method}: {event.phase}"}
    if event.phase != "teacher":
        for key in ("losses", "models"):
            groups = getattr(event, key, None)
            if groups is not None:
                update[key] = {versus.arm: groups["student"]} if "student" in groups else {}
    return event.model_copy(update=update)


def train_arms(method_id: str, ctx: Context) -> dict[str, Result]:
    """Train every arm the method's claims need (none if ``arms`` is off): arm name →
    its result."""
    method = METHODS[method_id]
    if not getattr(ctx.params, "arms", False):
        return {}
    results = {}
    for versus in method.arms:
        try:
            params = arm_params(ctx.params, versus)
        except ValidationError as err:
            ctx.emitter.log(f"comparator arm {versus.arm} not trained: its parameters are "
                            f"out of bounds ({err.error_count()} error(s))", level="warning")
            continue
        ctx.emitter.log(f"comparator arm {versus.arm}: {versus.method} at its defaults on the "
                        "same seeds, splits, initial weights and batches")
        arm_ctx = Context(params, ctx.seeds, ctx.split, ctx.device, ctx.data_dir,
                          Emitter(lambda e, v=versus, emit=ctx.emitter.emit:
                                  emit(_renamed(e, v))), ctx.shared)
        results[versus.arm] = METHODS[versus.method].recipe(arm_ctx)
    return results
