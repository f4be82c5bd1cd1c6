"""The parser's last stage: the drafts of every file (app/catalog/drafts.py) become
the catalog, with slugs settled, duplicates reported and shared notes linked."""

from __future__ import annotations

from dataclasses import replace

from app.catalog import fields, search
from app.catalog.catalog import DEFAULT_SCALE, Catalog
from app.catalog.drafts import DraftCategory, DraftPaper
from app.catalog.models import Category, Diagnostic, Paper, RatingScale


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
        authors=tuple(draft.note.authors),
    )
    return paper, diagnostics


def _populated(drafts: list[DraftPaper], categories: list[DraftCategory]) -> list[DraftCategory]:
    """The categories with a paper in them or below them, across files: an empty
    section is not a place a reader can go."""
    paths = {d.category.path[:n] for d in drafts if d.category
             for n in range(1, len(d.category.path) + 1)}  # fmt: skip
    return [c for c in categories if c.path in paths]


def build_catalog(
    drafts: list[DraftPaper],
    category_drafts: list[DraftCategory],
    scale: RatingScale,
    diagnostics: list[Diagnostic],
) -> Catalog:
    category_drafts = _populated(drafts, category_drafts)
    category_slugs = _category_slugs(category_drafts)
    diagnostics = list(diagnostics)
    papers: dict[str, Paper] = {}
    slug_of: dict[int, str] = {}  # id(draft) -> slug, for shared-note groups
    notes: dict[str, str] = {}  # slug -> the folded note, for search
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
        notes[slug] = draft.note.haystack
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
        haystacks={slug: _haystack(p, notes[slug]) for slug, p in papers.items()},
    )


def _haystack(paper: Paper, note: str) -> search.PaperHaystack:
    rest = search.SEPARATOR.join((search.fold(paper.venue_raw or ""), note))
    return search.PaperHaystack(search.fold(paper.title), rest)

