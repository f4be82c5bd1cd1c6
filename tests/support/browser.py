"""Debian's Chromium driven by Playwright, and a guard on what its pages do."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

#: Debian's Chromium. Playwright must never download a browser (that fails here and in CI).
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    # Any name but the loopback address fails at once: a stray request to the outside
    # world is recorded by the tests instead of waiting on a network that is not there.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

def launch_chromium(playwright):
    if not Path(CHROMIUM_PATH).exists():
        raise RuntimeError(
            f"no Chromium at {CHROMIUM_PATH}: `apt-get install chromium` (or set CHROMIUM_PATH);"
            " never `playwright install`"
        )
    return playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS, timeout=60_000
    )


@dataclass
class PageGuard:
    """Records, for every page of a browser context, console errors, uncaught
    exceptions and requests that leave the local server."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: int = 0

    def attach(self, context) -> None:
        context.on("page", self._watch)
        for page in context.pages:
            self._watch(page)

    def _watch(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("request", self._on_request)

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = message.location or {}
            self.console_errors.append(f"{where.get('url', '?')}: {message.text}")

    def _on_request(self, request) -> None:
        self.requests += 1
        if not self.is_local(request.url):
            self.foreign_requests.append(request.url)

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True  # never leaves the browser
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def problems(self) -> list[str]:
        return (
            [f"console error: {e}" for e in self.console_errors]
            + [f"uncaught exception: {e}" for e in self.page_errors]
            + [f"request to another host: {u}" for u in self.foreign_requests]
        )
