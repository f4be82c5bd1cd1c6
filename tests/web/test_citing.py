"""What reference managers, link previews and crawlers read: bulk BibTeX and CSL-JSON
of a view (the page's filters), Highwire tags, COinS spans, OpenGraph, the sitemap
and robots.txt."""

from __future__ import annotations

from urllib.parse import parse_qs
from xml.etree import ElementTree

import bibtexparser
from bs4 import BeautifulSoup
from conftest import make_settings
from fastapi.testclient import TestClient

from app.main import create_app

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def soup_of(client, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def card_slugs(client, url: str) -> list[str]:
    return [c["data-slug"] for c in soup_of(client, url).select("article.paper-card")]


def test_bulk_bibtex_has_exactly_the_views_papers_in_its_order(client):
    url_of = {p["slug"]: p["url"] for p in client.get("/api/papers").json()["papers"]}
    for view in ["min_rating=4", "category=self-kd", "year=2020&sort=title", "q=蒸馏"]:
        response = client.get(f"/papers.bib?{view}")
        assert response.headers["content-type"].startswith("application/x-bibtex")
        library = bibtexparser.parse_string(response.text)
        assert library.failed_blocks == []
        expected = card_slugs(client, f"/?{view}")
        assert [e["url"] for e in library.entries] == [url_of[s] for s in expected]
        assert expected


def test_bulk_export_ignores_the_views_pages(client):
    everything = bibtexparser.parse_string(client.get("/papers.bib?per_page=2&page=2").text)
    assert len(everything.entries) == client.get("/api/papers").json()["total"]


def test_csl_json_of_a_view(client):
    items = client.get("/papers.csl.json?min_rating=5").json()
    assert client.get("/papers.csl.json").headers["content-type"].startswith(
        "application/vnd.citationstyles.csl+json")
    assert [i["number"] for i in items] == card_slugs(client, "/?min_rating=5")
    assert all(i["title"] and i["URL"].startswith("http") for i in items)


def test_bad_filters_are_a_400_not_a_500(client):
    for url in ["/papers.bib?min_rating=9", "/papers.csl.json?year=abc"]:
        response = client.get(url)
        assert 400 <= response.status_code < 500, (url, response.status_code)


def test_paper_page_has_highwire_tags_for_zotero(client):
    soup = soup_of(client, "/papers/1503.02531")
    meta = {m["name"]: m["content"] for m in soup.select("meta[name^=citation_]")}
    assert meta["citation_title"] == "Distilling the Knowledge in a Neural Network"
    assert meta["citation_publication_date"] == "2014"
    assert meta["citation_conference_title"] == "NIPS"
    assert meta["citation_arxiv_id"] == "1503.02531"
    assert meta["citation_pdf_url"] == "https://arxiv.org/pdf/1503.02531"


def test_catalog_cards_carry_one_coins_span_each(client):
    soup = soup_of(client, "/?min_rating=4")
    cards = soup.select("article.paper-card")
    spans = soup.select("span.Z3988")
    assert len(spans) == len(cards) > 1
    first = parse_qs(spans[0]["title"])
    assert first["ctx_ver"] == ["Z39.88-2004"]
    assert first["rft.atitle"] == [cards[0].h3.get_text(strip=True)]
    assert spans[0].get_text() == ""  # nothing shows; Zotero reads the title attribute


def test_opengraph_and_twitter_cards(client):
    soup = soup_of(client, "/papers/1503.02531")
    og = {m["property"]: m["content"] for m in soup.select("meta[property^=og]")}
    assert og["og:type"] == "article"
    assert og["og:title"] == "Distilling the Knowledge in a Neural Network"
    assert og["og:url"] == "http://testserver/papers/1503.02531"
    assert og["og:description"].startswith("Hinton出品")
    assert soup.select_one('meta[name="twitter:card"]')["content"] == "summary"
    assert soup.select_one('link[rel="canonical"]')["href"] == og["og:url"]
    home = soup_of(client, "/")
    assert home.select_one('meta[property="og:type"]')["content"] == "website"


def test_public_url_wins_over_the_host_header(seed_notes, tmp_path):
    settings = make_settings(seed_notes, tmp_path, public_url="https://notes.example.org/kd")
    with TestClient(create_app(settings)) as client:
        soup = BeautifulSoup(client.get("/papers/1503.02531", headers={"host": "evil.example"})
                             .text, "html.parser")  # fmt: skip
        assert soup.select_one('meta[property="og:url"]')["content"] == (
            "https://notes.example.org/kd/papers/1503.02531")
        sitemap = client.get("/sitemap.xml", headers={"host": "evil.example"}).text
        assert "evil.example" not in sitemap and "https://notes.example.org/kd/papers/" in sitemap


def test_sitemap_lists_every_paper_with_its_lastmod(client):
    response = client.get("/sitemap.xml")
    assert response.headers["content-type"].startswith("application/xml")
    urls = ElementTree.fromstring(response.content).findall(f"{SITEMAP}url")
    locs = {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod") for u in urls}
    papers = client.get("/api/papers").json()["papers"]
    for paper in papers:
        assert locs[f"http://testserver/papers/{paper['slug']}"] == paper["updated"][:10]
    assert "http://testserver/methods" in locs and "http://testserver/" in locs


def test_robots_points_at_the_sitemap(client):
    text = client.get("/robots.txt").text
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /runs" in text.splitlines()


def test_each_view_links_its_own_exports(client):
    for view, expected in [("/?min_rating=4&page=1", "/papers.bib?min_rating=4"),
                           ("/categories/self-kd", "/papers.bib?category=self-kd"),
                           ("/", "/papers.bib")]:  # fmt: skip
        links = soup_of(client, view).select("p.export a")
        assert [a["href"] for a in links] == [expected, expected.replace(".bib", ".csl.json")]
        listed = card_slugs(client, view)
        assert len(bibtexparser.parse_string(client.get(links[0]["href"]).text).entries) == len(
            listed)
