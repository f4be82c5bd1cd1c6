"""What the trainer makes, typed where it is made: its events and its summary.

Torch-free (pydantic only): the run service, the web and the CLI import these
models to read what a run reported. The engine and the summarising code build
them; ``emit`` gets a model, never a dict literal. The wire format (the JSON the
browser and docs/contracts.md know) is what ``wire()`` gives: the fields that were
set, ``type`` always.

A summary carries a ``version``; ``upgrade_summary`` reads a stored summary of any
earlier shape (see ``SUMMARY_VERSION``) into the current one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from app.distill.stats import PairedStats

#: 0: before seeds (plain numbers, and best-epoch accuracies chosen on test, dropped
#: here); 1: per-seed results and paired statistics, no version field; 2: versioned,
#: with the named comparisons.
SUMMARY_VERSION = 2

# int | float, in that order: a whole number stays one on the wire.
Number = int | float
PerSeed = list[Number | None]  # one value per seed; null where a value was NaN


# -- events ----------------------------------------------------------------------


class BaseEvent(BaseModel):
    # extra="allow": a trainer may add a field (a new loss term's detail) without a
    # contract change; the ones named here are checked.
    model_config = ConfigDict(extra="allow", frozen=True)

    t: float | None = Field(None, description="Unix seconds, stamped at emit.")

    def wire(self) -> dict[str, Any]:
        """The event as JSON sends it: what was set, `type` always."""
        return {"type": self.type, **self.model_dump(mode="json", exclude_unset=True)}


class PhaseEvent(BaseEvent):
    type: Literal["phase"] = "phase"
    phase: str
    state: Literal["start", "end"]
    epochs: int | None = None
    steps: int | None = None
    seeds: list[int] | None = None
    #: A teacher phase's start: the seconds its teachers should take, from the cost
    #: recorded the last time they trained on this device (unset: unknown).
    estimate_s: float | None = None
    #: Every phase start of a run: the steps of the run's own phases (its models' and
    #: arms', teachers not counted) from first to last, and the seconds they should
    #: take from their recorded cost (unset: unknown).
    run_steps: int | None = None
    run_estimate_s: float | None = None


#: model name → metric name → one value per seed (a plain number in runs stored
#: before seeds existed).
MetricGroups = dict[str, dict[str, PerSeed | Number | None]]


class MetricEvent(BaseEvent):
    type: Literal["metric"] = "metric"
    kind: Literal["step", "epoch"]
    phase: str | None = None
    epoch: int | None = None
    epochs: int | None = None
    step: int | None = None
    steps: int | None = None
    losses: MetricGroups | None = None  # step events: each model's loss terms
    models: MetricGroups | None = None  # epoch events: validation acc and loss


class LogEvent(BaseEvent):
    type: Literal["log"] = "log"
    level: str = "info"
    message: str


# -- the summary -----------------------------------------------------------------


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True)


class SplitSizes(_Part):
    """Digits per seed in each part of its split."""

    train: int
    val: int
    test: int


class SeedResults(_Part):
    """One model's accuracies, one value per seed (fractions)."""

    test_acc: PerSeed = Field(description="Test accuracy of the final model.")
    val_acc: PerSeed = Field(default_factory=list, description="Its last validation score.")
    best_val_epoch: list[int] = Field(
        default_factory=list, description="The epoch of the best validation accuracy.")
    best_val_test_acc: PerSeed = Field(
        default_factory=list, description="Test accuracy at that epoch (chosen on validation).")


class Paired(_Part):
    """The JSON form of `stats.PairedStats`: the per-seed Δ (method − comparator),
    their summary, the verdict from the 95% CI alone, and both labels."""

    deltas: list[float]
    n: int
    mean: float
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    wins: int
    ties: int
    losses: int
    verdict: str
    label_en: str = ""
    label_zh: str = ""
    confidence: float = 0.95

    @classmethod
    def of(cls, stats: PairedStats) -> Paired:
        return cls(**stats.as_dict())

    def stats(self) -> PairedStats:
        """The statistics again (their labels are derived from the verdict)."""
        fields = self.model_dump(exclude={"label_en", "label_zh"})
        return PairedStats(**{**fields, "deltas": tuple(self.deltas)})


class Comparator(_Part):
    """What an arm is compared against: a model of the same run (``model``), or
    another method with its parameters (``method`` and ``params``)."""

    model: str | None = None
    method: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class Swept(_Part):
    """The parameter a sweep varies, and its value at this point; ``in_range``:
    whether the claim's paper makes it at that value."""

    param: str
    value: Number | str | bool
    in_range: bool | None = None


Verdict = Literal["supported", "contradicted", "not_shown", "no_verdict"]


class Text(_Part):
    """A reader-facing string in both languages."""

    zh: str = ""
    en: str = ""


class Comparison(_Part):
    """A named claim checked on this run (``claims.judged``): ``arm`` against
    ``comparator``, better, worse or comparable within ``margin`` points, from the
    paired per-seed Δ (fractions). No verdict below 3 seeds, from a zero-width
    interval, or without the comparator's arm: ``reason`` says which."""

    claim: str = ""
    statement: Text = Field(default_factory=Text)
    versus: Text = Field(default_factory=Text, description="The comparator, named.")
    where: str = ""
    paper: str = ""
    arm: str
    comparator: Comparator
    direction: Literal["better", "worse", "comparable"]
    margin: float = 0.0
    deltas: list[float]
    n: int = 0
    mean: float | None
    sd: float | None = None
    ci_low: float | None
    ci_high: float | None
    verdict: Verdict
    reason: str | None = None
    #: The verdict after a multiple-comparison adjustment (Holm) across the claims
    #: shown together; None where none was made.
    adjusted_verdict: Verdict | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    outcome: Literal["supported", "contradicted"] | None = None
    label: Text = Field(default_factory=Text)
    adjusted_label: Text = Field(default_factory=Text)
    swept: Swept | None = None


class VersusResult(_Part):
    """A run of a method against another one (a note's `对比:`): the comparator's
    student trained on the same seeds, the paired Δ (method − comparator) and its
    judgement as "the method is better"."""

    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    label: str = ""
    student: SeedResults
    final_acc: float | None = None
    delta: Paired
    delta_best_val: Paired | None = None
    judgement: dict[str, Any] = Field(default_factory=dict)
    controls_equal: bool | None = Field(
        None, description="Whether both runs' CE controls gave the same numbers.")


class Summary(BaseModel):
    """A run's result (the payload of its `done` event): every model's per-seed
    accuracies, the paired Δ of the student against its baseline, the split and
    the wall time. Means are over seeds; accuracies are fractions."""

    # extra="allow", as for events: a trainer may report more; the fields named
    # here are checked.
    model_config = ConfigDict(extra="allow", frozen=True)

    version: int = Field(SUMMARY_VERSION, description="The shape's version (see events.py).")
    method: str = ""
    seeds: list[int] = Field(default_factory=list)
    split: SplitSizes | None = None
    final_acc: float | None = Field(None, description="The student's mean test accuracy.")
    baseline_final_acc: float | None = None
    delta_acc: float | None = Field(None, description="Mean Δ, student − baseline.")
    teacher_acc: float | None = None
    models: dict[str, float | None] = Field(
        default_factory=dict, description="Mean test accuracy of every model.")
    per_seed: dict[str, SeedResults] = Field(default_factory=dict)
    delta: Paired | None = Field(None, description="Student vs baseline, final models.")
    delta_best_val: Paired | None = Field(
        None, description="The same, each model at its best validation epoch.")
    wall_s: float | None = None
    comparisons: list[Comparison] = Field(default_factory=list)
    versus: VersusResult | None = Field(
        None, description="Set on a run of one method against another (a note's comparison).")
    sweep: SweepResult | None = Field(
        None, description="Set on a sweep: every point's summary and their judgements.")

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "version" in data:
            return data
        # Versions 0 and 1 carry no version field. Version 0's best-epoch accuracies
        # were chosen on test: nothing reads them, and they are not carried over.
        old = {k: v for k, v in data.items() if k not in ("best_acc", "baseline_best_acc")}
        return {**old, "version": SUMMARY_VERSION}

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)

    def accuracies(self, model: str) -> PerSeed:
        """A model's per-seed final test accuracies; empty if it has none."""
        results = self.per_seed.get(model)
        return results.test_acc if results is not None else []


class SweepPoint(Summary):
    """One grid point's summary, with the swept parameter's value there."""

    value: Number | str | bool


class LinePoint(_Part):
    """The student's Δ against one comparator at one point (fractions), its p-value
    raw and Holm-adjusted across the points, and both verdicts (``POINT_VERDICTS``)."""

    value: Number | str | bool
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p: float | None = None
    p_holm: float | None = None
    reason: str | None = None
    verdict_raw: str = "no_verdict"
    verdict_holm: str = "no_verdict"


class SweepLine(_Part):
    """One comparator's line on the sweep's chart."""

    arm: str
    versus: Text = Field(default_factory=Text)
    points: list[LinePoint]


class SweptComparison(Comparison):
    """A claim judged at one point of a sweep; ``in_range``: whether the point lies in
    the range the claim's paper names (None: the claim names no range of it)."""

    in_range: bool | None = None


class SweepClaim(_Part):
    """One of the method's claims over the points, Holm-adjusted across them."""

    claim: str
    comparator: str
    versus: Text = Field(default_factory=Text)
    statement: Text = Field(default_factory=Text)
    points: list[SweptComparison]


class SweepResult(_Part):
    """A sweep's result: the grid, the arms trained once and reused at every point,
    each point's summary, one line per comparator and the claims over the points."""

    param: str
    values: list[Number | str | bool]
    reused: list[str] = Field(default_factory=list)
    points: list[SweepPoint]
    lines: list[SweepLine] = Field(default_factory=list)
    claims: list[SweepClaim] = Field(default_factory=list)
    family_alpha: float = 0.05
    adjustment: Literal["holm"] = "holm"


Summary.model_rebuild()


def upgrade_summary(stored: Summary | dict[str, Any] | None) -> Summary | None:
    """A stored summary of any earlier shape as the current one (None stays None);
    pydantic.ValidationError if it is no summary at all."""
    if stored is None or isinstance(stored, Summary):
        return stored
    return Summary.model_validate(stored)


class DoneEvent(BaseEvent):
    type: Literal["done"] = "done"
    summary: Summary | None = None


TrainerEvent = Annotated[PhaseEvent | MetricEvent | LogEvent | DoneEvent,
                         Field(discriminator="type")]
_TRAINER_EVENT = TypeAdapter(TrainerEvent)


def as_event(event: Any) -> TrainerEvent:
    """A trainer's event as its model: a model is taken as it is, a dict (from a
    trainer written against the JSON form) is checked."""
    if isinstance(event, BaseEvent):
        return event
    return _TRAINER_EVENT.validate_python(event)
