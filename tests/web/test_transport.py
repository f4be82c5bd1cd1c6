"""HEAD on every GET route (the same status and headers, no body), and gzip for
HTML, JSON, CSS and JS, never for event streams."""

from __future__ import annotations

import pytest

#: The HTML and asset routes (not in the OpenAPI schema), beside every GET of the API.
PAGES = ["/", "/categories/{category}", "/papers/1503.02531", "/papers/1503.02531/bibtex",
         "/feed.xml", "/healthz", "/docs", "/openapi.json", "/vendor/plotly.min.js",
         "/vendor/swagger/swagger-ui.css", "/static/css/app.css", "/static/js/run.js",
         "/methods", "/methods/kd", "/runs", "/runs/{run_id}", "/runs/compare?ids={run_id}"]


@pytest.fixture(scope="module")
def finished_run(client) -> str:
    r = client.post("/api/runs", json={"method": "baseline", "params": {"epochs": 1}})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    client.post(f"/api/runs/{run_id}/cancel")
    return run_id


def get_routes(client, run_id: str) -> list[str]:
    spec = client.get("/openapi.json").json()
    category = client.get("/api/categories").json()[0]["slug"]
    values = {"slug": "1503.02531", "run_id": run_id, "method_id": "kd", "category": category}
    paths = PAGES + [p for p, ops in spec["paths"].items() if "get" in ops]
    query = {"/api/compare": f"?ids={run_id}", "/api/compare/metrics.json": f"?ids={run_id}",
             "/api/compare/metrics.csv": f"?ids={run_id}"}  # fmt: skip
    return [p.format(**values) + query.get(p, "") for p in paths]


def test_head_answers_on_every_get_route(client, finished_run):
    routes = get_routes(client, finished_run)
    assert len(routes) > 25
    for path in routes:
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code != 405, path
        assert head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path


@pytest.mark.parametrize("path", ["/", "/api/papers", "/static/css/app.css",
                                  "/static/js/run.js", "/vendor/plotly.min.js"])
def test_text_is_gzipped_when_the_client_accepts_it(client, path):
    r = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers.get("content-encoding") == "gzip", path
    assert "accept-encoding" in r.headers.get("vary", "").lower()


def test_event_streams_are_never_compressed(client, finished_run):
    with client.stream("GET", f"/api/runs/{finished_run}/events",
                       headers={"Accept-Encoding": "gzip"}) as r:  # fmt: skip
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in r.headers
