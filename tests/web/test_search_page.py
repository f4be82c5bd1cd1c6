"""The catalog page and /api/papers search alike (one run_query serves both), and
the cards mark the hits."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

QUERIES = ["知识 蒸馏", "hinton 蒸馏", "LSR KD", "ＫＤ", "tfkd", "TF-KD", "tf kd", "蒸馏"]


def cards(client, q: str):
    soup = BeautifulSoup(client.get("/", params={"q": q}).text, "html.parser")
    return soup, soup.select("article.paper-card")


@pytest.mark.parametrize("q", QUERIES)
def test_page_and_api_find_the_same_papers_in_the_same_order(client, q):
    _, found = cards(client, q)
    api = client.get("/api/papers", params={"q": q}).json()
    assert [c["data-slug"] for c in found] == [p["slug"] for p in api["papers"]]
    assert api["matched"] == len(found) > 0


def test_cards_mark_the_hits_in_title_and_insight(client):
    soup, found = cards(client, "hinton 蒸馏")
    (card,) = found
    insight = card.select_one(".insight")
    # The insight shown is the one that matched, with both terms marked.
    assert [m.get_text() for m in insight.select("mark")] == ["Hinton", "蒸馏"]
    assert insight.get_text() == "Hinton出品，知识蒸馏开山之作。"
    _, (card,) = cards(client, "tf kd")
    marks = [m.get_text() for m in card.select(".insight mark")]
    assert marks and all(m.replace("-", "").lower() in ("tf", "kd", "tfkd") for m in marks)
    # A search is ranked, so it is one list, not grouped by section.
    assert not soup.select("h2.category-title")


def test_a_title_hit_is_marked_in_the_title(client):
    _, found = cards(client, "mutual")
    card = found[0]  # the title hit, ranked first
    assert card["data-slug"] == "1706.00384"
    assert card.select_one("h3 mark").get_text() == "mutual"
    assert card.select_one("h3").get_text() == "Deep mutual learning"


def test_no_search_marks_nothing_and_groups(client):
    soup, found = cards(client, "")
    assert len(found) == 8 and not soup.select("mark")
    assert soup.select("h2.category-title")


def test_markup_in_a_query_is_text(client):
    soup, found = cards(client, "KD <b>")  # terms `kd` and `b`
    assert found and not soup.select("article b")
    assert soup.select_one("#q")["value"] == "KD <b>"
