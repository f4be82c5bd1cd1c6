"""Filter, sort, search and facet the catalog. One call feeds both the HTML page
and its JSON twin, so the two can never disagree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.catalog import search
from app.catalog.catalog import Catalog
from app.catalog.models import Paper

SortKey = Literal["file", "rating", "year", "title", "evidence", "added"]
EvidenceKey = Literal["supported", "contradicted", "not_shown", "no_demo"]


@dataclass(frozen=True)
class EvidenceIndex:
    """Each paper's evidence (how its claims fared), worked out where the catalog is
    bound to the methods (app/web/evidence.py) and handed in: the catalog knows the
    values and their labels, in facet order, not what they rest on."""

    by_slug: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # value -> label, in order

    def has_demo(self, slug: str) -> bool:
        """A paper has a demo unless its evidence says `no_demo` (app/web/evidence.py
        gives that value to exactly the papers no method is bound to)."""
        return self.by_slug.get(slug, "no_demo") != "no_demo"


class PaperQuery(BaseModel):
    """Everything a view of the catalog depends on; lives in the query string."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(
        "", max_length=200,
        description="Words to find in the title, venue or note, all of them, in any order: "
        "case, full-width forms, spaces and punctuation do not matter (`TF-KD` = `tfkd`). "
        "In file order, papers with every word in the title come first.",
    )  # fmt: skip
    rating: int | None = Field(None, ge=1, le=5, description="Exactly this rating")
    min_rating: int | None = Field(None, ge=1, le=5, description="At least this rating")
    category: str | None = Field(None, max_length=200, description="Category slug")
    venue: str | None = Field(None, max_length=100)
    year: int | None = Field(None, ge=1900, le=2100)
    evidence: EvidenceKey | None = Field(
        None, description="How the paper's claims fared in the reference reproduction"
    )
    has_demo: bool | None = Field(None, description="Only papers with (or without) a live demo")
    sort: SortKey = "file"
    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(50, ge=1, le=1000)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: object) -> object:
        """A form submitted without JavaScript sends `rating=` for "any"."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    def is_filtered(self) -> bool:
        return any(
            (self.q.strip(), self.rating, self.min_rating, self.category, self.venue, self.year,
             self.evidence, self.has_demo is not None)
        )


@dataclass(frozen=True)
class Facet:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class QueryResult:
    papers: list[Paper]  # this page of the matches
    matched: int  # papers that match the filters
    total: int  # papers in the catalog
    pages: int
    facets: dict[str, list[Facet]]
    terms: tuple[str, ...] = ()  # the search's folded terms, for highlighting


Predicate = Callable[[Paper], bool]


def _predicates(
    catalog: Catalog, query: PaperQuery, evidence: EvidenceIndex
) -> dict[str, Predicate]:
    """One predicate per active filter, keyed by facet name."""
    preds: dict[str, Predicate] = {}
    terms = search.terms(query.q)
    if terms:
        preds["q"] = lambda p: catalog.haystacks[p.slug].matches(terms)
    if query.rating is not None:
        preds["rating"] = lambda p: p.rating == query.rating
    if query.min_rating is not None:
        preds["min_rating"] = lambda p: p.rating is not None and p.rating >= query.min_rating
    if query.category:
        known = query.category in catalog.categories
        inside = catalog.subcategory_slugs(query.category) if known else set()
        preds["category"] = lambda p: p.category in inside
    if query.venue:
        venue = query.venue.lower()
        preds["venue"] = lambda p: (p.venue or "").lower() == venue
    if query.year is not None:
        preds["year"] = lambda p: p.year == query.year
    if query.evidence is not None:
        preds["evidence"] = lambda p: evidence.by_slug.get(p.slug) == query.evidence
    if query.has_demo is not None:
        preds["has_demo"] = lambda p: evidence.has_demo(p.slug) == query.has_demo
    return preds


def _sorted(
    catalog: Catalog, papers: list[Paper], key: SortKey, evidence: EvidenceIndex,
    terms: tuple[str, ...],
) -> list[Paper]:
    if key == "evidence":  # in the facet's order (supported first); ties keep file order
        rank = {value: i for i, value in enumerate(evidence.labels)}
        return sorted(papers, key=lambda p: (rank.get(evidence.by_slug.get(p.slug), 99),
                                             p.order))
    if key == "rating":  # best first; unrated last; ties keep file order
        return sorted(papers, key=lambda p: (-(p.rating or 0), p.order))
    if key == "year":  # newest first; undated last
        return sorted(papers, key=lambda p: (-(p.year or 0), p.order))
    if key == "added":  # newest first; undated last; ties keep file order
        return sorted(papers, key=lambda p: (-(p.added.timestamp() if p.added else 0), p.order))
    if key == "title":
        return sorted(papers, key=lambda p: (p.title.casefold(), p.order))
    if terms:  # a search in file order: title hits first (sorted() is stable)
        return sorted(papers, key=lambda p: catalog.haystacks[p.slug].rank(terms))
    return papers  # already in file order


class _Subsets:
    """Papers passing all active filters but some, memoised by which filters apply:
    with no filters, the listing and all five facets share a single pass."""

    def __init__(self, catalog: Catalog, preds: dict[str, Predicate]):
        self.papers = list(catalog.papers.values())
        self.preds = preds
        self.cache: dict[tuple[str, ...], list[Paper]] = {(): self.papers}

    def key(self, *own: str) -> tuple[str, ...]:
        return tuple(name for name in self.preds if name not in own)

    def without(self, *own: str) -> list[Paper]:
        key = self.key(*own)
        if key not in self.cache:
            tests = [self.preds[name] for name in key]
            self.cache[key] = [p for p in self.papers if all(t(p) for t in tests)]
        return self.cache[key]


def _count(catalog: Catalog, subsets: _Subsets, field: str, *own: str) -> Counter:
    """How many papers have each value of `field`, under every filter but `own`.
    Under no filter at all the counts belong to the catalog: counted once per parse."""
    if subsets.key(*own):
        return Counter(v for p in subsets.without(*own) if (v := getattr(p, field)))
    memo = catalog.derived.get(("count", field))
    if memo is None:
        memo = Counter(v for p in subsets.papers if (v := getattr(p, field)))
        catalog.derived[("count", field)] = memo
    return memo


def _evidence_facet(
    catalog: Catalog, subsets: _Subsets, evidence: EvidenceIndex
) -> list[Facet]:
    if subsets.key("evidence"):
        counts = Counter(evidence.by_slug.get(p.slug) for p in subsets.without("evidence"))
    else:  # under no other filter: once per catalog and evidence index, like _count
        memo = catalog.derived.get(("count", "evidence", id(evidence)))
        if memo is None or memo[0] is not evidence:
            counts = Counter(evidence.by_slug.get(p.slug) for p in subsets.papers)
            memo = catalog.derived[("count", "evidence", id(evidence))] = (evidence, counts)
        counts = memo[1]
    return [Facet(value, label, counts[value]) for value, label in evidence.labels.items()]


def _demo_facet(subsets: _Subsets, evidence: EvidenceIndex) -> list[Facet]:
    counts = Counter(evidence.has_demo(p.slug) for p in subsets.without("has_demo"))
    return [Facet("true", "有演示", counts[True]), Facet("false", "没有演示", counts[False])]


def _facets(catalog: Catalog, subsets: _Subsets) -> dict[str, list[Facet]]:
    """Counts per facet value, each under every filter except the facet's own, so a
    reader sees what choosing another value of that facet would give."""
    ratings = _count(catalog, subsets, "rating", "rating", "min_rating")
    categories = _count(catalog, subsets, "category", "category")
    venues = _count(catalog, subsets, "venue", "venue")
    years = _count(catalog, subsets, "year", "year")
    scale = catalog.rating_scale
    return {
        "rating": [Facet(str(v), scale.label(v) or "", ratings[v]) for v in scale.values],
        "min_rating": [
            Facet(str(v), f"≥ {v}", sum(n for r, n in ratings.items() if r >= v))
            for v in scale.values
        ],
        "category": [
            Facet(c.slug, catalog.category_label(c.slug), categories[c.slug])
            for c in catalog.categories.values()
            if categories[c.slug]
        ],
        "venue": [Facet(v, v, n) for v, n in sorted(venues.items(), key=lambda kv: kv[0].lower())],
        "year": [Facet(str(y), str(y), n) for y, n in sorted(years.items(), reverse=True)],
    }


def run_query(
    catalog: Catalog, query: PaperQuery, evidence: EvidenceIndex | None = None
) -> QueryResult:
    """The page of matches and the facets; `evidence` (from the web, where the
    catalog meets the methods) adds the evidence filter, facet and sort."""
    evidence = evidence or EvidenceIndex()
    subsets = _Subsets(catalog, _predicates(catalog, query, evidence))
    terms = search.terms(query.q)
    papers = _sorted(catalog, subsets.without(), query.sort, evidence, terms)
    start = (query.page - 1) * query.per_page
    return QueryResult(
        papers=papers[start : start + query.per_page],
        matched=len(papers),
        total=len(catalog.papers),
        pages=max(1, -(-len(papers) // query.per_page)),
        facets=_facets(catalog, subsets)
        | {"evidence": _evidence_facet(catalog, subsets, evidence),
           "has_demo": _demo_facet(subsets, evidence)},
        terms=terms,
    )
