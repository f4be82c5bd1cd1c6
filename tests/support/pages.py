"""Reading the app's pages and runs in-process: a page as parsed HTML, a run waited
for until it finishes (failing instead of hanging)."""

from __future__ import annotations

import time

from bs4 import BeautifulSoup

HTML = {"accept": "text/html"}


def soup_of(client, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url, headers=HTML)
    assert response.status_code == status, response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def wait_finished(client, run_id: str, timeout: float = 180) -> dict:
    """The run's JSON once it is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")
