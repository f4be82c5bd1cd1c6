"""A paper bound to a demo only by its note's `演示:` bullet gets it everywhere the
registry's binding shows: the paper page, its JSON, the run pages and /api/runs."""

from __future__ import annotations

import time

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.distill.methods import METHODS
from app.main import create_app
from app.settings import Settings

HTML = {"accept": "text/html"}
INCEPTION = "Rethinking the Inception Architecture for Computer Vision"
NOTES = f"""# 我的蒸馏笔记

## Logits

- [{INCEPTION}](https://arxiv.org/abs/1512.00567) (CVPR2016)
    - 4分
    - label smoothing 的出处。
- [A Paper Only The Note Binds](https://arxiv.org/abs/2101.00001) (ICML2021)
    - 3分
    - 演示：cskd，nosuchmethod
    - 一条笔记。
- [Plain Paper](https://example.org/plain.pdf) (CVPR2020)
    - 2分
    - 没有演示。
"""
NOTE_BOUND = "2101.00001"


@pytest.fixture(scope="module")
def bound_client(tmp_path_factory):
    notes = tmp_path_factory.mktemp("bound-notes")
    (notes / "notes.md").write_text(NOTES, encoding="utf-8")
    settings = Settings(
        notes_dir=notes,
        data_dir=tmp_path_factory.mktemp("bound-data"),
        notes_poll_interval=0,
        run_warm_workers=0,  # nothing here trains: runs are stored, not launched
    )
    with TestClient(create_app(settings)) as client:
        yield client


def soup_of(client, url: str) -> BeautifulSoup:
    response = client.get(url, headers=HTML)
    assert response.status_code == 200, response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def demo_forms(client, slug: str) -> list[str]:
    return [f["data-method"] for f in soup_of(client, f"/papers/{slug}").select("#demo form")]


def stored_run(client, run_id: str, method: str) -> None:
    """A finished run put straight into the app's store."""
    store = client.app.state.runs.store
    store.create_run(run_id, method, {"epochs": 1}, "127.0.0.1", time.time())
    summary = {"method": method, "final_acc": 0.5}
    store.finish(run_id, "succeeded", {"type": "done", "summary": summary}, summary=summary)


def test_the_bullet_binds_a_demo_and_an_unknown_id_is_ignored(bound_client):
    assert demo_forms(bound_client, NOTE_BOUND) == ["cskd"]
    soup = soup_of(bound_client, f"/papers/{NOTE_BOUND}")
    note = soup.select_one(".paper-page").get_text()
    assert "一条笔记" in note and "nosuchmethod" not in note and "演示：" not in note


def test_the_inception_paper_is_bound_to_lsr_by_the_registry(bound_client):
    assert demo_forms(bound_client, "1512.00567") == ["lsr"]


def test_a_paper_with_neither_binding_has_no_demo(bound_client):
    assert demo_forms(bound_client, "plain-paper") == []


def test_runs_of_a_paper_include_its_note_bound_method(bound_client):
    stored_run(bound_client, "bindcskd0001", "cskd")
    stored_run(bound_client, "bindkd000001", "kd")
    runs = bound_client.get("/api/runs", params={"paper": NOTE_BOUND}).json()["runs"]
    assert [r["id"] for r in runs] == ["bindcskd0001"]


def test_the_run_page_links_back_to_the_note_bound_paper(bound_client):
    stored_run(bound_client, "bindcskd0002", "cskd")
    links = soup_of(bound_client, "/runs/bindcskd0002").select(".run-papers a")
    assert [a["href"] for a in links] == [f"/papers/{NOTE_BOUND}"]


def test_the_json_twin_lists_the_demos_the_page_shows(bound_client):
    for paper in bound_client.get("/api/papers").json()["papers"]:
        detail = bound_client.get(f"/api/papers/{paper['slug']}").json()
        assert [d["id"] for d in detail["demos"]] == demo_forms(bound_client, paper["slug"])
    detail = bound_client.get(f"/api/papers/{NOTE_BOUND}").json()
    assert detail["demos"] == [
        {"id": "cskd", "title": METHODS["cskd"].title, "url": "/methods/cskd"}
    ]
    # The note's own words stay in the record, the unknown id included, with its line.
    assert detail["note_demos"] == [
        {"method": "cskd", "line": 10},
        {"method": "nosuchmethod", "line": 10},
    ]
