"""Security headers on every kind of response: HTML pages, JSON, static and vendored
files, the event stream, CSV, feeds, redirects and every sort of error, the 500
included. Most come from a real server; those that need a stand-in trainer or a
failing route come from an in-process app."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from support.security import KNOWN_RUN

HTML = {"Accept": "text/html"}
# Referrer-Policy values that never send a path to another origin.
PRIVATE_REFERRERS = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


def csp_directives(headers) -> dict[str, list[str]]:
    (policy,) = headers.get_list("content-security-policy")  # exactly one policy
    directives = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        directives[name.lower()] = sources
    return directives


def assert_secure(headers, what: str) -> None:
    directives = csp_directives(headers)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts, what
    # Scripts from our own origin (or pinned by hash): no inline code, no eval,
    # no other host, no data: or blob: URLs.
    for source in scripts:
        assert source == "'self'" or source.startswith(("'sha256-", "'sha384-", "'sha512-")), (
            what,
            source,
        )
    assert directives.get("object-src") == ["'none'"], what
    assert directives.get("frame-ancestors") == ["'none'"], what
    assert directives.get("base-uri") in (["'none'"], ["'self'"]), what
    assert headers["x-content-type-options"] == "nosniff", what
    assert headers["referrer-policy"] in PRIVATE_REFERRERS, what


LIVE = [
    # (method, path, request headers, body, status, content type)
    ("GET", "/", HTML, b"", 200, "text/html"),
    ("GET", "/papers/1503.02531", HTML, b"", 200, "text/html"),
    ("GET", "/categories/distilling-from-logits", HTML, b"", 200, "text/html"),
    ("GET", "/runs", HTML, b"", 200, "text/html"),
    ("GET", f"/runs/{KNOWN_RUN}", HTML, b"", 200, "text/html"),
    ("GET", "/docs", HTML, b"", 200, "text/html"),
    ("GET", "/api/papers", {}, b"", 200, "application/json"),
    ("GET", "/api/papers/1503.02531", {}, b"", 200, "application/json"),
    ("GET", "/openapi.json", {}, b"", 200, "application/json"),
    ("GET", "/healthz", {}, b"", 200, "application/json"),
    ("GET", f"/api/runs/{KNOWN_RUN}", {}, b"", 200, "application/json"),
    ("GET", f"/api/runs/{KNOWN_RUN}/metrics.json", {}, b"", 200, "application/json"),
    ("GET", f"/api/runs/{KNOWN_RUN}/metrics.csv", {}, b"", 200, "text/csv"),
    ("GET", f"/api/runs/{KNOWN_RUN}/events", {}, b"", 200, "text/event-stream"),
    ("GET", "/static/css/app.css", {}, b"", 200, "text/css"),
    ("HEAD", "/static/js/run.js", {}, b"", 200, "text/javascript"),
    ("GET", "/vendor/plotly.min.js", {}, b"", 200, "text/javascript"),
    ("GET", "/vendor/swagger/swagger-ui.css", {}, b"", 200, "text/css"),
    ("GET", "/feed.xml", {}, b"", 200, "application/atom+xml"),
    ("GET", "/papers/1503.02531/bibtex", {}, b"", 200, "text/plain"),
    ("GET", "/papers/nope", HTML, b"", 404, "text/html"),
    ("GET", "/api/papers/nope", {}, b"", 404, "application/json"),
    ("GET", "/static/nope.css", {}, b"", 404, "application/json"),
    ("GET", "/?rating=9", HTML, b"", 400, "text/html"),
    ("GET", "/api/papers?rating=9", {}, b"", 422, "application/json"),
    ("DELETE", "/api/runs", {}, b"", 405, "application/json"),
    ("POST", "/api/runs", {"Content-Type": "text/plain"}, b"kd", 415, "application/json"),
    ("POST", "/api/runs", {"Content-Type": "application/json"}, b"{", 400, "application/json"),
    ("POST", "/api/runs", {"Content-Type": "application/json"}, b"{}", 422, "application/json"),
    (
        "POST",
        "/api/runs",
        {"Content-Type": "application/json"},
        b" " * 70000,
        413,
        "application/json",
    ),
    ("GET", f"/api/runs/{KNOWN_RUN}/events", {"Last-Event-ID": "x"}, b"", 400, "application/json"),
    ("POST", f"/api/runs/{KNOWN_RUN}/cancel", {}, b"", 409, "application/json"),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "kind"),
    LIVE,
    ids=[f"{m} {p} {s}" for m, p, _, _, s, _ in LIVE],
)
def test_every_response_from_a_real_server_carries_the_headers(
    live_server, method, path, headers, body, status, kind
):
    got, response_headers, _ = live_server.raw(path, method, headers, body)
    assert got == status, (path, got)
    assert response_headers["content-type"].startswith(kind), response_headers["content-type"]
    assert_secure(response_headers, f"{method} {path}")


def test_a_500_carries_the_headers_too(make_app, caplog):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    caplog.set_level(logging.CRITICAL)  # the traceback is expected
    with TestClient(app, raise_server_exceptions=False) as client:
        for headers, kind in (({}, "application/json"), (HTML, "text/html")):
            response = client.get("/boom", headers=headers)
            assert response.status_code == 500
            assert response.headers["content-type"].startswith(kind)
            assert "RuntimeError" not in response.text  # no traceback for the reader
            assert_secure(response.headers, f"500 {kind}")


def test_redirects_and_run_refusals_carry_the_headers(make_app):
    app = make_app("hold", run_token="s3cret", run_queue_size=0, run_queue_per_client=1)
    with TestClient(app) as client:
        form = {"method": "kd", "epochs": "1", "token": "s3cret"}
        launched = client.post("/api/runs", data=form, headers=HTML, follow_redirects=False)
        assert launched.status_code == 303
        assert_secure(launched.headers, "303 after a form launch")
        refusals = [
            client.post("/api/runs", json={"method": "kd"}),  # 401
            client.post("/api/runs", json={"method": "kd", "token": "nope"}),  # 403
            client.post("/api/runs", json={"method": "kd", "token": "s3cret"}),  # 429
            client.post("/api/runs", data={"method": "kd"}, headers=HTML),  # 401 page
        ]
        assert [r.status_code for r in refusals] == [401, 403, 429, 401]
        for response in refusals:
            assert_secure(response.headers, str(response.status_code))
        run_id = launched.headers["location"].rsplit("/", 1)[1]
        cancel = client.post(f"/api/runs/{run_id}/cancel", headers={"X-Run-Token": "s3cret"})
        assert cancel.status_code == 200
