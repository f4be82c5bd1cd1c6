"""The catalog: papers and categories with stable slugs, and what is asked of the
whole collection (lookups, mentions). app/catalog/assemble.py builds it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from app.catalog.models import Category, Diagnostic, MethodRef, Paper, RatingLevel, RatingScale
from app.catalog.search import PaperHaystack

# Used when no notes file carries a legend of its own.
DEFAULT_SCALE = RatingScale(tuple(RatingLevel(n, f"{n}分") for n in range(5, 0, -1)))
_MIN_MENTION_LENGTH = 8  # shorter titles ("MSD") match too much ordinary text


@dataclass
class Catalog:
    papers: dict[str, Paper]  # by slug, in file order
    categories: dict[str, Category]  # by slug, in file order
    rating_scale: RatingScale
    diagnostics: list[Diagnostic]
    haystacks: dict[str, PaperHaystack] = field(default_factory=dict, repr=False)  # search
    _mentions: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    # Values derived from the catalog alone (such as unfiltered facet counts), computed
    # on first use; a new parse makes a new Catalog, so they never go stale.
    derived: dict = field(default_factory=dict, repr=False)
    title: str | None = None  # the notes' own top heading (`# 论文阅读笔记`), if any
    # Changes whenever anything a page shows of the notes does (app/catalog/live.py
    # sets it): validators (ETags) and the live preview compare it.
    fingerprint: str = ""

    def paper(self, slug: str) -> Paper | None:
        return self.papers.get(slug)

    def category(self, slug: str) -> Category | None:
        return self.categories.get(slug)

    def category_label(self, slug: str) -> str:
        """A section's own heading; where two share a heading, as many of their
        parents' headings before it as tell them apart (`Logits / Self-KD`)."""
        labels = self.derived.get("category_labels")
        if labels is None:
            labels = _category_labels(list(self.categories.values()))
            self.derived["category_labels"] = labels
        return labels[slug]

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
            text = mention_text(paper)
            skip = {paper.slug, *paper.shares_notes_with}
            self._mentions[paper.slug] = tuple(
                other.slug
                for other in self.papers.values()
                if other.slug not in skip
                and len(other.title) >= _MIN_MENTION_LENGTH
                and other.title.lower() in text
            )
        return self._mentions[paper.slug]


def mention_text(paper: Paper) -> str:
    """The lower-cased title, venue and insights that mentions() looks in."""
    return "\n".join([paper.title, paper.venue_raw or "", *paper.insights]).lower()


def _category_labels(categories: list[Category]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for category in categories:
        namesakes = [c.path for c in categories if c.title == category.title]
        depth = 1
        while depth < len(category.path) and sum(
            p[-depth:] == category.path[-depth:] for p in namesakes
        ) > 1:
            depth += 1
        labels[category.slug] = " / ".join(category.path[-depth:])
    return labels
