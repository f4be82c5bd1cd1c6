"""Fixtures of the security tests: a real uvicorn server on 127.0.0.1 (raw request
paths reach it as sent, with no client-side normalising), and in-process apps whose
run service trains with a stand-in trainer."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.runs import fake_settings
from support.security import CANARY, KNOWN_RUN, PNG
from support.servers import ROOT, LiveServer

from app import main
from app.distill.stats import paired_stats
from app.runs.factory import open_store
from app.runs.store import encode_event


class RawServer(LiveServer):
    """A live server that can also send a request exactly as written."""

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


def _record_known_run(data_dir: Path) -> None:
    store = open_store(data_dir / "runs.sqlite3")
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
def live_server(tmp_path_factory) -> Iterator[RawServer]:
    root = tmp_path_factory.mktemp("live")
    notes_dir, data_dir = root / "notes", root / "data"
    notes_dir.mkdir()
    shutil.copy(ROOT / "notes" / "knowledge-distillation.md", notes_dir)
    (notes_dir / "private.txt").write_text(CANARY)
    data_dir.mkdir()
    (data_dir / "secret.md").write_text(CANARY)
    # Files beside the notes: one image to serve, and what must never be served.
    (notes_dir / "figs").mkdir()
    (notes_dir / "figs" / "fig.png").write_bytes(PNG)
    (notes_dir / "leak.png").symlink_to(data_dir / "secret.md")
    (notes_dir / ".hidden").mkdir()
    (notes_dir / ".hidden" / "fig.png").write_text(CANARY)
    _record_known_run(data_dir)
    server = RawServer(data_dir, notes_dir=notes_dir, log_path=root / "server.log",
                       RUN_WARM_WORKERS="0")
    yield server
    server.stop()


@pytest.fixture
def make_app(seed_notes, tmp_path, monkeypatch):
    """create_app() over the seed notes, its run service training with
    `support.fakes:<target>`; settings as keyword arguments."""

    def make(target: str = "instant", **settings):
        settings = {"run_warm_workers": 0} | settings
        return main.create_app(
            fake_settings(tmp_path / "data", target, notes_dir=seed_notes, **settings)
        )

    return make
