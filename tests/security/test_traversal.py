"""Slugs, run ids and file names can't reach outside notes/ or static/: request
paths sent raw to a real server (dot segments, percent-encoded and
double-encoded slashes and dots, backslashes, NUL, overlong UTF-8) get a 404 and
never a byte of a file they aim at: the project's own files, the data folder
(the run database, a canary), a canary beside the notes, /etc/passwd."""

from __future__ import annotations

import pytest
from support.security import CANARY, PNG

HTML = {"Accept": "text/html"}
# What the targets hold: finding any of these in a response is a leak.
LEAKS = [
    b"[build-system]",  # pyproject.toml
    b"class Settings(BaseSettings)",  # app/settings.py
    b"root:x:0:0",  # /etc/passwd
    b"SQLite format 3",  # data/runs.sqlite3
    CANARY.encode(),  # notes/private.txt and data/secret.md
    "记录一些读过的论文".encode(),  # the notes file itself, served raw
]

STATIC = [
    "/static/../pyproject.toml",
    "/static/../../etc/passwd",
    "/static/..%2fpyproject.toml",
    "/static/..%2Fapp%2Fsettings.py",
    "/static/%2e%2e/pyproject.toml",
    "/static/%2E%2E%2Fpyproject.toml",
    "/static/css/..%2f..%2fpyproject.toml",
    "/static/css/../../app/settings.py",
    "/static/..%252fpyproject.toml",
    "/static/%252e%252e/pyproject.toml",
    "/static/%c0%ae%c0%ae/pyproject.toml",
    "/static/%ef%bc%8e%ef%bc%8e/pyproject.toml",
    "/static/..\\pyproject.toml",
    "/static/..%5cpyproject.toml",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/css/app.css%00.txt",
    "/static/%00",
    "/static/",
    "/static/css/",
    "/static/../notes/knowledge-distillation.md",
    "/static/../data/runs.sqlite3",
]
VENDOR = [
    "/vendor/swagger/..%2f..%2fpyproject.toml",
    "/vendor/swagger/..%2F..%2Fapp%2Fsettings.py",
    "/vendor/swagger/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/vendor/swagger/../../pyproject.toml",
    "/vendor/swagger/..",
    "/vendor/swagger/swagger-ui.css%00",
    "/vendor/swagger/index.html",
    "/vendor/swagger/package.json",
    "/vendor/plotly.min.js/..%2f..%2fpyproject.toml",
]
# Files beside the notes (app/catalog/files.py): images and PDFs inside NOTES_DIR only.
NOTES = [
    "/notes/..%2f..%2fpyproject.toml",
    "/notes/..%2Fdata%2Fsecret.md",
    "/notes/%2e%2e/%2e%2e/etc/passwd",
    "/notes/%2e%2e%2fdata%2fruns.sqlite3",
    "/notes/figs/..%2f..%2f..%2fpyproject.toml",
    "/notes/..%252f..%252fpyproject.toml",
    "/notes/%c0%ae%c0%ae/pyproject.toml",
    "/notes/..\\data\\secret.md",
    "/notes/..%5cdata%5csecret.md",
    "/notes//etc/passwd",
    "/notes/%2fetc%2fpasswd",
    "/notes/figs/fig.png%00.md",
    "/notes/%00.png",
    "/notes/",
    "/notes/figs/",
    "/notes/private.txt",
    "/notes/knowledge-distillation.md",
    "/notes/../data/runs.sqlite3",
    "/notes/leak.png",  # a link to data/secret.md, named like an image
    "/notes/.hidden/fig.png",
]
SLUGS = [
    "/papers/..%2f..%2fpyproject.toml",
    "/papers/../../etc/passwd",
    "/papers/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/papers/..",
    "/papers/%00",
    "/papers/knowledge-distillation.md",
    "/papers/private.txt",
    "/papers/..%2fprivate.txt",
    "/papers/1503.02531/..%2f..%2f..%2fpyproject.toml",
    "/papers/..%2f..%2fpyproject.toml/bibtex",
    "/categories/..%2f..%2fnotes",
    "/categories/..%2fprivate.txt",
    "/api/papers/..%2f..%2fpyproject.toml",
    "/api/papers/%2e%2e",
    "/api/papers/..%2fprivate.txt",
    "/runs/..%2f..%2fruns.sqlite3",
    "/runs/..%2fsecret.md",
    "/api/runs/..%2fruns.sqlite3",
    "/api/runs/..%2f..%2fdata%2fruns.sqlite3/metrics.csv",
    "/api/runs/%2e%2e/events",
    "/api/runs/%00",
    "/notes/knowledge-distillation.md",
    "/notes/private.txt",
    "/data/runs.sqlite3",
    "/secret.md",
    "/..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
]


@pytest.mark.parametrize("path", STATIC + VENDOR + NOTES + SLUGS)
def test_a_path_that_aims_outside_gets_a_404_and_no_file(live_server, path):
    for headers in ({}, HTML):
        status, response_headers, body = live_server.raw(path, headers=headers)
        assert status == 404, (path, status, body[:200])
        assert not any(leak in body for leak in LEAKS), (path, body[:200])
        assert response_headers["x-content-type-options"] == "nosniff"


def test_the_same_server_serves_what_it_should(live_server):
    """The 404s above are refusals, not a server that serves nothing."""
    status, headers, body = live_server.raw("/static/css/app.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and body
    status, _, body = live_server.raw("/vendor/swagger/swagger-ui.css")
    assert status == 200 and body
    status, headers, body = live_server.raw("/notes/figs/fig.png")
    assert status == 200 and headers["content-type"] == "image/png" and body == PNG
    status, _, body = live_server.raw("/papers/1503.02531", headers=HTML)
    assert status == 200 and b"Hinton" in body
    # The canary beside the notes is not a notes file: only *.md are read.
    status, _, body = live_server.raw("/api/papers?q=canary")
    assert status == 200 and b'"matched":0' in body and CANARY.encode() not in body
