"""Typed records the notes parse into. Plain frozen dataclasses: cheap to build
by the thousand, and FastAPI serialises them as they are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something odd in a notes file, pointing at the line that caused it."""

    file: str
    line: int
    level: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.level}: {self.message}"


@dataclass(frozen=True, slots=True)
class RatingLevel:
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class RatingScale:
    """The file's own legend (`- 5分：值得反复阅读的论文…`), highest first."""

    levels: tuple[RatingLevel, ...] = ()

    def label(self, value: int | None) -> str | None:
        for level in self.levels:  # a loop, not next(genexpr): every card calls this
            if level.value == value:
                return level.label
        return None

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(lv.value for lv in self.levels)


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    title: str
    path: tuple[str, ...]  # titles from the top heading down to this one
    parent: str | None  # slug of the parent category
    description: str  # the blockquote right under the heading, as text
    file: str
    line: int
    depth: int


@dataclass(frozen=True, slots=True)
class NoteDemo:
    """A demo method id from a note's `演示: kd` / `demo: kd` bullet, and that bullet's
    line. The catalog does not know the methods: the web and `notes check` resolve it."""

    method: str
    line: int


@dataclass(frozen=True, slots=True)
class MethodRef:
    """One side of a note's comparison: a method id and the parameters it sets, as
    written (`byot(alpha=0, feature_weight=0)`); the registry checks both."""

    method: str
    params: tuple[tuple[str, bool | int | float | str], ...] = ()

    @property
    def params_dict(self) -> dict[str, bool | int | float | str]:
        return dict(self.params)

    def __str__(self) -> str:
        if not self.params:
            return self.method
        args = ", ".join(f"{name}={value!r}".replace("'", "") for name, value in self.params)
        return f"{self.method}({args})"


@dataclass(frozen=True, slots=True)
class NoteComparison:
    """A note's `对比: tfkd_reg vs lsr` / `compare: ...` bullet: the note claims (or
    doubts) something of `method` against `against`, to be run and judged like a
    paper's claim. `line` is the bullet's, for diagnostics."""

    method: MethodRef
    against: MethodRef
    line: int

    def __str__(self) -> str:
        return f"{self.method} vs {self.against}"


@dataclass(frozen=True, slots=True)
class Paper:
    slug: str
    title: str
    url: str
    venue: str | None
    year: int | None
    status: str | None  # oral, spotlight, under review...
    rating: int | None
    category: str | None  # category slug
    category_path: tuple[str, ...]
    insights: tuple[str, ...]  # each insight as plain text, for listing and search
    notes_html: str  # the whole note, rendered and sanitised
    file: str
    line: int
    order: int  # position in file order across all notes files
    arxiv_id: str | None = None
    venue_raw: str | None = None
    shares_notes_with: tuple[str, ...] = ()
    note_demos: tuple[NoteDemo, ...] = ()  # methods the note binds, as written there
    note_comparisons: tuple[NoteComparison, ...] = ()  # the note's `对比:` bullets
    authors: tuple[str, ...] = ()  # from the note's `作者:` / `authors:` bullet, as written
    # When the paper came into the notes and last changed (app/catalog/dates.py);
    # None until the live catalog dates it.
    added: dt.datetime | None = None
    updated: dt.datetime | None = None

    @property
    def demo_ids(self) -> tuple[str, ...]:
        return tuple(demo.method for demo in self.note_demos)

    @property
    def first_insight(self) -> str | None:
        return self.insights[0] if self.insights else None

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"
