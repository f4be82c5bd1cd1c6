"""Search (app/catalog/search.py through run_query): the issue's queries on the seed
notes, with the expected papers read off the file by hand; and properties that hold
for any text and any query."""

from __future__ import annotations

import html
import re
import textwrap
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import PROJECT_ROOT
from app.catalog import search
from app.catalog.parser import parse_notes_dir, parse_texts
from app.catalog.query import PaperQuery, run_query

LSR = "1909.11723"  # its note: KD, TF-KD, LSR
HINTON = "1503.02531"  # its note: "Hinton出品，知识蒸馏开山之作"
SP = "1907.09682"
FSP = "a-gift-from-knowledge-distillation-fast-optimization-network-minimization-and"
CSKD, BYOT, MSD = "2003.13964", "1905.08094", "1911.09418"


@pytest.fixture(scope="module")
def seed():
    return parse_notes_dir(PROJECT_ROOT / "notes")


def found(catalog, q: str, **query) -> list[str]:
    return [p.slug for p in run_query(catalog, PaperQuery(q=q, per_page=1000, **query)).papers]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("蒸馏", [HINTON, SP, FSP]),  # as before: one phrase
        ("知识 蒸馏", [HINTON]),  # two terms, ANDed, neither next to the other
        ("蒸馏 知识", [HINTON]),  # in any order
        ("hinton 蒸馏", [HINTON]),  # a script mix; `Hinton` in the note, any case
        ("LSR KD", [LSR]),
        ("ＫＤ", [LSR, CSKD, BYOT, MSD]),  # full-width, as Chinese input methods type it
        ("kd", [LSR, CSKD, BYOT, MSD]),
        ("tfkd", [LSR]),
        ("TF-KD", [LSR]),
        ("tf kd", [LSR]),
        ("ｔｆ－ｋｄ", [LSR]),
        ("知识　蒸馏", [HINTON]),  # an ideographic space separates terms too
        ("蒸馏 nothing-like-this", []),
    ],
)
def test_the_issue_queries_on_the_seed_notes(seed, q, expected):
    assert found(seed, q) == expected


def test_punctuation_alone_is_no_search(seed):
    assert len(found(seed, " - , ")) == len(seed.papers)


def test_title_hits_come_before_note_hits():
    notes = """
        # Sec
        - [Only the note says it](https://arxiv.org/abs/2001.00001)
            - 3分
            - about label smoothing
        - [Label Smoothing, in the title](https://arxiv.org/abs/2001.00002)
            - 3分
            - nothing more
        - [Half: smoothing in the title](https://arxiv.org/abs/2001.00003)
            - 3分
            - and label in the note
        """
    catalog = parse_texts([("n.md", textwrap.dedent(notes))])
    assert found(catalog, "label smoothing") == ["2001.00002", "2001.00003", "2001.00001"]
    # An explicit sort wins over the ranking.
    assert found(catalog, "label smoothing", sort="title") == [
        "2001.00003", "2001.00002", "2001.00001"
    ]  # fmt: skip


def test_only_the_visible_text_is_searched_not_urls_or_markup():
    notes = """
        # Sec
        - [A paper](https://arxiv.org/abs/2001.00001) (CVPR2020)
            - 3分
            - see the [code](https://github.com/someone/quuxlib) or https://example.org/zorblat
            - **bold** claim with `inline code`

            A paragraph of the note, with <span class="x">html</span> in it.
        """
    catalog = parse_texts([("n.md", textwrap.dedent(notes))])
    for hidden in ("github", "quuxlib", "zorblat", "https", "arxiv", "2001.00001", "span"):
        assert found(catalog, hidden) == [], hidden
    for visible in ("code", "bold claim", "inline code", "paragraph", "html in it", "cvpr"):
        assert found(catalog, visible) == ["2001.00001"], visible


# -- properties ---------------------------------------------------------------------

# Text as the notes have it: Latin with accents (precomposed and combining), CJK,
# full-width forms, digits, ASCII and CJK punctuation, spaces.
ALPHABET = st.sampled_from(
    [*"abcKDxyzéÉñ", "e\u0301", "A\u030a", *"知识蒸馏教师学生网络", *"ＫＤｔｆ１２",
     *"0123-_.,:;!?()[]/*'\"，。：（）—＿｡＂", " ", "\u3000", "\t",
     "\u0301"]
)  # fmt: skip
TEXT = st.lists(ALPHABET, max_size=40).map("".join)
WORD = st.lists(st.sampled_from(list("abkdtf知识蒸馏")), min_size=1, max_size=4).map("".join)


def whole_fold(text: str) -> str:
    """The definition, written apart from the code: NFKC-casefold, keep letters and
    digits."""
    normal = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in normal if c.isalnum())


@settings(deadline=None)  # a shared machine: time is no property
@given(TEXT)
def test_fold_is_nfkc_casefold_without_punctuation_or_space(text):
    assert search.fold(text) == whole_fold(text)
    assert search.fold(search.fold(text)) == search.fold(text)


@settings(deadline=None)  # a shared machine: time is no property
@given(TEXT, st.data())
def test_case_width_punctuation_and_spacing_never_change_a_match(text, data):
    word = data.draw(WORD)
    noisy = "".join(c + data.draw(st.sampled_from(["", "-", " ", ".", "－", "·"])) for c in word)
    variants = [word.upper(), noisy, unicodedata.normalize("NFKC", word).translate(FULL_WIDTH)]
    hay = search.haystack([text])
    expected = search.matches(hay, search.terms(word))
    for variant in variants:
        terms = search.terms(variant)
        joined = (search.fold(variant),)  # the variant read as one term
        assert search.matches(hay, joined) == expected, variant
        # As several terms (its spaces split it), it finds at least as much.
        assert not expected or search.matches(hay, terms), variant


FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


@settings(max_examples=60, deadline=None)
@given(st.lists(WORD, min_size=1, max_size=3), st.lists(WORD, min_size=1, max_size=3))
def test_terms_are_anded_in_any_order(seed_catalog, first, second):
    a, b = " ".join(first), " ".join(second)
    both = set(found(seed_catalog, f"{a} {b}"))
    assert both == set(found(seed_catalog, a)) & set(found(seed_catalog, b))
    assert both == set(found(seed_catalog, f"{b} {a}"))
    # A phrase is narrower than its words apart.
    assert set(found(seed_catalog, "".join(first))) <= set(found(seed_catalog, a))


@pytest.fixture(scope="module")
def seed_catalog(seed):
    return seed


@settings(deadline=None)  # a shared machine: time is no property
@given(TEXT, st.lists(WORD, max_size=3))
def test_highlight_marks_the_matches_and_keeps_the_text(text, words):
    terms = search.terms(" ".join(words))
    marked = search.highlight(text, terms)
    assert html.unescape(re.sub(r"</?mark>", "", marked)) == text
    spans = re.findall(r"<mark>(.*?)</mark>", marked)
    for span in spans:  # each mark holds a match
        assert any(term in search.fold(html.unescape(span)) for term in terms)
    # Any term the text holds is marked (as long as it is not split by a separator).
    if any(term in search.fold(text) for term in terms):
        assert spans
