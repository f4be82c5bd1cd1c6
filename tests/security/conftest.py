"""Fixtures of the security tests: a real uvicorn server on 127.0.0.1 (raw request
paths reach it as sent, with no client-side normalising), and in-process apps whose
run service trains with a stand-in trainer."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app import PROJECT_ROOT, main
from app.distill.stats import paired_stats
from app.runs import RunManager, RunStore
from app.runs.store import encode_event
from app.settings import Settings

# Spawned run workers import their target by name (`security_fakes:hold`): put this
# folder on sys.path here, and workers inherit it, whatever pytest's import mode.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from security_support import CANARY, KNOWN_RUN  # noqa: E402  (needs HERE on sys.path)


@dataclass
class LiveServer:
    url: str
    notes_dir: Path
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    def raw(
        self,
        path: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ):
        """Send the request line exactly as given (no dot-segment removal, no
        re-encoding, as a browser or httpx would do); (status, headers, body)."""
        headers = {**(headers or {}), **({"Content-Length": str(len(body))} if body else {})}
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.url.removeprefix('http://')}",
            "Connection: close",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        port = int(self.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parsed = httpx.Headers([tuple(h.split(": ", 1)) for h in header_lines])
        if parsed.get("transfer-encoding") == "chunked":
            body = _dechunk(body)
        return int(status_line.split()[1]), parsed, body


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _record_known_run(data_dir: Path) -> None:
    store = RunStore(data_dir / "runs.sqlite3")
    store.create_run(KNOWN_RUN, "kd", {"epochs": 1}, "127.0.0.1", time.time())
    store.mark_running(KNOWN_RUN, time.time())
    seeds = [0, 1]
    phase = {"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 1,
             "seeds": seeds}  # fmt: skip
    metric = {
        "type": "metric",
        "kind": "step",
        "phase": "train",
        "epoch": 1,
        "step": 1,
        "steps": 1,
        "losses": {"student": {"total": [0.5, 0.6]}},
    }
    store.append_events(KNOWN_RUN, [encode_event(1, phase), encode_event(2, metric)])
    student, baseline = [0.5, 0.6], [0.4, 0.45]
    summary = {
        "method": "kd",
        "seeds": seeds,
        "split": {"train": 119, "val": 269, "test": 359},
        "final_acc": 0.55,
        "baseline_final_acc": 0.425,
        "delta_acc": 0.125,
        "teacher_acc": 0.9,
        "models": {"student": 0.55, "baseline": 0.425, "teacher": 0.9},
        "per_seed": {"student": {"test_acc": student}, "baseline": {"test_acc": baseline}},
        "delta": paired_stats(student, baseline).as_dict(),
        "delta_best_val": paired_stats(student, baseline).as_dict(),
        "wall_s": 1.0,
    }  # as the contract has it
    store.finish(KNOWN_RUN, "succeeded", {"type": "done", "summary": summary}, summary=summary)
    store.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("live")
    notes_dir, data_dir = root / "notes", root / "data"
    notes_dir.mkdir()
    shutil.copy(PROJECT_ROOT / "notes" / "knowledge-distillation.md", notes_dir)
    (notes_dir / "private.txt").write_text(CANARY)
    data_dir.mkdir()
    (data_dir / "secret.md").write_text(CANARY)
    _record_known_run(data_dir)
    port = _free_port()
    env = {
        **os.environ,
        "NOTES_DIR": str(notes_dir),
        "DATA_DIR": str(data_dir),
        "RUN_WARM_WORKERS": "0",
        "LOG_LEVEL": "warning",
        "RUN_TOKEN": "",  # open, whatever the environment or a .env file says
    }
    log_path = root / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", notes_dir, data_dir, process, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server not up after 30 s"
            time.sleep(0.05)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def make_app(seed_notes, tmp_path, monkeypatch):
    """create_app() over the seed notes, its run service training with
    `security_fakes:<target>`; settings as keyword arguments."""

    def make(target: str = "instant", **settings):
        class FakeRuns(RunManager):
            @classmethod
            def from_settings(cls, s, **overrides):
                return super().from_settings(s, target=f"security_fakes:{target}", **overrides)

        monkeypatch.setattr(main, "RunManager", FakeRuns)
        defaults = {"notes_poll_interval": 0, "run_warm_workers": 0, "run_token": None}
        settings = defaults | settings  # nothing left to the environment or a .env file
        return main.create_app(
            Settings(notes_dir=seed_notes, data_dir=tmp_path / "data", **settings)
        )

    return make
