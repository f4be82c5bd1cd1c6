"""ROOT_PATH: the whole app under a sub-path, whether the proxy strips the prefix
(Caddy's handle_path) or passes it on."""

from __future__ import annotations

import re

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture(scope="module")
def under_kd(seed_notes, tmp_path_factory):
    settings = make_settings(seed_notes, tmp_path_factory.mktemp("data"), root_path="/kd")
    with TestClient(create_app(settings)) as client:
        yield client


def internal_urls(html: str) -> list[str]:
    return [u for u in re.findall(r'(?:href|src|action|data-openapi-url)="([^"]*)"', html)
            if not u.startswith(("http", "data:", "#", "mailto:"))]  # fmt: skip


@pytest.mark.parametrize("prefix", ["", "/kd"])  # stripped by the proxy, or passed on
@pytest.mark.parametrize("page", ["/", "/papers/1503.02531", "/methods", "/runs", "/docs"])
def test_every_internal_link_carries_the_prefix(under_kd, prefix, page):
    r = under_kd.get(prefix + page)
    assert r.status_code == 200
    assert 'data-root="/kd"' in r.text
    urls = internal_urls(r.text)
    assert urls and all(u.startswith("/kd/") for u in urls), [u for u in urls
                                                             if not u.startswith("/kd/")]


def test_the_openapi_page_names_the_prefix(under_kd):
    spec = under_kd.get("/openapi.json").json()
    assert spec["servers"] == [{"url": "/kd"}]


def test_a_launch_points_the_browser_under_the_prefix(under_kd):
    r = under_kd.post("/api/runs", json={"method": "baseline", "params": {"epochs": 1}})
    assert r.status_code == 202, r.text
    assert r.json()["url"].startswith("/kd/runs/") and r.headers["location"] == r.json()["url"]
    under_kd.post(f"/api/runs/{r.json()['id']}/cancel")


def test_without_a_prefix_links_stay_at_the_top(client):
    urls = internal_urls(client.get("/papers/1503.02531").text)
    assert urls and all(u.startswith("/") and not u.startswith("/kd") for u in urls)
