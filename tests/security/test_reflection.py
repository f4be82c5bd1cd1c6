"""What a client sends and a page shows back (a search term, a filter, a slug in
a 404, a bad form field in an error page) comes out as text, never as markup."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html"}
PAYLOAD = "\"'><script>window.pwned=1</script><img src=x onerror=window.pwned=2><svg onload=x>"


def assert_inert(page: str, where: str) -> None:
    assert PAYLOAD not in page, where
    soup = BeautifulSoup(page, "html.parser")
    for tag in soup.find_all(True):
        assert not any(attr.lower().startswith("on") for attr in tag.attrs), (where, tag)
    for script in soup.find_all("script"):
        # Only our own files run; JSON data blocks are inert.
        assert script.get("src", "").startswith("/") or script.get("type") == "application/json"
        assert "pwned" not in (script.string or ""), where
    assert soup.find("svg") is None and not soup.find("img", src="x"), where


@pytest.fixture(scope="module")
def client(seed_notes, tmp_path_factory):
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(
        notes_dir=seed_notes,
        data_dir=tmp_path_factory.mktemp("reflect"),
        notes_poll_interval=0,
        run_warm_workers=0,
        run_token=None,  # whatever the environment or a .env file says
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/", {"q": PAYLOAD}),
        ("/", {"venue": PAYLOAD}),
        ("/", {"category": PAYLOAD}),
        ("/", {"rating": PAYLOAD}),
        ("/", {"sort": PAYLOAD}),
        ("/", {"page": PAYLOAD}),
        ("/categories/distilling-from-logits", {"q": PAYLOAD}),
        (f"/papers/{PAYLOAD}", None),
        (f"/categories/{PAYLOAD}", None),
        (f"/runs/{PAYLOAD}", None),
        ("/runs", {"method": PAYLOAD}),
        ("/runs", {"status": PAYLOAD}),
        ("/runs", {"compare": PAYLOAD}),
        (f"/{PAYLOAD}", None),
    ],
)
def test_reflected_query_and_path_come_back_as_text(client, url, params):
    response = client.get(url, params=params, headers=HTML)
    assert response.headers["content-type"].startswith("text/html")
    assert_inert(response.text, f"{url} {params}")


@pytest.mark.parametrize(
    "form",
    [
        {"method": PAYLOAD},
        {"method": "kd", "epochs": PAYLOAD},
        {"method": "kd", PAYLOAD: "1"},
        {"method": "kd", "params": PAYLOAD},
    ],
)
def test_a_refused_form_comes_back_as_text(client, form):
    response = client.post("/api/runs", data=form, headers=HTML)
    assert response.status_code in (400, 404, 422)
    assert response.headers["content-type"].startswith("text/html")
    assert_inert(response.text, str(form))
    assert client.get("/api/runs").json()["runs"] == []
