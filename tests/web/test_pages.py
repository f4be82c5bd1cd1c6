"""Catalog pages through an in-process client, read as parsed HTML."""

from __future__ import annotations

import subprocess
import sys
from xml.etree import ElementTree

from bs4 import BeautifulSoup

HTML = {"accept": "text/html"}


def page(client, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url, headers=HTML)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return BeautifulSoup(response.text, "html.parser")


def listed_slugs(soup: BeautifulSoup) -> list[str]:
    return [card["data-slug"] for card in soup.select("article.paper-card")]


def test_index_groups_by_category_in_file_order(client):
    soup = page(client, "/")
    assert soup.html["lang"] == "zh-CN"
    assert [h.get_text(strip=True) for h in soup.select("h2.category-title")] == [
        "Distilling From Logits",  # each section by its own heading
        "Distilling From Features",
        "Self-KD",
    ]
    assert listed_slugs(soup)[:2] == ["1909.11723", "1503.02531"]
    assert len(listed_slugs(soup)) == 8
    first = soup.select_one("article.paper-card")
    assert first.select_one(".rating-number").get_text() == "5分"
    assert first.select_one(".stars").get_text() == "★★★★★"
    assert first.select_one(".insight").get_text().startswith("motivation:")


def test_rating_filters_exact_and_at_least(client):
    at_least_4 = listed_slugs(page(client, "/?min_rating=4"))
    assert set(at_least_4) == {
        "1909.11723", "1503.02531", "1907.09682", "1905.08094", "1911.09418",
        "a-gift-from-knowledge-distillation-fast-optimization-network-minimization-and",
    }  # fmt: skip
    assert listed_slugs(page(client, "/?rating=3")) == ["2003.13964", "1706.00384"]


def test_facets_show_counts(client):
    soup = page(client, "/")
    options = {o["value"]: o.get_text() for o in soup.select("#rating option")}
    assert options["5"] == "5分（2）" and options["4"] == "4分（4）" and options["3"] == "3分（2）"
    years = {o["value"]: o.get_text() for o in soup.select("#year option")}
    assert years["2020"] == "2020（2）"
    venues = {o["value"]: o.get_text() for o in soup.select("#venue option")}
    assert venues["CVPR"] == "CVPR（4）"


def test_category_venue_and_year_filters(client):
    assert listed_slugs(page(client, "/?category=self-kd")) == [
        "2003.13964", "1905.08094", "1911.09418", "1706.00384",
    ]  # fmt: skip
    assert len(listed_slugs(page(client, "/?category=knowledge-distilling"))) == 8
    assert listed_slugs(page(client, "/?venue=ICCV")) == ["1907.09682", "1905.08094"]
    assert listed_slugs(page(client, "/?year=2014")) == ["1503.02531"]


def test_sort_orders(client):
    by_year = listed_slugs(page(client, "/?sort=year"))
    assert by_year[:2] == ["1909.11723", "2003.13964"] and by_year[-1] == "1503.02531"
    by_title = listed_slugs(page(client, "/?sort=title"))
    assert by_title[0].startswith("a-gift") and by_title[-1] == "1907.09682"
    by_rating = listed_slugs(page(client, "/?sort=rating"))
    assert by_rating[:2] == ["1909.11723", "1503.02531"]
    assert by_rating[-2:] == ["2003.13964", "1706.00384"]


def test_search_finds_chinese_and_english(client):
    assert listed_slugs(page(client, "/?q=开山之作")) == ["1503.02531"]
    # Deep mutual learning has it in its title: ranked before the note that names it.
    assert listed_slugs(page(client, "/?q=MUTUAL")) == ["1706.00384", "2003.13964"]
    soup = page(client, "/?q=不存在的短语")
    assert listed_slugs(soup) == [] and soup.select_one(".empty")


def test_filters_live_in_the_form_so_views_are_links(client):
    soup = page(client, "/?min_rating=4&q=KD&sort=rating")
    form = soup.select_one("#filter-form")
    assert form["method"] == "get"
    assert form.select_one("#q")["value"] == "KD"
    assert form.select_one("#min_rating option[selected]")["value"] == "4"
    assert form.select_one("#sort option[selected]")["value"] == "rating"


def test_blank_form_fields_mean_any(client):
    assert len(listed_slugs(page(client, "/?q=&rating=&min_rating=&year=&venue=&category="))) == 8


def test_rating_legend_on_index_and_paper(client):
    for url in ("/", "/papers/1503.02531"):
        legend = page(client, url).select_one("dl.legend")
        assert "值得反复阅读的论文，非常具有启发性" in legend.get_text()


def test_paper_page(client):
    soup = page(client, "/papers/2003.13964")
    title = soup.select_one("h1 a")
    assert title["href"] == "https://arxiv.org/abs/2003.13964"
    assert title.get_text() == "Regularizing Class-wise Predictions via Self-knowledge Distillation"
    facts = soup.select_one("dl.facts").get_text(" ", strip=True)
    assert "CVPR" in facts and "2020" in facts and "3分" in facts
    assert "值得粗略阅读的论文" in soup.select_one(".rating-label").get_text()
    assert len(soup.select(".note li")) == 3
    assert [a["href"] for a in soup.select(".mentions a")] == ["/papers/1706.00384"]
    crumbs = [a.get_text() for a in soup.select(".breadcrumb a")]
    assert crumbs == ["全部", "Knowledge Distilling", "Self-KD"]
    assert soup.select_one("a[rel=next]")["href"] == "/papers/1905.08094"
    assert soup.select_one("a[rel=prev]") is None
    assert "@misc{" in soup.select_one("pre.bibtex").get_text()
    assert soup.select_one("#demo")


def test_shares_notes_with_links(client):
    soup = page(client, "/papers/1905.08094")
    assert [a["href"] for a in soup.select(".shares-notes a")] == ["/papers/1911.09418"]


def test_unknown_slug_gets_a_friendly_404(client):
    soup = page(client, "/papers/no-such-paper", status=404)
    assert "找不到页面" in soup.h1.get_text()
    assert client.get("/api/papers/no-such-paper").json() == {
        "detail": "no paper with slug 'no-such-paper'"
    }


def test_bad_query_is_a_400_page_not_a_traceback(client):
    soup = page(client, "/?rating=9", status=400)
    # The field in the reader's words and language, never pydantic's path or message.
    assert soup.select_one(".error-problems").get_text(strip=True) == "评分：不能大于 5。"
    assert client.get("/api/papers?rating=x").status_code == 422


def test_category_page(client):
    soup = page(client, "/categories/distilling-from-features")
    assert soup.h1.get_text() == "Distilling From Features"
    assert soup.select_one(".description").get_text() == "Features或Relations层面的蒸馏。"
    assert len(listed_slugs(soup)) == 2
    page(client, "/categories/nope", status=404)


def test_json_and_html_agree(client):
    for params in ("", "?min_rating=4", "?q=蒸馏&sort=year", "?category=self-kd&rating=3"):
        html_slugs = listed_slugs(page(client, "/" + params))
        data = client.get("/api/papers" + params).json()
        assert [p["slug"] for p in data["papers"]] == html_slugs
        assert data["matched"] == len(html_slugs)
    detail = client.get("/api/papers/1911.09418").json()
    assert detail["shares_notes_with"] == ["1905.08094"]
    assert detail["rating_label"] == "值得精读的论文，具有一定的启发性"


def test_api_categories_and_rating_scale(client):
    categories = {c["slug"]: c for c in client.get("/api/categories").json()}
    assert categories["self-kd"]["papers"] == 4
    assert categories["knowledge-distilling"]["papers_total"] == 8
    scale = client.get("/api/rating-scale").json()
    assert [level["value"] for level in scale] == [5, 4, 3, 2, 1]


def test_feed_and_bibtex(client):
    feed = client.get("/feed.xml")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    atom = "{http://www.w3.org/2005/Atom}"
    entries = ElementTree.fromstring(feed.content).findall(f"{atom}entry")
    assert len(entries) == 8
    assert entries[0].findtext(f"{atom}title").startswith("Revisiting")
    bib = client.get("/papers/1503.02531/bibtex").text
    assert bib.startswith("@misc{") and "eprint = {1503.02531}" in bib
    fsp = client.get(
        "/papers/a-gift-from-knowledge-distillation-fast-optimization-network-minimization-and/bibtex"
    ).text
    assert fsp.startswith("@inproceedings{") and "booktitle = {CVPR}" in fsp


def test_healthz_security_headers_and_offline_assets(client):
    response = client.get("/healthz")
    assert response.json() == {"status": "ok", "papers": 8}
    csp = response.headers["content-security-policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert response.headers["x-content-type-options"] == "nosniff"
    assets = ("/vendor/plotly.min.js", "/vendor/swagger/swagger-ui.css", "/static/css/app.css")
    for url in assets:
        assert client.get(url).status_code == 200
    assert client.get("/vendor/swagger/..%2F..%2Fsecrets").status_code == 404
    docs = page(client, "/docs")
    assert all(s["src"].startswith("/") for s in docs.find_all("script"))


def test_every_page_script_is_external(client):
    for url in ("/", "/papers/1503.02531", "/docs", "/papers/nope", "/runs"):
        soup = BeautifulSoup(client.get(url, headers=HTML).text, "html.parser")
        for script in soup.find_all("script"):
            # Only external scripts run; JSON data blocks are inert and CSP-safe.
            assert script.get("src") or script.get("type") == "application/json"
            assert not (script.get("src") and script.string)


def test_edits_show_up_without_restart(client, seed_notes):
    notes = seed_notes / "extra.md"

    def year_facet() -> dict[str, str]:
        return {o["value"]: o.get_text() for o in page(client, "/").select("#year option")}

    assert "2024" not in year_facet()  # the unfiltered counts are computed, and kept...
    notes.write_text("# Extra\n- [Fresh](https://arxiv.org/abs/2401.00001) (ICML2024)\n    - 4分\n")
    try:
        assert "2401.00001" in listed_slugs(page(client, "/?year=2024"))
        assert year_facet()["2024"] == "2024（1）"  # ...but only until the notes change
    finally:
        notes.unlink()
    assert listed_slugs(page(client, "/?year=2024")) == []
    assert "2024" not in year_facet()


def test_broken_file_never_hides_the_others(client, seed_notes):
    broken = seed_notes / "broken.md"
    broken.write_bytes(b"\xff\xfe not utf-8 \xc3\x28")
    try:
        assert len(listed_slugs(page(client, "/"))) == 8
    finally:
        broken.unlink()


def test_web_process_never_imports_torch(seed_notes, tmp_path):
    """Serve pages in a fresh interpreter, then look at its sys.modules."""
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from app.main import create_app\n"
        "from app.settings import Settings\n"
        f"s = Settings(notes_dir={str(seed_notes)!r}, data_dir={str(tmp_path)!r})\n"
        "with TestClient(create_app(s)) as c:\n"
        "    for u in ('/', '/papers/1503.02531', '/api/papers', '/docs', '/runs',\n"
        "              '/methods', '/methods/kd', '/api/methods', '/runs/compare?ids=x'):\n"
        "        c.get(u)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_feed_links_use_public_url_when_set(seed_notes, tmp_path):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    settings = Settings(
        notes_dir=seed_notes, data_dir=tmp_path, public_url="https://notes.example.org/kd/"
    )
    with TestClient(create_app(settings)) as client:
        feed = client.get("/feed.xml", headers={"host": "evil.example"})
    atom = "{http://www.w3.org/2005/Atom}"
    entry = ElementTree.fromstring(feed.content).find(f"{atom}entry")
    assert entry.findtext(f"{atom}id") == "https://notes.example.org/kd/papers/1909.11723"
    assert "evil.example" not in feed.text


def _cards(client, url: str) -> list[str]:
    soup = page(client, url)
    return [str(card) for card in soup.select("article.paper-card")]


def test_kept_cards_are_the_cards_a_fresh_render_gives(client):
    # The first listing renders and keeps its cards; a filtered one reuses them;
    # each language keeps its own, and a search renders its marks afresh.
    catalog = client.app.state.catalog.get()
    for key in [k for k in catalog.derived if isinstance(k, tuple) and k[0] == "cards"]:
        del catalog.derived[key]
    fresh = _cards(client, "/?lang=zh")
    assert _cards(client, "/?lang=zh") == fresh
    (kept,) = [v for k, v in catalog.derived.items() if isinstance(k, tuple) and k[:2] == (
        "cards", "zh")]
    assert sorted(kept[-1]) == sorted(listed_slugs(page(client, "/")))
    five = _cards(client, "/?lang=zh&min_rating=5")
    assert five and set(five) <= set(fresh)
    english = _cards(client, "/?lang=en")
    assert len(english) == len(fresh) and not set(english) & set(fresh)  # its own words
    searched = _cards(client, "/?lang=zh&q=distill")
    assert any("<mark>" in c for c in searched)
