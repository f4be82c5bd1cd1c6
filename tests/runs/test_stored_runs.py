"""Runs stored by the code before the typed run record (tests/support/stored: a
SQLite store of that code, as a SQL dump) read and show as they did then
(pages_before.json, captured with that code by capture_pages.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app import PROJECT_ROOT
from app.main import create_app
from app.settings import Settings

STORED = Path(__file__).resolve().parents[1] / "support" / "stored"
BEFORE = json.loads((STORED / "pages_before.json").read_text())
#: The page parts whose text is compared, by URL (the rest of a page is chrome).
SELECTORS = {"/runs/run1": "#run-summary", "/runs/old": "#run-summary",
             "/runs/compare?ids=run0,run1,run2,old": "main table"}


def old_store(data: Path) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data / "runs.sqlite3")
    db.executescript((STORED / "runs_before_migrations.sql").read_text())
    db.close()
    return data / "runs.sqlite3"


@pytest.fixture(scope="module")
def old_client(tmp_path_factory):
    root = tmp_path_factory.mktemp("stored")
    old_store(root / "data")
    notes = root / "notes"
    notes.mkdir()
    shutil.copy(PROJECT_ROOT / "notes" / "knowledge-distillation.md", notes)
    settings = Settings(notes_dir=notes, data_dir=root / "data", notes_poll_interval=0,
                        run_token="")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize("url", [u for u, (_, body) in BEFORE.items() if u.startswith("/api/")])
def test_the_exports_and_json_of_old_runs_are_what_they_were(old_client, url):
    response = old_client.get(url)
    assert response.status_code == BEFORE[url][0]
    if ".csv" in url:
        assert response.text == BEFORE[url][1]
    else:
        assert response.json() == json.loads(BEFORE[url][1])


@pytest.mark.parametrize("url", list(SELECTORS))
def test_the_pages_of_old_runs_read_as_they_did(old_client, url):
    response = old_client.get(url)
    assert response.status_code == BEFORE[url][0] == 200
    node = BeautifulSoup(response.text, "html.parser").select_one(SELECTORS[url])
    assert " ".join(node.get_text(" ").split()) == BEFORE[url][1]


def test_every_old_run_reads_with_a_typed_summary(old_client):
    runs = {r["id"]: r for r in old_client.get("/api/runs?limit=500").json()["runs"]}
    assert {r["summary"]["version"] for r in runs.values() if r["summary"]} == {2}
    assert runs["old"]["summary"]["final_acc"] == 0.9164 and runs["broken"]["summary"] is None
    for url in ("/runs", "/runs/broken", "/methods"):
        assert old_client.get(url).status_code == 200
