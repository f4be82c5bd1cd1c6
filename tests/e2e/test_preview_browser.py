"""The live preview in Chromium: an open paper page reloads itself when its note is
edited on disk, and stays as it is when another paper's note is."""

from __future__ import annotations

import time

import pytest
from support.waits import wait_until

pytestmark = pytest.mark.e2e

NOTES_FILE = "knowledge-distillation.md"


@pytest.fixture
def notes_file(server, api):
    path = server.notes_dir / NOTES_FILE
    original = path.read_text(encoding="utf-8")
    yield path
    path.write_text(original, encoding="utf-8")
    wait_until(lambda: "开山之作" in api.get("/api/papers/1503.02531").text, 10,
               what="the server to read the restored notes")  # fmt: skip


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_open_page_reloads_when_its_note_changes(page, notes_file):
    page.goto("/papers/1503.02531")
    page.wait_for_function("() => document.querySelector('meta[name=notes-version]')")
    page.evaluate("() => { window.__before_reload = true; }")
    time.sleep(1.0)  # the stream is open and has sent the page's own version

    # Another paper's note changes: this page stays as it is.
    edit(notes_file, "TF-KD，一种", "TF-KD（无需教师），一种")
    time.sleep(2.5)
    assert page.evaluate("() => window.__before_reload") is True

    # Its own note changes: it reloads by itself and shows the edit.
    edit(notes_file, "知识蒸馏开山之作。", "知识蒸馏开山之作，预览测试。")
    page.wait_for_function(
        "() => document.querySelector('section.note').innerText.includes('预览测试')",
        timeout=10_000,
    )
    assert page.evaluate("() => window.__before_reload") is None


def test_the_catalog_reloads_when_any_note_changes(page, notes_file):
    page.goto("/")
    page.wait_for_function("() => document.querySelector('meta[name=notes-version]')")
    time.sleep(1.0)
    edit(notes_file, "知识蒸馏开山之作。", "知识蒸馏开山之作，目录预览。")
    page.wait_for_function(
        "() => document.querySelector('article.paper-card[data-slug=\"1503.02531\"] .insight')"
        ".innerText.includes('目录预览')",
        timeout=10_000,
    )
