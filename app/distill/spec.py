"""What a demo method is (torch-free): its description, parameters and recipe.

Each method lives in one file under ``methods/`` that defines ``METHOD``; its
``recipe`` imports torch only when called, in the worker, so the web process can
import every method file to build forms and validate parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


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

    def __post_init__(self) -> None:
        for name in ("summary_zh", "summary_en", "control_zh", "control_en"):
            object.__setattr__(self, name, " ".join(getattr(self, name).split()))
