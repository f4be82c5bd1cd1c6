"""The parse cache in DATA_DIR (app/catalog/cache.py): a restart with unchanged notes
parses nothing, an edit re-parses only that file, and a broken or unwritable cache
costs time, never correctness."""

from __future__ import annotations

import os

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient

from app.catalog import cache, parser
from app.catalog.live import LiveCatalog
from app.main import create_app

NOTE = "## {title}\n- [{title} paper](https://arxiv.org/abs/{arxiv})\n    - 4分\n    - on {title}\n"


@pytest.fixture
def notes(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, title, arxiv in (("a.md", "Alpha", "2001.00001"), ("b.md", "Beta", "2001.00002")):
        (folder / name).write_text(NOTE.format(title=title, arxiv=arxiv), encoding="utf-8")
    return folder


@pytest.fixture
def calls(monkeypatch):
    """Counts of the parser's two costly stages: parsing a file, assembling a catalog."""
    counts = {"parse": [], "combine": 0}
    parse_file, combine = parser.parse_file, parser.combine

    def counting_parse(name, text):
        counts["parse"].append(name)
        return parse_file(name, text)

    def counting_combine(results):
        counts["combine"] += 1
        return combine(results)

    monkeypatch.setattr(parser, "parse_file", counting_parse)
    monkeypatch.setattr(parser, "combine", counting_combine)
    return counts


def start(notes, data):
    """What the app does at start-up: a fresh store over the same folders."""
    return LiveCatalog(notes, poll_interval=0, cache_dir=data / "notes-cache").get()


def entries(data):
    return sorted(p.name.split("-")[0] for p in (data / "notes-cache").glob("*.pickle"))


def test_a_restart_with_unchanged_notes_parses_nothing(notes, tmp_path, calls):
    data = tmp_path / "data"
    cold = start(notes, data)
    assert sorted(calls["parse"]) == ["a.md", "b.md"] and calls["combine"] == 1
    assert entries(data) == ["catalog", "file", "file"]
    calls["parse"].clear()
    calls["combine"] = 0
    warm = start(notes, data)
    assert calls["parse"] == [] and calls["combine"] == 0  # not even assembled again
    assert warm.papers == cold.papers and warm.categories == cold.categories
    assert warm.diagnostics == cold.diagnostics and warm.title == cold.title
    assert [p.slug for p in warm.papers.values()] == ["2001.00001", "2001.00002"]


def test_an_edit_reparses_only_that_file_and_drops_its_old_entry(notes, tmp_path, calls):
    data = tmp_path / "data"
    start(notes, data)
    (notes / "b.md").write_text(NOTE.format(title="Gamma", arxiv="2001.00003"), "utf-8")
    calls["parse"].clear()
    catalog = start(notes, data)
    assert calls["parse"] == ["b.md"]
    assert [p.title for p in catalog.papers.values()] == ["Alpha paper", "Gamma paper"]
    assert entries(data) == ["catalog", "file", "file"]  # Beta's entries are gone
    # The same edit while the app runs: only the edited file is parsed there too.
    store = LiveCatalog(notes, poll_interval=0, cache_dir=data / "notes-cache")
    store.get()
    calls["parse"].clear()
    (notes / "a.md").write_text(NOTE.format(title="Delta", arxiv="2001.00004"), "utf-8")
    os.utime(notes / "a.md", ns=(10**18, 10**18))
    assert [p.title for p in store.get().papers.values()] == ["Delta paper", "Gamma paper"]
    assert calls["parse"] == ["a.md"]


def test_a_new_parser_never_reads_an_old_entry(notes, tmp_path, calls, monkeypatch):
    data = tmp_path / "data"
    start(notes, data)
    monkeypatch.setattr(cache, "fingerprint", lambda: "another-parser")
    calls["parse"].clear()
    start(notes, data)
    assert sorted(calls["parse"]) == ["a.md", "b.md"]
    assert entries(data) == ["catalog", "file", "file"]  # the old parser's are pruned


def test_a_torn_entry_is_parsed_again(notes, tmp_path, calls):
    data = tmp_path / "data"
    cold = start(notes, data)
    for entry in (data / "notes-cache").glob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    calls["parse"].clear()
    assert start(notes, data).papers == cold.papers
    assert sorted(calls["parse"]) == ["a.md", "b.md"]


def test_an_unwritable_cache_only_costs_time(notes, tmp_path, calls):
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes-cache").write_text("a file where the folder should be")
    assert len(start(notes, data).papers) == 2
    calls["parse"].clear()
    assert len(start(notes, data).papers) == 2
    assert sorted(calls["parse"]) == ["a.md", "b.md"]  # nothing cached, nothing broken


def test_an_unreadable_file_is_diagnosed_and_not_cached(notes, tmp_path):
    data = tmp_path / "data"
    (notes / "c.md").write_bytes(b"\xff\xfe bad utf-8 \xc3")
    catalog = start(notes, data)
    assert [(d.file, d.line) for d in catalog.diagnostics] == [("c.md", 1)]
    assert entries(data) == ["file", "file"]  # no catalog entry with a broken file in it
    assert [(d.file, d.line) for d in start(notes, data).diagnostics] == [("c.md", 1)]


def test_the_app_restarts_on_a_warm_cache_without_parsing(notes, tmp_path, monkeypatch):
    settings = make_settings(notes, tmp_path / "data", run_warm_workers=0)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/papers").json()["total"] == 2

    def no_parsing(name, text):
        raise AssertionError(f"{name} parsed again")

    monkeypatch.setattr(parser, "parse_file", no_parsing)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/papers?q=beta").json()["matched"] == 1
