"""The catalog and a paper page in Chromium, driven through their own controls."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.e2e

#: The seed notes' papers rated 4 or 5 (2003.13964 and 1706.00384 have 3).
RATED_4_OR_MORE = {
    "1909.11723",
    "1503.02531",
    "1907.09682",
    "a-gift-from-knowledge-distillation-fast-optimization-network-minimization-and",
    "1905.08094",
    "1911.09418",
}
TOTAL = 8


def card_slugs(page) -> list[str]:
    return page.locator("article.paper-card").evaluate_all(
        "cards => cards.map(c => c.dataset.slug)"
    )


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_filter_by_rating_then_search_a_chinese_phrase_and_reload(page, api):
    page.goto("/")
    assert len(card_slugs(page)) == TOTAL
    assert page.locator("#result-count").inner_text().strip() == f"{TOTAL} / {TOTAL} 篇论文"

    # Choosing a rating applies it at once (catalog.js submits the form on change).
    with page.expect_navigation():
        page.select_option("#min_rating", "4")
    assert query_of(page) == {"min_rating": ["4"]}  # blank fields stay out of the URL
    assert set(card_slugs(page)) == RATED_4_OR_MORE
    ratings = page.locator("article.paper-card .rating-number").all_inner_texts()
    assert len(ratings) == len(RATED_4_OR_MORE)
    assert all(int(r.removesuffix("分")) >= 4 for r in ratings), ratings
    # The browser agrees with the JSON twin of the same query.
    twin = api.get("/api/papers", params={"min_rating": 4}).json()
    assert {p["slug"] for p in twin["papers"]} == set(card_slugs(page))

    # A phrase that only the note of Hinton et al.'s paper contains.
    page.fill("#q", "开山之作")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert query_of(page) == {"q": ["开山之作"], "min_rating": ["4"]}
    assert card_slugs(page) == ["1503.02531"]
    assert page.locator("#result-count").inner_text().strip() == f"1 / {TOTAL} 篇论文"
    assert "开山之作" in page.locator("article.paper-card .insight").inner_text()

    page.reload()
    assert query_of(page) == {"q": ["开山之作"], "min_rating": ["4"]}
    assert card_slugs(page) == ["1503.02531"]
    assert page.input_value("#q") == "开山之作"
    assert page.input_value("#min_rating") == "4"

    # The shared URL, opened afresh, shows the same thing; clearing shows everything.
    url = page.url
    other = page.context.new_page()
    other.goto(url)
    assert card_slugs(other) == ["1503.02531"]
    other.close()
    with page.expect_navigation():
        page.get_by_role("link", name="清除").click()
    assert urlsplit(page.url).query == ""
    assert len(card_slugs(page)) == TOTAL


def test_paper_page_note_legend_and_shared_notes_links(page):
    page.goto("/papers/1905.08094")
    assert "Be Your Own Teacher" in page.locator("h1").inner_text()

    # The note is rendered from Markdown: a list, not the raw "- " lines.
    note = page.locator("section.note")
    items = note.locator("li").all_inner_texts()
    assert any("这两篇非常类似" in item for item in items), items
    assert any("对后两项是否确实有实际意义表示存疑" in item for item in items)
    assert "- 4分" not in note.inner_text()
    assert page.locator("dl.facts .rating-number").inner_text() == "4分"

    # The rating legend: the notes' own five levels, shown when opened.
    legend = page.locator("details.legend-box")
    legend.locator("summary").click()
    levels = legend.locator("dl.legend > div")
    assert levels.count() == 5
    assert levels.first.is_visible()
    text = legend.inner_text()
    assert "5分" in text and "值得反复阅读的论文" in text and "粗制滥造的论文" in text

    # "Shares notes with" leads to MSD, whose page leads back.
    shared = page.locator("ul.shares-notes a")
    assert shared.count() == 1
    with page.expect_navigation():
        shared.click()
    assert urlsplit(page.url).path == "/papers/1911.09418"
    assert page.locator("h1").inner_text().startswith("MSD")
    assert any("这两篇非常类似" in li for li in page.locator("section.note li").all_inner_texts())
    back = page.locator("ul.shares-notes a")
    assert back.count() == 1
    assert re.fullmatch(r"/papers/1905\.08094", back.get_attribute("href"))
    with page.expect_navigation():
        back.click()
    assert urlsplit(page.url).path == "/papers/1905.08094"
    assert "Be Your Own Teacher" in page.locator("h1").inner_text()


def test_every_page_renders_without_errors(page, api, guard):
    """Each category, each paper, the run history and the API docs: a heading, no
    console error, nothing fetched from elsewhere (checked after the test)."""
    categories = [c["slug"] for c in api.get("/api/categories").json()]
    papers = [p["slug"] for p in api.get("/api/papers", params={"per_page": 1000}).json()["papers"]]
    assert categories and len(papers) == TOTAL
    paths = ["/", *(f"/categories/{c}" for c in categories), *(f"/papers/{p}" for p in papers)]
    for path in [*paths, "/runs"]:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.locator("main h1, main #result-count").first.is_visible(), path
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for(timeout=30_000)
    assert "/api/runs" in page.locator(".swagger-ui").inner_text()
    # A missing page is a page too; Chromium logs its 404 status, and only that.
    response = page.goto("/papers/no-such-paper")
    assert response.status == 404
    assert "404" in page.locator("main h1").inner_text()
    logged = [e for e in guard.console_errors if "/papers/no-such-paper" in e and "404" in e]
    assert len(logged) == 1
    guard.console_errors.remove(logged[0])
