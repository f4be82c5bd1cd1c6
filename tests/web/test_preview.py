"""The author's preview: the event stream of the notes' version, the page's own
version it is compared with, the AUTHOR_MODE banner (and its absence otherwise), the
footer's notes folder, and the demo badge and facet of the catalog."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from bs4 import BeautifulSoup
from conftest import make_settings
from fastapi.testclient import TestClient

from app import PROJECT_ROOT
from app.main import create_app
from app.web import preview

DOUBTS = PROJECT_ROOT / "tests" / "catalog" / "fixtures" / "doubts.md"


@pytest.fixture
def notes(tmp_path):
    folder = tmp_path / "my-reading"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "notes" / "knowledge-distillation.md", folder)
    return folder


def app_client(notes, tmp_path, **settings):
    return TestClient(create_app(make_settings(notes, tmp_path / "data", **settings)))


def soup(client, url: str) -> BeautifulSoup:
    return BeautifulSoup(client.get(url).text, "html.parser")


def versions(body: str) -> list[str]:
    lines = body.splitlines()
    return [lines[i + 1].removeprefix("data: ") for i, line in enumerate(lines)
            if line == "event: version"]  # fmt: skip


def test_stream_sends_the_version_each_page_was_rendered_from(notes, tmp_path, monkeypatch):
    monkeypatch.setattr(preview, "STREAM_SECONDS", 0)  # one version, then the stream ends
    with app_client(notes, tmp_path) as client:
        for url, stream in [("/", "/api/notes/events"),
                            ("/categories/self-kd", "/api/notes/events"),
                            ("/papers/1503.02531", "/api/notes/events?paper=1503.02531")]:
            meta = soup(client, url).select_one('meta[name="notes-version"]')
            response = client.get(stream)
            assert response.headers["content-type"].startswith("text/event-stream")
            assert versions(response.text) == [meta["content"]], url
        page = soup(client, "/papers/1503.02531")
        assert page.select_one('meta[name="notes-version"]')["data-paper"] == "1503.02531"
        assert page.select_one('script[src="/static/js/preview.js"]') is not None
        assert versions(client.get("/api/notes/events?paper=nope").text) == ["gone"]


def test_stream_sends_a_new_version_when_the_notes_change(notes, tmp_path, monkeypatch):
    monkeypatch.setattr(preview, "STREAM_SECONDS", 3.0)
    path = notes / "knowledge-distillation.md"

    def edit_soon():
        time.sleep(0.8)
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("开山之作", "开山之作，必读"), encoding="utf-8")

    with app_client(notes, tmp_path) as client:
        editor = threading.Thread(target=edit_soon)
        editor.start()
        body = client.get("/api/notes/events?paper=1503.02531").text
        editor.join()
        sent = versions(body)
        assert len(sent) == 2 and sent[0] != sent[1]
        page = soup(client, "/papers/1503.02531")
        assert page.select_one('meta[name="notes-version"]')["content"] == sent[1]


def test_a_paper_page_version_ignores_edits_to_other_papers(notes, tmp_path, monkeypatch):
    monkeypatch.setattr(preview, "STREAM_SECONDS", 0)
    path = notes / "knowledge-distillation.md"
    with app_client(notes, tmp_path) as client:
        hinton = versions(client.get("/api/notes/events?paper=1503.02531").text)
        catalog = versions(client.get("/api/notes/events").text)
        path.write_text(path.read_text(encoding="utf-8").replace("TF-KD", "TF-KD（无教师）"),
                        encoding="utf-8")  # fmt: skip
        assert versions(client.get("/api/notes/events?paper=1503.02531").text) == hinton
        assert versions(client.get("/api/notes/events").text) != catalog


def test_live_reload_can_be_turned_off(notes, tmp_path):
    with app_client(notes, tmp_path, live_reload=False) as client:
        page = soup(client, "/")
        assert page.select_one('meta[name="notes-version"]') is None
        assert page.select_one('script[src$="preview.js"]') is None


def test_author_mode_banner_lists_diagnostics_with_file_and_line(notes, tmp_path):
    shutil.copy(DOUBTS, notes / "doubts.md")
    (notes / "typos.md").write_text(
        "# 草稿\n\n## 错误\n\n- [No rating](https://arxiv.org/abs/2101.00001) (CVPR2021)\n"
        "    - 演示: kdd\n    - 评分之外的一条笔记\n", encoding="utf-8")  # fmt: skip
    with app_client(notes, tmp_path, author_mode=True) as client:
        for url in ["/", "/papers/1503.02531", "/methods"]:
            banner = soup(client, url).select_one("section.author-banner")
            assert banner is not None, url
            items = [li.get_text(" ", strip=True) for li in banner.select("li")]
            assert any(i.startswith("typos.md:5 警告: paper has no rating") for i in items)
            assert any(i.startswith("typos.md:6 错误: unknown demo method 'kdd'")
                       for i in items), items  # fmt: skip


def test_no_banner_without_author_mode_even_with_diagnostics(notes, tmp_path):
    (notes / "typos.md").write_text(
        "# 草稿\n\n- [No rating](https://arxiv.org/abs/2101.00001) (CVPR2021)\n    - 笔记\n",
        encoding="utf-8")  # fmt: skip
    with app_client(notes, tmp_path) as client:
        for url in ["/", "/papers/2101.00001", "/methods", "/nope"]:
            text = client.get(url).text
            assert "author-banner" not in text and "paper has no rating" not in text, url


def test_footer_names_the_real_notes_folder(notes, tmp_path):
    with app_client(notes, tmp_path) as client:
        footer = soup(client, "/").select_one("footer.site-footer code")
        assert footer.get_text() == "my-reading/"


def test_demo_facet_and_badge(client):
    page = soup(client, "/")
    cards = page.select("article.paper-card")
    badged = [c["data-slug"] for c in cards if c.select_one(".badge-demo")]
    api = client.get("/api/papers").json()
    assert badged == [p["slug"] for p in api["papers"] if p["has_demo"]]
    facet = {f["value"]: f["count"] for f in api["facets"]["has_demo"]}
    assert facet["true"] + facet["false"] == api["total"]
    options = {o["value"]: o.get_text() for o in page.select("#has_demo option")}
    assert options["true"].endswith(f"（{facet['true']}）")
    with_demo = client.get("/api/papers?has_demo=true").json()
    assert with_demo["matched"] == facet["true"]
    without = client.get("/api/papers?has_demo=false").json()
    assert without["matched"] == facet["false"]
    assert [c["data-slug"] for c in soup(client, "/?has_demo=true").select("article.paper-card")
            ] == [p["slug"] for p in with_demo["papers"]]  # fmt: skip
    assert client.get("/api/papers?has_demo=maybe").status_code == 422


def test_demo_facet_counts_papers_without_a_demo(notes, tmp_path):
    (notes / "more.md").write_text(
        "# 更多\n\n## 其他\n\n- [Unbound Paper](https://example.org/unbound) (CVPR2021)\n"
        "    - 3分\n    - 没有演示的论文\n", encoding="utf-8")  # fmt: skip
    with app_client(notes, tmp_path) as client:
        api = client.get("/api/papers?has_demo=false").json()
        assert [p["slug"] for p in api["papers"]] == ["unbound-paper"]
        card = soup(client, "/?has_demo=false").select_one("article.paper-card")
        assert card["data-slug"] == "unbound-paper" and card.select_one(".badge-demo") is None
