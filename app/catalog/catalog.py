"""The catalog: papers and categories with stable slugs, and what needs the whole
collection to decide (duplicates, shared notes, mentions)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from app.catalog import fields
from app.catalog.models import (
    Category,
    Diagnostic,
    MethodRef,
    Paper,
    RatingLevel,
    RatingScale,
)

if TYPE_CHECKING:
    from app.catalog.parser import DraftCategory, DraftPaper

# Used when no notes file carries a legend of its own.
DEFAULT_SCALE = RatingScale(tuple(RatingLevel(n, f"{n}分") for n in range(5, 0, -1)))
_MIN_MENTION_LENGTH = 8  # shorter titles ("MSD") match too much ordinary text


@dataclass
class Catalog:
    papers: dict[str, Paper]  # by slug, in file order
    categories: dict[str, Category]  # by slug, in file order
    rating_scale: RatingScale
    diagnostics: list[Diagnostic]
    search_text: dict[str, str] = field(repr=False)  # slug -> lower-cased searchable text
    _mentions: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    # Values derived from the catalog alone (such as unfiltered facet counts), computed
    # on first use; a new parse makes a new Catalog, so they never go stale.
    derived: dict = field(default_factory=dict, repr=False)
    title: str | None = None  # the notes' own top heading (`# 论文阅读笔记`), if any

    def paper(self, slug: str) -> Paper | None:
        return self.papers.get(slug)

    def category(self, slug: str) -> Category | None:
        return self.categories.get(slug)

    def subcategory_slugs(self, slug: str) -> set[str]:
        """The category and every category below it."""
        root = self.categories[slug].path
        return {c.slug for c in self.categories.values() if c.path[: len(root)] == root}

    def papers_in(self, slug: str) -> list[Paper]:
        return [p for p in self.papers.values() if p.category == slug]

    def neighbours(self, paper: Paper) -> tuple[Paper | None, Paper | None]:
        """Previous and next paper in the same category, in file order."""
        siblings = self.papers_in(paper.category) if paper.category else [paper]
        index = next(i for i, p in enumerate(siblings) if p.slug == paper.slug)
        previous = siblings[index - 1] if index > 0 else None
        following = siblings[index + 1] if index + 1 < len(siblings) else None
        return previous, following

    def unknown_demos(self, known: Collection[str]) -> list[Diagnostic]:
        """Demo bullets naming a method id outside `known`, at the bullet's line. The
        caller passes the registry's ids: the catalog stays free of the methods."""
        found: dict[tuple[str, int, str], Diagnostic] = {}  # a shared note counts once
        for paper in self.papers.values():
            for demo in paper.note_demos:
                key = (paper.file, demo.line, demo.method)
                if demo.method not in known and key not in found:
                    message = f"unknown demo method {demo.method!r}; known: {', '.join(known)}"
                    found[key] = Diagnostic(paper.file, demo.line, "error", message)
        return list(found.values())

    def bad_comparisons(self, check: Callable[[MethodRef], str | None]) -> list[Diagnostic]:
        """`对比:` bullets with a side that `check` refuses (an unknown id or parameter,
        a value out of range), at the bullet's line. `check` is the registry's, passed
        in by the caller, as for unknown_demos."""
        found: dict[tuple[str, int], Diagnostic] = {}  # a shared note counts once
        for paper in self.papers.values():
            for comparison in paper.note_comparisons:
                key = (paper.file, comparison.line)
                problems = [check(side) for side in (comparison.method, comparison.against)]
                message = "; ".join(p for p in problems if p)
                if message and key not in found:
                    found[key] = Diagnostic(paper.file, comparison.line, "error", message)
        return list(found.values())

    def mentions(self, paper: Paper) -> tuple[str, ...]:
        """Other papers whose title the note names (case-insensitive), computed on demand:
        one note against every title is cheap, every note against every title is not."""
        if paper.slug not in self._mentions:
            text = self.search_text[paper.slug]
            skip = {paper.slug, *paper.shares_notes_with}
            self._mentions[paper.slug] = tuple(
                other.slug
                for other in self.papers.values()
                if other.slug not in skip
                and len(other.title) >= _MIN_MENTION_LENGTH
                and other.title.lower() in text
            )
        return self._mentions[paper.slug]


def _category_slugs(drafts: list[DraftCategory]) -> dict[tuple[str, ...], str]:
    """One slug per category path; the title alone when it is unique."""
    slugs: dict[tuple[str, ...], str] = {}
    taken: set[str] = set()
    for draft in drafts:
        if draft.path in slugs:
            continue
        slug = fields.slugify(draft.title, fallback_prefix="c")
        if slug in taken:
            slug = fields.slugify(" ".join(draft.path), fallback_prefix="c")
        base, n = slug, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        slugs[draft.path] = slug
        taken.add(slug)
    return slugs


def _build_categories(
    drafts: list[DraftCategory], slugs: dict[tuple[str, ...], str]
) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for draft in drafts:
        slug = slugs[draft.path]
        if slug in categories:  # the same section continued in another file
            continue
        categories[slug] = Category(
            slug=slug,
            title=draft.title,
            path=draft.path,
            parent=slugs.get(draft.path[:-1]),
            description=draft.description,
            file=draft.file,
            line=draft.line,
            depth=len(draft.path),
        )
    return categories


def _paper_slug(draft: DraftPaper) -> tuple[str, str | None]:
    arxiv = fields.arxiv_id(draft.url)
    return (arxiv or fields.slugify(draft.title, fallback_prefix="p")), arxiv


def _build_paper(
    draft: DraftPaper, slug: str, arxiv: str | None, order: int, category_slugs: dict
) -> tuple[Paper, list[Diagnostic]]:
    diagnostics = []
    venue = fields.parse_venue(draft.venue_text) if draft.venue_text else None
    if draft.venue_text and venue is None:
        diagnostics.append(
            Diagnostic(draft.file, draft.line, "warning", f"unreadable venue {draft.venue_text!r}")
        )
    if draft.note.rating is None:
        diagnostics.append(Diagnostic(draft.file, draft.line, "warning", "paper has no rating"))
    year = venue.year if venue and venue.year else None
    if year is None and arxiv:
        year = fields.arxiv_year(arxiv)
    category = draft.category
    paper = Paper(
        slug=slug,
        title=draft.title,
        url=draft.url,
        venue=venue.venue if venue else None,
        year=year,
        status=venue.status if venue else None,
        rating=draft.note.rating,
        category=category_slugs[category.path] if category else None,
        category_path=category.path if category else (),
        insights=tuple(draft.note.insights),
        notes_html=draft.note.html,
        file=draft.file,
        line=draft.line,
        order=order,
        arxiv_id=arxiv,
        venue_raw=draft.venue_text,
        note_demos=tuple(draft.note.demos),
        note_comparisons=tuple(draft.note.comparisons),
    )
    return paper, diagnostics


def build_catalog(
    drafts: list[DraftPaper],
    category_drafts: list[DraftCategory],
    scale: RatingScale,
    diagnostics: list[Diagnostic],
) -> Catalog:
    category_slugs = _category_slugs(category_drafts)
    diagnostics = list(diagnostics)
    papers: dict[str, Paper] = {}
    slug_of: dict[int, str] = {}  # id(draft) -> slug, for shared-note groups
    for draft in drafts:
        slug, arxiv = _paper_slug(draft)
        if slug in papers:
            first = papers[slug]
            diagnostics.append(
                Diagnostic(
                    draft.file,
                    draft.line,
                    "warning",
                    f"duplicate of {first.title!r} at {first.source}; the first entry is kept",
                )
            )
            continue
        paper, found = _build_paper(draft, slug, arxiv, len(papers), category_slugs)
        papers[slug] = paper
        slug_of[id(draft)] = slug
        diagnostics += found
    for draft in drafts:
        slug = slug_of.get(id(draft))
        if slug and len(draft.group) > 1:
            others = tuple(
                slug_of[id(d)] for d in draft.group if d is not draft and id(d) in slug_of
            )
            papers[slug] = replace(papers[slug], shares_notes_with=others)
    return Catalog(
        papers=papers,
        categories=_build_categories(category_drafts, category_slugs),
        rating_scale=scale if scale.levels else DEFAULT_SCALE,
        diagnostics=sorted(diagnostics, key=lambda d: (d.file, d.line)),
        search_text={slug: _search_text(p) for slug, p in papers.items()},
    )


def _search_text(paper: Paper) -> str:
    parts = [paper.title, paper.venue_raw or "", *paper.insights]
    return "\n".join(parts).lower()
