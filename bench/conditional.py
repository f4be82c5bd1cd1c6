"""Conditional requests: what a poll of an unchanged view costs when it sends the
ETag it got (If-None-Match -> 304), next to the full 200 of the same view and next
to a static file's own 304 (Starlette's StaticFiles), measured side by side in one
run, request by request interleaved. Also what dating the papers costs at a reload
(git blame of a checkout against the first-seen store).

Two columns of times: in-process (the ASGI app called directly: server-side time
only) and over a socket (a real uvicorn on 127.0.0.1, one keep-alive connection).

    .venv/bin/python bench/conditional.py [--papers 1000] [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from fastapi.staticfiles import StaticFiles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import generate_notes  # bench/catalog.py: the 1,000-paper notes

from app.catalog.dates import GitHistory, git_dates
from app.catalog.live import LiveCatalog
from app.catalog.parser import parse_notes_dir
from app.main import create_app
from app.settings import Settings

VIEWS = {"catalog /": "/", "catalog /?min_rating=4&sort=added": "/?min_rating=4&sort=added",
         "feed /feed.xml": "/feed.xml", "JSON /api/papers": "/api/papers",
         "static file": "/bench-static/page.html"}  # fmt: skip


async def call(app, path: str, etag: str | None = None) -> tuple[float, int, dict]:
    """One request straight into the ASGI app: server-side time, no client or socket."""
    raw_path, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"text/html"),
               (b"accept-encoding", b"gzip")]  # fmt: skip
    if etag:
        headers.append((b"if-none-match", etag.encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
        "query_string": query.encode(), "root_path": "", "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 1), "headers": headers,
    }  # fmt: skip
    status, response_headers, requested = 0, {}, False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    async def send(message):
        nonlocal status, response_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers = {k.decode(): v.decode() for k, v in message["headers"]}

    start = time.perf_counter()
    await app(scope, receive, send)
    return time.perf_counter() - start, status, response_headers


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def in_process(app, etags: dict[str, str], requests: int) -> dict[tuple[str, int], list]:
    samples: dict[tuple[str, int], list[float]] = {}
    for round_ in range(requests + 20):  # the first 20 warm up
        for name, path in VIEWS.items():
            for etag, expected in ((None, 200), (etags[name], 304)):
                elapsed, status, _ = await call(app, path, etag)
                assert status == expected, (path, status)
                if round_ >= 20:
                    samples.setdefault((name, expected), []).append(elapsed)
    return samples


def over_socket(port: int, requests: int) -> dict[tuple[str, int], list]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    etags = {}  # the socket's own: the tag covers the URL, Host and port included
    for name, path in VIEWS.items():
        connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        etags[name] = response.headers["etag"]
    samples: dict[tuple[str, int], list[float]] = {}
    for round_ in range(requests + 20):
        for name, path in VIEWS.items():
            for etag, expected in ((None, 200), (etags[name], 304)):
                headers = {"Accept-Encoding": "gzip"} | ({"If-None-Match": etag} if etag else {})
                start = time.perf_counter()
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - start
                assert response.status == expected, (path, response.status)
                if round_ >= 20:
                    samples.setdefault((name, expected), []).append(elapsed)
    connection.close()
    return samples


def serve_in_thread(app) -> tuple[uvicorn.Server, threading.Thread, int]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


def table(local: dict, remote: dict) -> None:
    print(f"\n{'view':<36} {'status':>6} {'in-process p50':>15} {'socket p50':>11} "
          f"{'socket p99':>11} {'304 / 200':>10} {'304 / static 304':>17}")  # fmt: skip
    static_304 = pct(remote[("static file", 304)], 0.5)
    for name in VIEWS:
        for status in (200, 304):
            p50 = pct(remote[(name, status)], 0.5)
            versus_200 = p50 / pct(remote[(name, 200)], 0.5) if status == 304 else None
            versus_static = p50 / static_304 if status == 304 else None
            print(f"{name:<36} {status:>6} {pct(local[(name, status)], 0.5) * 1e3:>12.3f} ms"
                  f" {p50 * 1e3:>8.3f} ms {pct(remote[(name, status)], 0.99) * 1e3:>8.3f} ms"
                  f" {f'{versus_200:.2f}x' if versus_200 else '':>10}"
                  f" {f'{versus_static:.2f}x' if versus_static else '':>17}")  # fmt: skip


async def bench(notes: Path, data: Path, static: Path, requests: int) -> None:
    app = create_app(Settings(notes_dir=notes, data_dir=data, notes_poll_interval=1.0))
    app.mount("/bench-static", StaticFiles(directory=static))
    async with app.router.lifespan_context(app):
        (static / "page.html").write_bytes(b"x" * 20_000)
        etags = {}
        for name, path in VIEWS.items():
            _, status, headers = await call(app, path)
            assert status == 200 and "etag" in headers, (path, status, headers)
            etags[name] = headers["etag"]
        local = await in_process(app, etags, requests)
        server, thread, port = serve_in_thread(app)
        try:
            remote = await asyncio.to_thread(over_socket, port, requests)
        finally:
            server.should_exit = True
            thread.join(10)
    table(local, remote)


def time_dating(notes: Path, data: Path) -> None:
    """A cold load of the catalog (parse and date) without git, then in a checkout;
    and the dating alone, cold (git blame runs) and again (blame's cache answers)."""
    def cold(data_dir: Path) -> float:
        started = time.perf_counter()
        LiveCatalog(notes, data_dir=data_dir).get()
        return time.perf_counter() - started

    first_seen = statistics.median(cold(data / f"fs{i}") for i in range(3))
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@example.org", "PATH": "/usr/bin:/bin"}  # fmt: skip
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "notes"]):
        subprocess.run(["git", *args], cwd=notes, env=env, check=True, capture_output=True)
    in_git = statistics.median(cold(data / f"git{i}") for i in range(3))
    catalog, history = parse_notes_dir(notes), GitHistory(notes)
    started = time.perf_counter()
    git_dates(history, catalog)
    blame_cold = time.perf_counter() - started
    started = time.perf_counter()
    git_dates(history, catalog)
    blame_cached = time.perf_counter() - started
    print(f"\ncold load (parse + date): first-seen store {first_seen * 1e3:.1f} ms, "
          f"git checkout {in_git * 1e3:.1f} ms ({in_git / first_seen:.2f}x)")
    print(f"dating by git alone: {blame_cold * 1e3:.1f} ms with blame, "
          f"{blame_cached * 1e3:.1f} ms from its cache (same content and HEAD); "
          "it runs at a reload, never per request")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        notes, data, static = root / "notes", root / "data", root / "static"
        for folder in (notes, data, static):
            folder.mkdir()
        generate_notes(notes, args.papers)
        print(f"notes: {args.papers} papers in 10 files; {args.requests} requests per row")
        asyncio.run(bench(notes, data, static, args.requests))
        time_dating(notes, data)
        print("\ntarget: feed and catalog polls with an unchanged ETag answer 304 in <= 2 ms p50")


if __name__ == "__main__":
    main()
