"""Structural headings and empty sections, on a file shaped like the author's larger
notes: a title heading over everything, a table of contents, nested sections, two
sections with the same heading, and sections that hold no papers."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import make_settings
from fastapi.testclient import TestClient

from app.catalog.parser import parse_texts
from app.catalog.query import PaperQuery, run_query
from app.main import create_app

# Not under fixtures/: that folder is a notes folder of its own (test_note_comparisons).
FIXTURE = Path(__file__).parent / "larger_notes" / "larger-notes.md"


@pytest.fixture(scope="module")
def catalog():
    return parse_texts([(FIXTURE.name, FIXTURE.read_text(encoding="utf-8"))])


def test_title_contents_and_empty_sections_are_not_categories(catalog):
    assert list(catalog.categories) == [
        "knowledge-distillation", "logits", "features",
        "self-distillation", "self-distillation-logits",
    ]  # fmt: skip
    # The title still names the notes, and the legend under it is still read.
    assert catalog.title == "Papers"
    assert catalog.rating_scale.label(4) == "worth a careful read"
    assert catalog.diagnostics == []


def test_paths_start_at_the_first_real_heading(catalog):
    features = catalog.categories["features"]
    assert features.path == ("Knowledge distillation", "Features")
    assert features.parent == "knowledge-distillation"
    assert features.description == "Hints from the middle of the teacher."
    assert catalog.categories["knowledge-distillation"].parent is None
    paths = [p.category_path for p in catalog.papers.values()]
    assert paths == [
        ("Knowledge distillation", "Logits"),
        ("Knowledge distillation", "Features"),
        ("Self-distillation", "Logits"),
    ]


def test_a_section_is_labelled_by_its_own_heading(catalog):
    labels = {slug: catalog.category_label(slug) for slug in catalog.categories}
    assert labels == {
        "knowledge-distillation": "Knowledge distillation",
        "features": "Features",
        "self-distillation": "Self-distillation",
        # Two sections share a heading: their parents tell them apart.
        "logits": "Knowledge distillation / Logits",
        "self-distillation-logits": "Self-distillation / Logits",
    }
    facet = run_query(catalog, PaperQuery()).facets["category"]
    # The facet lists the sections with papers of their own, as it always has.
    assert [(f.value, f.label, f.count) for f in facet] == [
        ("logits", "Knowledge distillation / Logits", 1),
        ("features", "Features", 1),
        ("self-distillation-logits", "Self-distillation / Logits", 1),
    ]


def test_papers_under_a_title_heading_keep_it_as_their_category():
    """A leading `#` heading that holds papers of its own is a section, not a title."""
    text = "# Logits\n- [A](https://arxiv.org/abs/2001.00001)\n    - 4分\n"
    catalog = parse_texts([("a.md", text)])
    assert list(catalog.categories) == ["logits"]
    assert catalog.papers["2001.00001"].category == "logits"


def test_a_section_empty_in_one_file_but_filled_in_another_is_kept():
    first = "# Notes\n\n## Logits\n\n> soon\n"
    second = "## Logits\n- [A](https://arxiv.org/abs/2001.00001)\n    - 4分\n"
    catalog = parse_texts([("a.md", first), ("b.md", second)])
    assert list(catalog.categories) == ["logits"]
    assert catalog.categories["logits"].description == "soon"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    notes = tmp_path_factory.mktemp("notes")
    (notes / FIXTURE.name).write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    with TestClient(create_app(make_settings(notes, tmp_path_factory.mktemp("data")))) as c:
        yield c


def test_the_catalog_page_shows_sections_by_their_own_heading(client):
    soup = BeautifulSoup(client.get("/").text, "html.parser")
    headings = [h.get_text(strip=True) for h in soup.select("h2.category-title")]
    assert headings == [
        "Knowledge distillation / Logits", "Features", "Self-distillation / Logits",
    ]  # fmt: skip
    options = [o.get_text(strip=True) for o in soup.select("#category option")]
    assert not any(o.startswith(("Papers", "Table of contents", "Pruning")) for o in options)
    for slug in ("papers", "table-of-contents", "relations", "pruning"):
        assert client.get(f"/categories/{slug}").status_code == 404
    assert [c["slug"] for c in client.get("/api/categories").json()] == [
        "knowledge-distillation", "logits", "features",
        "self-distillation", "self-distillation-logits",
    ]  # fmt: skip
