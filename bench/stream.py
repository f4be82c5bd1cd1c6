"""Streaming benchmark: a real uvicorn server (create_app) with real workers and the
real trainer, measured from outside like a browser would see it.

P1  worker emit -> SSE client receive (each event's `t` is stamped in the worker at emit)
P2  POST /api/runs -> first metric event, on a warm server
P5  200 concurrent SSE clients on one run: every client gets every event; lag p99
P6  the web process: start-up time (spawn to first answer) and RSS

Streams are opened on a run that waits in the queue behind another, so every
client is live from the run's first event (nothing is replayed). Prints a table
of what one run measured; never fails on a number.

    .venv/bin/python bench/stream.py [--clients 200] [--launches 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = {"done", "failed", "cancelled"}
SHORT = {"epochs": 1, "train_fraction": 0.05, "batch_size": 32}
#: About a hundred events over a few seconds: a stream worth watching.
STREAMED = {"epochs": 2, "train_fraction": 0.5, "batch_size": 16}
#: Holds the only slot while the viewers connect to the run queued behind it.
BLOCKER = {"epochs": 30, "train_fraction": 1.0, "batch_size": 8}


class Server:
    def __init__(self, data_dir: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATA_DIR": str(data_dir), "LOG_LEVEL": "warning",
               "RUN_QUEUE_PER_CLIENT": "8"}
        self.log = open(data_dir / "server.log", "wb")  # noqa: SIM115 (closed in stop)
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        while True:
            try:
                httpx.get(f"{self.url}/api/runs?limit=1", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if self.process.poll() is not None or time.perf_counter() - started > 60:
                    raise SystemExit("the server did not start; see server.log") from None
                time.sleep(0.01)
        self.startup_s = time.perf_counter() - started

    def rss_mb(self) -> tuple[float, float]:
        """Current and peak resident memory of the web process."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return int(values["VmRSS"].split()[0]) / 1024, int(values["VmHWM"].split()[0]) / 1024

    def cpu_s(self) -> float:
        """CPU seconds the web process has used (user + system)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


async def launch(http: httpx.AsyncClient, params: dict, method: str = "baseline") -> str:
    r = await http.post("/api/runs", json={"method": method, "params": params})
    r.raise_for_status()
    return r.json()["id"]


async def wait_done(http: httpx.AsyncClient, run_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = (await http.get(f"/api/runs/{run_id}")).json()
        if run["status"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.05)
    raise SystemExit(f"run {run_id} did not finish in {timeout} s")


async def follow(server: Server, run_id: str, opened: asyncio.Event | None = None,
                 first_metric_only: bool = False) -> list[tuple[int, str, float, float]]:
    """(seq, type, emitted at, received at) for each event, until the last one.

    A bare HTTP/1.1 client on asyncio streams: 200 httpx streams would cost the
    measuring side more CPU than the server spends, on the same two cores."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(f"GET /api/runs/{run_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        status = await reader.readline()
        if b" 200 " not in status:
            raise SystemExit(f"events of {run_id}: {status!r}")
        chunked = False
        while (header := await reader.readline()) not in (b"\r\n", b""):
            chunked |= header.lower().startswith(b"transfer-encoding: chunked")
        if opened is not None:
            opened.set()
        got: list[tuple[int, str, float, float]] = []
        buffer = b""
        while True:
            if chunked:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    return got
                buffer += (await reader.readexactly(size + 2))[:-2]
            elif not (data := await reader.read(65536)):
                return got
            else:
                buffer += data
            received = time.time()
            *messages, buffer = buffer.split(b"\r\n\r\n")
            for message in messages:
                for line in message.split(b"\r\n"):
                    if line.startswith(b"data: "):
                        event = json.loads(line[6:])
                        got.append((event["seq"], event["type"], event["t"], received))
                        if event["type"] in TERMINAL or (
                            first_metric_only and event["type"] == "metric"
                        ):
                            return got
    finally:
        writer.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def watch_queued_run(http: httpx.AsyncClient, server: Server, clients: int,
                           params: dict):
    """Queue a run behind a long one, open `clients` streams on it while it waits,
    then cancel the long one so it starts; each client's events, and the count of
    stored events."""
    blocker = await launch(http, BLOCKER)
    target = await launch(http, params)
    opened = [asyncio.Event() for _ in range(clients)]
    tasks = [asyncio.create_task(follow(server, target, ev)) for ev in opened]
    await asyncio.gather(*(ev.wait() for ev in opened))
    await asyncio.sleep(0.2)  # let the server subscribe the last ones too
    assert (await http.get(f"/api/runs/{target}")).json()["status"] == "queued"
    (await http.post(f"/api/runs/{blocker}/cancel")).raise_for_status()
    results = await asyncio.gather(*tasks)
    final = await wait_done(http, target)
    return results, final["last_seq"]


async def bench(args: argparse.Namespace, server: Server) -> list[tuple[str, str, str, str]]:
    rows = []
    limits = httpx.Limits(max_connections=args.clients + 20, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
        # Warm-up: the first run pays for the worker's torch import and the data.
        await wait_done(http, await launch(http, SHORT))

        # P1: one viewer, live from the first event.
        [events], stored = await watch_queued_run(http, server, 1, STREAMED)
        lat = [(rx - tx) * 1e3 for _, _, tx, rx in events]
        rows.append(("P1", f"emit -> SSE client, p50 / p99 ({len(lat)} events)",
                     f"{pct(lat, 50):.1f} / {pct(lat, 99):.1f} ms", "<= 20 / <= 100 ms"))

        # P2: POST -> first metric, warm server (the previous run left its worker warm).
        firsts = []
        for _ in range(args.launches):
            started = time.time()
            r = await http.post("/api/runs", json={"method": "baseline", "params": SHORT})
            got = await follow(server, r.json()["id"], first_metric_only=True)
            firsts.append((got[-1][3] - started) * 1e3)
            await wait_done(http, r.json()["id"])
        rows.append(("P2", f"POST -> first metric, warm, median / max of {len(firsts)}",
                     f"{statistics.median(firsts):.0f} / {max(firsts):.0f} ms", "<= 500 ms"))

        # P5: many viewers on one run.
        server_cpu, own_cpu = server.cpu_s(), time.process_time()
        results, stored = await watch_queued_run(http, server, args.clients, STREAMED)
        server_cpu, own_cpu = server.cpu_s() - server_cpu, time.process_time() - own_cpu
        complete = sum([e[0] for e in events] == list(range(1, stored + 1)) for events in results)
        lags = [(rx - tx) * 1e3 for events in results for _, _, tx, rx in events]
        rows.append(("P5", f"{args.clients} SSE clients, {stored} events: complete streams",
                     f"{complete}/{args.clients}", f"{args.clients}/{args.clients}"))
        rows.append(("P5", f"{args.clients} SSE clients: lag p50 / p99 / max",
                     f"{pct(lags, 50):.0f} / {pct(lags, 99):.0f} / {max(lags):.0f} ms",
                     "p99 <= 250 ms"))
        rows.append(("P5", "CPU during P5: web process / this client",
                     f"{server_cpu:.1f} / {own_cpu:.1f} s", "(context)"))

    rss, peak = server.rss_mb()
    rows.append(("P6", "web process start-up (spawn -> first answer)",
                 f"{server.startup_s * 1e3:.0f} ms", "<= 1000 ms"))
    rows.append(("P6", "web process RSS now / peak", f"{rss:.0f} / {peak:.0f} MB", "<= 120 MB"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="viewers for P5")
    parser.add_argument("--launches", type=int, default=5, help="runs timed for P2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kd-bench-") as tmp:
        server = Server(Path(tmp))
        try:
            rows = asyncio.run(bench(args, server))
        finally:
            server.stop()
    print(f"stream benchmark: {os.cpu_count()} CPUs, one server, real trainer (baseline)\n")
    widths = [max(len(r[i]) for r in [("id", "measure", "measured", "target"), *rows])
              for i in range(4)]
    for row in [("id", "measure", "measured", "target"), tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
