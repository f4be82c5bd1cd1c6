"""Search as readers of Chinese and English notes type it: NFKC and case folded on
both sides, punctuation and spacing ignored, every term required, in any script mix.

A text is *folded* to the characters that carry meaning: NFKC (full-width `ＫＤ` is
`KD`), case folded, and with everything that is not a letter, digit or mark dropped
(spaces, ASCII and CJK punctuation, hyphens, symbols). So `TF-KD`, `tfkd` and
`Tf KD` all fold to `tfkd`. A query is split on whitespace into terms, each folded;
a paper matches when every term occurs in its folded title or note. Chinese needs no
word segmentation this way: a term is a substring, as `知识` is of `知识蒸馏`.

The same folding, done cluster by cluster with a map back to the original text,
finds the spans to highlight (`<mark>`) in what the cards show.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

# Letters and digits survive folding; \W is the rest (and `_`). NFKC has composed
# accents with their letters first, so `é` survives as one letter.
_DROP = re.compile(r"[\W_]+")
# URLs are visible in a note, but nobody searches for one: `arxiv` should find the
# papers that talk about arXiv, not every note that links to it.
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_COMMAND = re.compile(r"\\[A-Za-z]+")
# Full- and half-width punctuation and the ideographic space (`，：（）｡`, U+3000), whose
# NFKC is ASCII punctuation or space: folding drops them either way, and put as a
# space first they leave the text NFKC already, which normalize() then returns at the
# cost of a check. Chinese notes are full of `，`; this was two thirds of folding them.
_WIDE_PUNCTUATION = re.compile("[\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u3000]")
# Between the parts of a haystack (title, venue, insights), so that no term matches
# across the end of one and the start of the next. Folding drops it from queries.
SEPARATOR = "\n"


def _nfkc_casefold(text: str) -> str:
    # Case folding can leave text that is no longer NFKC (`ǰ` folds to `ǰ` spelt
    # with a combining caron), hence NFKC on both sides of it.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def fold(text: str) -> str:
    """The searchable form of a text: NFKC, case folded, letters and digits only."""
    if text.isascii():  # the common case, and NFKC is the identity on ASCII
        return _DROP.sub("", text.lower())
    return _DROP.sub("", _nfkc_casefold(_WIDE_PUNCTUATION.sub(" ", text)))


def _visible(text: str) -> str:
    """What a reader sees of a text: no URLs, and of a formula (`$\\mathcal{L}_{KD}$`)
    its symbols, not its commands."""
    return _COMMAND.sub(" ", _URL.sub(" ", text))


def haystack(parts: Iterable[str]) -> str:
    """One searchable string of a paper's visible parts."""
    return SEPARATOR.join(fold(_visible(part)) for part in parts if part)


def terms(query: str) -> tuple[str, ...]:
    """The folded terms of a query, in order, without repeats or empties. NFKC first,
    so that an ideographic space (U+3000) separates terms like an ASCII one."""
    seen: dict[str, None] = {}
    for word in unicodedata.normalize("NFKC", query).split():
        if folded := fold(word):
            seen.setdefault(folded, None)
    return tuple(seen)


def matches(hay: str, query_terms: Sequence[str]) -> bool:
    return all(term in hay for term in query_terms)


class PaperHaystack(NamedTuple):
    """A paper's folded title, and its folded venue and visible note text. A tuple:
    a thousand of them load from the parse cache at every start."""

    title: str
    rest: str

    def matches(self, query_terms: Sequence[str]) -> bool:
        return all(term in self.title or term in self.rest for term in query_terms)

    def rank(self, query_terms: Sequence[str]) -> int:
        """0 when every term is in the title, 1 when some are, 2 when none: title hits
        come before note hits."""
        in_title = sum(1 for term in query_terms if term in self.title)
        return 0 if in_title == len(query_terms) else 1 if in_title else 2


# -- highlighting -------------------------------------------------------------------


def _clusters(text: str) -> Iterable[tuple[int, int]]:
    """(start, end) of each base character with the combining marks after it: NFKC
    composes within such a cluster, so folding cluster by cluster agrees with folding
    the whole text."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]):
            yield start, i
            start = i


@lru_cache(maxsize=4096)
def _folded_with_map(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The folded text, and for each of its characters the span of the original
    cluster it came from."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    for start, end in _clusters(text):
        piece = fold(text[start:end])
        out.append(piece)
        spans.extend([(start, end)] * len(piece))
    return "".join(out), tuple(spans)


def match_spans(text: str, query_terms: Sequence[str]) -> list[tuple[int, int]]:
    """Merged (start, end) spans of the original text where a term occurs."""
    if not query_terms:
        return []
    folded, spans = _folded_with_map(text)
    found: list[tuple[int, int]] = []
    for term in query_terms:
        at = folded.find(term)
        while at != -1:
            found.append((spans[at][0], spans[at + len(term) - 1][1]))
            at = folded.find(term, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, query_terms: Sequence[str]) -> str:
    """The text as HTML, escaped, with every match wrapped in <mark>."""
    pieces: list[str] = []
    last = 0
    for start, end in match_spans(text, query_terms):
        pieces += [html.escape(text[last:start]), "<mark>", html.escape(text[start:end]),
                   "</mark>"]  # fmt: skip
        last = end
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def best_snippet(insights: Sequence[str], query_terms: Sequence[str]) -> str | None:
    """The first insight with a match, for a card to show; else the first insight."""
    if query_terms:
        for insight in insights:
            hay = fold(_visible(insight))
            if any(term in hay for term in query_terms):
                return insight
    return insights[0] if insights else None
