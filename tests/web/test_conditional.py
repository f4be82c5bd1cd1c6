"""ETag and If-None-Match: an unchanged view answers 304 with no body, a changed one
(an edit, another query, another language) answers 200 with a new tag."""

from __future__ import annotations

import shutil

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient

from app import PROJECT_ROOT
from app.main import create_app

VIEWS = ["/", "/?min_rating=4&sort=added", "/categories/self-kd", "/api/papers",
         "/api/papers?has_demo=true", "/feed.xml", "/papers/1503.02531",
         "/api/papers/1503.02531", "/papers/1503.02531/bibtex", "/papers.bib?year=2020",
         "/papers.csl.json", "/sitemap.xml"]  # fmt: skip


@pytest.fixture
def notes(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "notes" / "knowledge-distillation.md", folder)
    return folder


@pytest.fixture
def app_client(notes, tmp_path):
    with TestClient(create_app(make_settings(notes, tmp_path / "data"))) as client:
        yield client


@pytest.mark.parametrize("url", VIEWS)
def test_unchanged_view_answers_304_without_a_body(client, url):
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    vary = [token.strip() for token in first.headers["vary"].split(",")]
    assert {"Accept-Language", "Cookie"} <= set(vary) and len(vary) == len(set(vary)), vary
    again = client.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "Accept-Language" in again.headers["vary"]
    # A list of tags, and the strong form of the same tag, match too (weak comparison).
    listed = client.get(url, headers={"if-none-match": f'"other", {etag.removeprefix("W/")}'})
    assert listed.status_code == 304
    assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200


def test_the_tag_is_stable_and_differs_by_query_and_language(client):
    tag = lambda url, **headers: client.get(url, headers=headers).headers["etag"]  # noqa: E731
    assert tag("/") == tag("/")
    assert tag("/") != tag("/?min_rating=4")
    assert tag("/api/papers") != tag("/")
    assert tag("/", **{"accept-language": "en"}) != tag("/", **{"accept-language": "zh"})


def test_head_answers_304_too(client):
    etag = client.get("/feed.xml").headers["etag"]
    assert client.head("/feed.xml", headers={"if-none-match": etag}).status_code == 304


def test_an_edit_changes_the_tag_of_what_it_touches(app_client, notes):
    before = {url: app_client.get(url).headers["etag"] for url in VIEWS}
    path = notes / "knowledge-distillation.md"
    path.write_text(path.read_text(encoding="utf-8").replace("开山之作", "开山之作，必读"),
                    encoding="utf-8")  # fmt: skip
    for url in ["/", "/api/papers", "/feed.xml", "/papers/1503.02531", "/api/papers/1503.02531"]:
        response = app_client.get(url, headers={"if-none-match": before[url]})
        assert response.status_code == 200, url
        assert response.headers["etag"] != before[url]
    assert "开山之作，必读" in app_client.get("/papers/1503.02531").text


def test_paper_page_tag_follows_its_bytes(app_client):
    first = app_client.get("/papers/1909.11723")
    second = app_client.get("/papers/1909.11723", headers={"if-none-match": first.headers["etag"]})
    assert second.status_code == 304


def test_settings_a_page_shows_change_its_tag(seed_notes, tmp_path):
    tags = []
    for overrides in ({}, {"author_mode": True}, {"site_title": "Other"}, {"run_token": "s3"}):
        settings = make_settings(seed_notes, tmp_path / "data", **overrides)
        with TestClient(create_app(settings)) as client:
            tags.append(client.get("/api/papers").headers["etag"])
    assert len(set(tags[:3])) == 3
    assert tags[3] == tags[0]  # a secret is no part of any tag
