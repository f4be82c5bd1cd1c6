"""Dates on the pages, the JSON and the feed, from a throwaway git repository of notes
committed at fixed dates."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from conftest import make_settings
from fastapi.testclient import TestClient
from support.git_notes import NotesRepo

from app.main import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
HEAD = "# 笔记\n\n## Logits\n\n"
OLD = "- [Distilling the Knowledge in a Neural Network](https://arxiv.org/abs/1503.02531) (NIPS2014)\n    - 5分\n    - 开山之作。\n"  # noqa: E501
MID = "- [Born Again Neural Networks](https://arxiv.org/abs/1805.04770) (ICML2018)\n    - 4分\n    - 自蒸馏。\n"  # noqa: E501
NEW = "- [Self-Distillation Amplifies Regularization](https://arxiv.org/abs/2002.05715) (NeurIPS2020)\n    - 3分\n    - 作者: Hossein Mobahi, Mehrdad Farajtabar, Peter Bartlett\n    - 希尔伯特空间。\n"  # noqa: E501


def iso(days_ago: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def dated_client(tmp_path_factory):
    root = tmp_path_factory.mktemp("dated")
    repo = NotesRepo(root / "notes")
    repo.commit({"kd.md": HEAD + OLD}, "2019-01-10T08:00:00Z")
    repo.commit({"kd.md": HEAD + OLD + MID}, "2021-06-01T08:00:00Z")
    edited = OLD.replace("开山之作。", "开山之作，必读。")
    repo.commit({"kd.md": HEAD + edited + MID + NEW}, iso(days_ago=2))
    with TestClient(create_app(make_settings(repo.root, root / "data"))) as client:
        yield client


def test_json_carries_each_papers_dates(dated_client):
    papers = {p["slug"]: p for p in dated_client.get("/api/papers").json()["papers"]}
    assert papers["1503.02531"]["added"] == "2019-01-10T08:00:00Z"
    born_again = papers["1805.04770"]
    assert born_again["added"] == born_again["updated"] == "2021-06-01T08:00:00Z"
    # Hinton's note was edited in the newest commit: its updated moved, its added did not.
    assert papers["1503.02531"]["updated"] == papers["2002.05715"]["added"]
    assert papers["2002.05715"]["authors"] == ["Hossein Mobahi", "Mehrdad Farajtabar",
                                               "Peter Bartlett"]  # fmt: skip


def test_sort_by_date_added_newest_first_on_the_page_and_in_json(dated_client):
    order = ["2002.05715", "1805.04770", "1503.02531"]
    api = dated_client.get("/api/papers?sort=added").json()
    assert [p["slug"] for p in api["papers"]] == order
    soup = BeautifulSoup(dated_client.get("/?sort=added").text, "html.parser")
    assert [c["data-slug"] for c in soup.select("article.paper-card")] == order
    assert soup.select_one("#sort option[selected]")["value"] == "added"


def test_cards_show_the_date_added_and_new_only_on_recent_papers(dated_client):
    soup = BeautifulSoup(dated_client.get("/").text, "html.parser")
    cards = {c["data-slug"]: c for c in soup.select("article.paper-card")}
    assert cards["1503.02531"].select_one("time.added")["datetime"].startswith("2019-01-10")
    assert cards["1503.02531"].select_one("time.added").get_text() == "2019-01-10"
    assert cards["2002.05715"].select_one(".badge-new") is not None
    assert cards["1503.02531"].select_one(".badge-new") is None
    assert cards["1805.04770"].select_one(".badge-new") is None


def test_paper_page_shows_added_and_updated(dated_client):
    soup = BeautifulSoup(dated_client.get("/papers/1503.02531").text, "html.parser")
    facts = {d.dt.get_text(): d.dd for d in soup.select("dl.facts > div")}
    assert facts["收录于"].time["datetime"] == "2019-01-10T08:00:00+00:00"
    assert facts["更新于"].time.get_text() == iso(2)[:10]
    unchanged = BeautifulSoup(dated_client.get("/papers/1805.04770").text, "html.parser")
    assert "更新于" not in {d.dt.get_text() for d in unchanged.select("dl.facts > div")}


def test_atom_entries_have_their_own_published_and_updated(dated_client):
    feed = ElementTree.fromstring(dated_client.get("/feed.xml").content)
    entries = {e.findtext(f"{ATOM}id").rsplit("/", 1)[1]: e for e in feed.findall(f"{ATOM}entry")}
    old = entries["1805.04770"]
    assert old.findtext(f"{ATOM}published") == "2021-06-01T08:00:00+00:00"
    assert old.findtext(f"{ATOM}updated") == "2021-06-01T08:00:00+00:00"
    assert entries["1503.02531"].findtext(f"{ATOM}published") == "2019-01-10T08:00:00+00:00"
    newest = entries["2002.05715"].findtext(f"{ATOM}updated")
    assert entries["1503.02531"].findtext(f"{ATOM}updated") == newest
    assert feed.findtext(f"{ATOM}updated") == newest  # the feed's: its newest entry's
    ids = [e.findtext(f"{ATOM}id").rsplit("/", 1)[1] for e in feed.findall(f"{ATOM}entry")]
    assert ids == ["2002.05715", "1805.04770", "1503.02531"]  # newest added first


def test_meta_tags_carry_the_dates_and_authors(dated_client):
    soup = BeautifulSoup(dated_client.get("/papers/2002.05715").text, "html.parser")
    authors = [m["content"] for m in soup.select('meta[name="citation_author"]')]
    assert authors == ["Hossein Mobahi", "Mehrdad Farajtabar", "Peter Bartlett"]
    published = soup.select_one('meta[property="article:published_time"]')["content"]
    assert published.startswith(iso(2)[:10])


def test_a_first_look_marks_nothing_new(client):
    # Not a checkout: every paper is dated by the app's first look, which is not news.
    soup = BeautifulSoup(client.get("/").text, "html.parser")
    assert soup.select("article.paper-card time.added")
    assert soup.select(".badge-new") == []
