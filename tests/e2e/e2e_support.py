"""What the browser tests and the screenshot script share: a real server started the
way users start it (`python -m app serve`, configured by env vars) and Debian's
Chromium driven by Playwright. Every wait has a deadline: nothing here can hang."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]

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

#: Settings of the test server: one run at a time (the machine is small), a per-client
#: limit that a whole test session stays under, single-threaded CPU workers, and notes
#: re-read on every request so that a test can add a notes file.
SERVER_ENV = {
    "HOST": "127.0.0.1",
    "DEVICE": "cpu",
    "TORCH_THREADS": "1",
    "RUN_CONCURRENCY": "1",
    "RUN_QUEUE_SIZE": "16",
    "RUN_QUEUE_PER_CLIENT": "16",
    "NOTES_POLL_INTERVAL": "0",
    "LOG_LEVEL": "warning",
}
#: Settings that a developer's shell or .env must not leak into the test server.
CLEARED_ENV = ("RUN_TOKEN", "NOTES_DIR", "DATA_DIR", "PORT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`python -m app serve` on 127.0.0.1 and a free port, over a private copy of
    notes/ and an empty data folder. Its own process group, so that stopping it also
    ends any worker it spawned."""

    def __init__(self, workdir: Path, **env: str):
        self.notes_dir = workdir / "notes"
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        shutil.copytree(ROOT / "notes", self.notes_dir)
        self.data_dir.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        environment.update(SERVER_ENV)
        environment.update(
            NOTES_DIR=str(self.notes_dir),
            DATA_DIR=str(self.data_dir),
            PORT=str(self.port),
            **env,
        )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve"],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.startup_s = self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float = 60.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start-up:\n{self.log()}")
            try:
                r = httpx.get(f"{self.url}/healthz", timeout=2)
                if r.status_code == 200 and r.json().get("papers", 0) > 0:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server was not healthy after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        # Whatever the server started and left behind (its group is ours alone).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


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


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
