"""The registry of demos (torch-free): one file per method in this package, each
defining ``METHOD``. Adding a method: write its file, add its name to ``NAMES``.

The web process imports this package to build forms and validate parameters, so no
method file may import torch at module level (a test checks it in a subprocess).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from importlib import import_module
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.distill.methods.tfkd_reg import tfkd_virtual_teacher
from app.distill.spec import Method

NAMES = [
    "baseline",
    "kd",
    "lsr",
    "tfkd_self",
    "tfkd_reg",
    "sp",
    "fsp",
    "cskd",
    "byot",
    "msd",
    "dml",
    "fitnets",
    "at",
    "nst",
    "pkt",
    "rkd",
    "vid",
    "crd",
    "dkd",
    "ls_teacher",
    "conf_penalty",
]

METHODS: dict[str, Method] = {
    m.id: m for m in (import_module(f"{__name__}.{name}").METHOD for name in NAMES)
}

__all__ = ["METHODS", "Method", "RunConfig", "methods_for_paper", "tfkd_virtual_teacher"]


def _arxiv_core(arxiv_id: str) -> str:
    return re.sub(r"v\d+$", "", arxiv_id.strip().lower().removeprefix("arxiv:"))


def _title_key(title: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", title.casefold())


def methods_for_paper(
    arxiv_id: str | None, title: str, demos: Collection[str] = ()
) -> list[Method]:
    """The methods that demo a paper, matched by arXiv id (version suffix ignored) or,
    for papers without one, by title (case, spaces and punctuation ignored), plus the
    method ids in `demos` (the note's `演示: kd` bullet; unknown ids are ignored).
    Registry order either way."""
    keys = set()
    if arxiv_id:
        keys.add(_arxiv_core(arxiv_id))
    if title and _title_key(title):
        keys.add(_title_key(title))
    found = []
    for method in METHODS.values():
        own = {_arxiv_core(x) for x in method.papers} | {_title_key(x) for x in method.papers}
        if own & keys or method.id in demos:
            found.append(method)
    return found


class RunConfig(BaseModel):
    """One run: the method, its raw parameters (validated by the trainer against the
    method's model), where teacher checkpoints live, and where to train."""

    model_config = ConfigDict(extra="forbid")

    method: str
    params: dict = Field(default_factory=dict)
    data_dir: Path
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = Field(0, ge=0, le=64, description="torch threads (0: leave torch's default).")

    @field_validator("method")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METHODS:
            raise ValueError(f"unknown method {value!r}; known: {', '.join(METHODS)}")
        return value
