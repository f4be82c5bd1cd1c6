"""GET /notes/{path}: images and PDFs beside the notes, for the notes' relative links;
nothing else under NOTES_DIR (tests/security/test_traversal.py sends it raw paths)."""

from __future__ import annotations

import shutil

import pytest
from bs4 import BeautifulSoup
from conftest import make_settings
from fastapi.testclient import TestClient
from support.security import PNG

from app import PROJECT_ROOT
from app.main import create_app
from app.web.security import CONTENT_SECURITY_POLICY

NOTE = """
# Figures
- [A paper](https://arxiv.org/abs/2001.00001) (CVPR2020)
    - 4分
    - ![the method](figs/method.png) and [the slides](slides.pdf), $\\mathcal{L}_{KD}$
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    notes = tmp_path_factory.mktemp("notes")
    shutil.copy(PROJECT_ROOT / "notes" / "knowledge-distillation.md", notes)
    (notes / "more").mkdir()
    (notes / "more" / "figures.md").write_text(NOTE, encoding="utf-8")
    (notes / "more" / "figs").mkdir()
    (notes / "more" / "figs" / "method.png").write_bytes(PNG)
    (notes / "more" / "slides.pdf").write_bytes(b"%PDF-1.4 not much of a pdf")
    (notes / "more" / "drawing.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (notes / "more" / "notes.txt").write_text("not served")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.png").write_bytes(b"outside the notes")
    (notes / "more" / "link.png").symlink_to(outside / "secret.png")
    settings = make_settings(notes, tmp_path_factory.mktemp("data"), run_warm_workers=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def resolve_from(page: str, link: str) -> str:
    """Where a browser goes for a page-relative link (the note's links are)."""
    import urllib.parse

    return urllib.parse.urljoin(f"http://testserver{page}", link).removeprefix("http://testserver")


def test_the_paper_page_links_reach_the_files(client):
    page = "/papers/2001.00001"
    soup = BeautifulSoup(client.get(page).text, "html.parser")
    img = soup.select_one(".notes img") or soup.find("img", alt="the method")
    assert img is not None
    response = client.get(resolve_from(page, img["src"]))
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"
    # The page's CSP is as it was: images from our own origin already pass it.
    assert client.get(page).headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    slides = soup.find("a", string="the slides")
    response = client.get(resolve_from(page, slides["href"]))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert soup.find("math") is not None and not soup.select("script:not([src])")


def test_an_svg_is_served_as_a_sandboxed_document(client):
    response = client.get("/notes/more/drawing.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    ["more/notes.txt", "knowledge-distillation.md", "more/figures.md", "more/link.png",
     "more/missing.png", "more", "more/figs"],  # raw dot segments: tests/security
)  # fmt: skip
def test_anything_else_is_a_404(client, path):
    response = client.get(f"/notes/{path}")
    assert response.status_code == 404
    assert b"outside the notes" not in response.content and b"not served" not in response.content
