"""What the parser finds in one notes file, before anything needs the whole
collection: notes, headings and papers as drafts (app/catalog/assemble.py settles
slugs, duplicates and shared notes across files)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.catalog.models import NoteComparison, NoteDemo


@dataclass
class Note:
    """One note block, possibly shared by several papers."""

    rating: int | None = None
    insights: list[str] = field(default_factory=list)
    demos: list[NoteDemo] = field(default_factory=list)
    comparisons: list[NoteComparison] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    html: str = ""
    line: int | None = None
    # The note's visible text, folded for search (app/catalog/search.py): done here,
    # so that the cache of parsed files holds it too.
    haystack: str = ""


@dataclass
class DraftCategory:
    """A heading as found in the file; slugs are settled across files later."""

    title: str
    path: tuple[str, ...]
    depth: int
    file: str
    line: int
    description: str = ""
    parent: DraftCategory | None = None  # the enclosing heading, structural or not
    # The file's title heading or a table of contents: it names or indexes the
    # notes, so it never becomes a category nor a part of a section's path.
    structural: bool = False


@dataclass
class DraftPaper:
    """A paper as found in the file, before slugs and duplicates are settled."""

    title: str
    url: str
    venue_text: str | None
    file: str
    line: int
    category: DraftCategory | None
    note: Note = field(default_factory=Note)
    group: list[DraftPaper] = field(default_factory=list)
