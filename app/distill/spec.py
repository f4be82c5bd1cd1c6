"""What a demo method is (torch-free): its description, parameters, claims and recipe.

Each method lives in one file under ``methods/`` that defines ``METHOD``; its
``recipe`` imports torch only when called, in the worker, so the web process can
import every method file to build forms and validate parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app.distill.claims import Claim, Versus
from app.distill.teacher_cache import TeacherSettings

# The usual control, in one line, and what a pretrained teacher adds to it.
PLAIN_CONTROL_ZH = "对照：同样初始权重、同样批次、同样步数的纯交叉熵"
PLAIN_CONTROL_EN = ("Control: plain CE from the same initial weights on the same batches "
                    "for the same steps")
TEACHER_COST_ZH = "；教师的训练是比较之外的固定成本"
TEACHER_COST_EN = "; training the teacher is a fixed cost outside the comparison"
# The control of a two-stage method (FSP, FitNets: loops.stage_one).
STAGED_CONTROL_ZH = (
    "对照按计算量匹配：从学生 stage1 之前的权重出发，在两个阶段的每个批次上都做一步交叉熵"
    "（共 stage1 + train 的步数）；教师的训练是比较之外的固定成本。"
)
STAGED_CONTROL_EN = (
    "Compute-matched control: from the student's weights before stage 1, a CE step on "
    "every batch of both stages (stage 1 + train steps in all); training the teacher is "
    "a fixed cost outside the comparison."
)


@dataclass(frozen=True)
class Method:
    id: str
    title: str
    papers: tuple[str, ...]  # arXiv ids, or the exact title when the notes give no link
    summary_zh: str
    summary_en: str
    control_zh: str  # one line: what the baseline is, and why it is a fair control
    control_en: str
    params: type[BaseModel]
    models: tuple[str, ...]  # the models a run reports, e.g. ("student", "baseline")
    recipe: Callable[[Any], Any]  # recipe(ctx: engine.Context) -> loops.Result (torch)
    # The loss the demo minimises, in one or two lines of plain Unicode (the method's
    # page shows it); z: logits, p: probabilities, F: features, T: temperature.
    formula: str = ""
    # Grids a sweep may run over, fixed in the method file before looking at results:
    # parameter name -> its points, in order (each inside the parameter's bounds).
    grids: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    # The method's parameters its control arm depends on, beyond those of every run
    # (sweep.CONTROL_COMMON); a sweep over any other parameter trains the control once.
    control_params: frozenset[str] = frozenset()
    # What its papers claim, each against a comparator (claims.py); the run trains
    # the comparator arms the claims need (``arms``) beside its own models.
    claims: tuple[Claim, ...] = ()
    # The pretrained teachers its recipe asks for at these parameters (one per seed
    # each, cached): what the demo panel says is cached and what a first run costs.
    teachers: Callable[[Any], tuple[TeacherSettings, ...]] = lambda params: ()

    @property
    def arms(self) -> tuple[Versus, ...]:
        """The other methods' students its claims are compared against, once each."""
        seen: dict[str, Versus] = {}
        for claim in self.claims:
            if claim.versus.method is not None:
                seen.setdefault(claim.versus.arm, claim.versus)
        return tuple(seen.values())

    def __post_init__(self) -> None:
        for name in ("summary_zh", "summary_en", "control_zh", "control_en"):
            object.__setattr__(self, name, " ".join(getattr(self, name).split()))
