"""The site is named by its notes: the first top heading, SITE_TITLE over it, and a
default when neither is there; in the header, every page title and the feed."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web.templating import DEFAULT_SITE_TITLE

HTML = {"accept": "text/html"}
ATOM = "{http://www.w3.org/2005/Atom}"
PAGES = ("/", "/papers/1503.02531", "/categories/self-kd", "/runs", "/docs")


def soup_of(client, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url, headers=HTML)
    assert response.status_code == status, response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def names(client, url: str, status: int = 200) -> tuple[str, str]:
    """The header's brand and the text of <title>."""
    soup = soup_of(client, url, status)
    return soup.select_one(".site-header .brand").get_text(), soup.title.get_text()


def feed_title(client) -> str:
    return ElementTree.fromstring(client.get("/feed.xml").content).findtext(f"{ATOM}title")


def serve(notes_dir, data_dir, **settings):
    return TestClient(
        create_app(Settings(notes_dir=notes_dir, data_dir=data_dir, run_warm_workers=0, **settings))
    )


def test_the_seed_names_the_site_by_its_heading(client):
    for url in PAGES:
        brand, title = names(client, url)
        assert brand == "论文阅读笔记", url
        assert title == "论文阅读笔记" or title.endswith(" · 论文阅读笔记"), (url, title)
    assert names(client, "/papers/1503.02531")[1] == (
        "Distilling the Knowledge in a Neural Network · 论文阅读笔记"
    )
    assert names(client, "/papers/nope", status=404)[1] == "404 找不到页面 · 论文阅读笔记"
    assert feed_title(client) == "论文阅读笔记"
    assert "知识蒸馏论文笔记" not in client.get("/", headers=HTML).text


def test_site_title_setting_wins_and_is_escaped(seed_notes, tmp_path):
    with serve(seed_notes, tmp_path, site_title="<b>My & notes</b>") as client:
        brand, title = names(client, "/papers/1503.02531")
        assert brand == "<b>My & notes</b>"  # as text: escaped, not markup
        assert title.endswith(" · <b>My & notes</b>")
        assert feed_title(client) == "<b>My & notes</b>"


def test_site_title_from_the_environment(seed_notes, tmp_path, monkeypatch):
    monkeypatch.setenv("SITE_TITLE", "环境里的名字")
    with serve(seed_notes, tmp_path) as client:
        assert names(client, "/") == ("环境里的名字", "环境里的名字")


@pytest.mark.parametrize("configured", [None, "", "   "])
def test_notes_without_a_top_heading_get_the_default(tmp_path, configured):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("## 小节\n\n- [P](https://example.org/p)\n    - 3分\n")
    with serve(notes, tmp_path, site_title=configured) as client:
        assert names(client, "/") == (DEFAULT_SITE_TITLE, DEFAULT_SITE_TITLE)
        assert feed_title(client) == DEFAULT_SITE_TITLE


def test_an_edited_heading_renames_the_site_without_a_restart(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# 旧名字\n", encoding="utf-8")
    with serve(notes, tmp_path, notes_poll_interval=0) as client:
        assert names(client, "/")[0] == "旧名字"
        (notes / "a.md").write_text("# 新的名字\n", encoding="utf-8")
        assert names(client, "/")[0] == "新的名字"
