"""View models: one call per screen, shared by the HTML page and its JSON twin."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from app.catalog import export
from app.catalog.catalog import Catalog
from app.catalog.models import Category, MethodRef, NoteComparison, Paper
from app.distill.methods import Method  # torch-free by contract
from app.web.bindings import method_url, paper_methods


@dataclass(frozen=True)
class PaperDetail:
    paper: Paper
    rating_label: str | None
    categories: list[Category]  # from the top down to the paper's own
    previous: Paper | None
    next: Paper | None
    shares_notes_with: list[Paper]
    mentions: list[Paper]
    bibtex: str
    methods: list[Method]  # its live demos, as the page's demo panel lists them


def paper_detail(catalog: Catalog, paper: Paper) -> PaperDetail:
    previous, following = catalog.neighbours(paper)
    return PaperDetail(
        paper=paper,
        rating_label=catalog.rating_scale.label(paper.rating),
        categories=category_chain(catalog, paper.category),
        previous=previous,
        next=following,
        shares_notes_with=[catalog.papers[s] for s in paper.shares_notes_with],
        mentions=[catalog.papers[s] for s in catalog.mentions(paper)],
        bibtex=export.bibtex(paper),
        methods=paper_methods(paper),
    )


def category_chain(catalog: Catalog, slug: str | None) -> list[Category]:
    chain: list[Category] = []
    while slug is not None and slug in catalog.categories:
        category = catalog.categories[slug]
        chain.insert(0, category)
        slug = category.parent
    return chain


_PAPER_FIELDS = [f.name for f in fields(Paper)]


def paper_json(paper: Paper) -> dict:
    # Not dataclasses.asdict: its deep copy is most of the cost of a 50-paper listing.
    data = {name: getattr(paper, name) for name in _PAPER_FIELDS}
    data["note_comparisons"] = [comparison_json(c) for c in paper.note_comparisons]
    return data


def _side_json(ref: MethodRef) -> dict:
    return {"method": ref.method, "params": ref.params_dict}


def comparison_json(comparison: NoteComparison) -> dict:
    """A note's `对比:` bullet with each side's parameters as an object, as written."""
    return {
        "method": _side_json(comparison.method),
        "against": _side_json(comparison.against),
        "line": comparison.line,
        "text": str(comparison),
    }


def paper_summary_json(paper: Paper) -> dict:
    """The listing form of a paper: everything but the rendered note."""
    data = paper_json(paper)
    del data["notes_html"]
    data["first_insight"] = paper.first_insight
    data["url_path"] = f"/papers/{paper.slug}"
    return data


def paper_link_json(paper: Paper | None) -> dict | None:
    return None if paper is None else {"slug": paper.slug, "title": paper.title}


def paper_detail_json(detail: PaperDetail) -> dict:
    data = paper_json(detail.paper) | {
        "first_insight": detail.paper.first_insight,
        "rating_label": detail.rating_label,
        "categories": [{"slug": c.slug, "title": c.title} for c in detail.categories],
        "previous": paper_link_json(detail.previous),
        "next": paper_link_json(detail.next),
        "mentions": [paper_link_json(p) for p in detail.mentions],
        "bibtex": detail.bibtex,
        "demos": [{"id": m.id, "title": m.title, "url": method_url(m)} for m in detail.methods],
    }
    return data


def category_counts(catalog: Catalog) -> list[dict]:
    """Every category in file order with its own and its subtree's paper counts."""
    own: dict[str, int] = {}
    for paper in catalog.papers.values():
        if paper.category:
            own[paper.category] = own.get(paper.category, 0) + 1
    result = []
    for category in catalog.categories.values():
        inside = catalog.subcategory_slugs(category.slug)
        result.append(
            asdict(category)
            | {
                "papers": own.get(category.slug, 0),
                "papers_total": sum(own.get(s, 0) for s in inside),
            }
        )
    return result
