"""Live servers for the tests: a real web process on 127.0.0.1 and a free port,
started the way users start it (`python -m app serve`, or uvicorn's factory),
configured by env vars, in a process group of its own so that stopping it ends
any worker it spawned. Every wait has a deadline: nothing here can hang."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import httpx

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

#: Settings that a developer's shell or .env must not leak into a test server.
CLEARED_ENV = ("RUN_TOKEN", "NOTES_DIR", "DATA_DIR", "PORT", "RUN_STORE_URL", "RUN_EXECUTOR",
               "RAY_ADDRESS", "RUN_TARGET")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(**env: str) -> dict[str, str]:
    """The environment of a server process: ours, minus leaking settings, with
    tests/ importable (fake trainers are `support.fakes:<name>`), plus `env`."""
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    paths = [str(TESTS), *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment.update(PYTHONPATH=os.pathsep.join(paths), LOG_LEVEL="warning", RUN_TOKEN="")
    environment.update(env)
    return environment


class LiveServer:
    """One web server process. `command`: "serve" runs `python -m app serve`,
    "uvicorn" runs `uvicorn app.main:create_app --factory`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        notes_dir: Path | None = None,
        log_path: Path | None = None,
        command: str = "uvicorn",
        port: int | None = None,
        timeout: float = 60.0,
        cwd: Path | None = None,
        **env: str,
    ):
        self.data_dir, self.notes_dir = data_dir, notes_dir or ROOT / "notes"
        self.log_path = log_path or data_dir / "server.log"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = server_env(
            NOTES_DIR=str(self.notes_dir), DATA_DIR=str(data_dir), HOST="127.0.0.1",
            PORT=str(self.port), **env,
        )  # fmt: skip
        if command == "serve":
            argv = [sys.executable, "-m", "app", "serve"]
        else:
            argv = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                    "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=cwd or ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            self.started_s = self.startup_s = self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_healthy(self, timeout: float) -> float:
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
            time.sleep(0.05)
        raise RuntimeError(f"the server was not healthy after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        """The server's spawned worker processes (not multiprocessing's helpers)."""
        children = set()
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
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
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        # Whatever the server started and left behind (its group is ours alone).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def crash(self) -> None:
        """kill -9 the server alone (its workers see their pipe close)."""
        self.process.kill()
        self.process.wait(5)


class AppServer(LiveServer):
    """`python -m app serve` over a private copy of notes/ and an empty data folder
    under `workdir`: what the browser tests drive."""

    #: One run at a time (the machine is small), a per-client limit that a whole test
    #: session stays under, single-threaded CPU workers, notes re-read on every request.
    SERVER_ENV: ClassVar[dict[str, str]] = {
        "DEVICE": "cpu",
        "TORCH_THREADS": "1",
        "RUN_CONCURRENCY": "1",
        "RUN_QUEUE_SIZE": "16",
        "RUN_QUEUE_PER_CLIENT": "16",
        "NOTES_POLL_INTERVAL": "0",
    }

    def __init__(self, workdir: Path, **env: str):
        notes_dir, data_dir = workdir / "notes", workdir / "data"
        shutil.copytree(ROOT / "notes", notes_dir)
        data_dir.mkdir()
        super().__init__(
            data_dir, notes_dir=notes_dir, log_path=workdir / "server.log", command="serve",
            **(self.SERVER_ENV | env),
        )  # fmt: skip
