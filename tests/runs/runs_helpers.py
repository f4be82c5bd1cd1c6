"""Helpers of the run service tests: a manager over fake trainers, and waits
that fail instead of hanging."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from app import PROJECT_ROOT
from app.runs import RunManager


@asynccontextmanager
async def running_manager(tmp_path: Path, target: str = "quick", **kw) -> AsyncIterator[RunManager]:
    """A started RunManager over a fresh database, with a fake trainer; stopped after."""
    kw.setdefault("warm_workers", 1)
    manager = RunManager(tmp_path / "runs.sqlite3", tmp_path, target=f"runs_fakes:{target}", **kw)
    manager.start()
    try:
        yield manager
    finally:
        await asyncio.to_thread(manager.stop)


async def wait_status(manager: RunManager, run_id: str, statuses, timeout: float = 20.0) -> dict:
    """Poll until the run reaches one of `statuses`; fail (never hang) after `timeout`."""
    statuses = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    while True:
        record = manager.get(run_id)
        if record and record["status"] in statuses:
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {record and record['status']}")
        await asyncio.sleep(0.02)


async def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
    return value


# -- a real server ---------------------------------------------------------------


class Server:
    """A uvicorn process serving create_app() on 127.0.0.1, configured by env vars."""

    def __init__(self, data_dir: Path, log_path: Path, **env: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        environment = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "NOTES_DIR": str(PROJECT_ROOT / "notes"),
            "LOG_LEVEL": "warning",
            **env,
        }
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
                cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
            )
        self.started_s = self._wait_up()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_up(self, timeout: float = 30.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited at start-up:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/api/runs?limit=1", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not up after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def worker_pids(self) -> list[int]:
        """The server's spawned worker processes (not multiprocessing's helpers)."""
        children = set()
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            children |= set((task / "children").read_text().split())
        pids = []
        for pid in sorted(int(c) for c in children):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline:
                pids.append(pid)
        return pids

    def mapped_files(self) -> str:
        return Path(f"/proc/{self.pid}/maps").read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def crash(self) -> None:
        self.process.kill()
        self.process.wait(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_sse(client: httpx.Client, url: str, *, headers: dict | None = None,
             stop_after: int | None = None, deadline: float = 60.0) -> list[dict]:
    """Read a run's event stream: [{id, event, data}], until the terminal event,
    `stop_after` events (then the connection is dropped), or `deadline` seconds
    (then the test fails). A silent stream fails on the 10 s read timeout."""
    events: list[dict] = []
    end = time.monotonic() + deadline
    fields: dict[str, str] = {}
    with client.stream("GET", url, headers=headers, timeout=httpx.Timeout(10.0)) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if time.monotonic() > end:
                raise AssertionError(f"stream {url} still open after {deadline} s")
            if line.startswith(":"):
                continue  # keep-alive ping
            if line:
                key, _, value = line.partition(":")
                fields[key] = value.removeprefix(" ")
                continue
            if "data" in fields:
                event = {"id": int(fields["id"]), "event": fields["event"],
                         "data": json.loads(fields["data"]), "received": time.time()}
                events.append(event)
                if event["event"] in TERMINAL or (stop_after and len(events) >= stop_after):
                    return events
            fields = {}
    return events


TERMINAL = {"done", "failed", "cancelled"}
