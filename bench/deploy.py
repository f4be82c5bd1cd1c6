"""What a deployment costs: the first visit of a finished run page, before and after
this branch's page-weight work (a partial plotly.js bundle, gzip), side by side in
one run; and, with --images / --compose, the Docker figures.

P  first visit of a finished run page in Chromium (cold cache, a fresh context):
   bytes transferred (HTML, JS, CSS, JSON and the events, as Chromium counts them on
   the wire) and the time from navigation to the first drawn chart, median of
   --visits. "before" is a server from a git worktree of --before (default `main`),
   "after" this checkout; both serve the same kind of run (the fake trainer's
   `quick`, support/fakes.py) from their own data folder. Target: <= 700 KB.
I  (--images) both images built on the Docker engine (the layer cache counts: the
   first build on a machine is the figure to report), their sizes, and the time
   from `docker run` to healthy. Targets: one-machine <= 1.3 GB, scale <= 1.6 GB.
C  (--compose) `docker compose up --wait` of deploy/compose.yaml from an empty
   project to every service healthy.

Prints tables; never fails on a number.

    .venv/bin/python bench/deploy.py [--before main] [--visits 3] [--images] [--compose]
        [--tags ONE_MACHINE SCALE] [--no-page]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: servers, Chromium, Docker

import httpx  # noqa: E402

#: Resolves with performance.now() once the first loss chart has a drawn trace (the
#: CE chart of the chart table since issue 18; `loss-chart` before it).
FIRST_CHART = """() => {
  const chart = document.getElementById("ce-chart") || document.getElementById("loss-chart");
  return !!(chart && chart.data && chart.data.length && chart.querySelector(".scatterlayer path"))
    && performance.now();
}"""


def finished_run(url: str) -> str:
    with httpx.Client(base_url=url, timeout=30) as http:
        run_id = http.post("/api/runs", json={"method": "baseline", "params": {}}).json()["id"]
        deadline = time.monotonic() + 120
        while http.get(f"/api/runs/{run_id}").json()["status"] != "succeeded":
            assert time.monotonic() < deadline, "the run did not finish"
            time.sleep(0.1)
    return run_id


def first_visit(browser, url: str) -> tuple[int, float]:
    """(bytes on the wire, ms to the first drawn chart) of one cold visit."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    wire: dict[str, float] = {}
    cdp.on("Network.loadingFinished",
           lambda e: wire.__setitem__(e["requestId"], e["encodedDataLength"]))  # fmt: skip
    cdp.on("Network.dataReceived", lambda e: wire.__setitem__(
        e["requestId"], wire.get(e["requestId"], 0) + e["encodedDataLength"]))  # fmt: skip
    page.goto(url)
    drawn = page.wait_for_function(FIRST_CHART, timeout=60_000).json_value()
    page.wait_for_timeout(1500)  # the event stream's replay and the JSON fetches land
    context.close()
    return int(sum(wire.values())), float(drawn)


def page_weight(before_ref: str, visits: int) -> list[tuple[str, float, float]]:
    from playwright.sync_api import sync_playwright
    from support.browser import launch_chromium
    from support.servers import LiveServer

    rows = []
    with tempfile.TemporaryDirectory(prefix="kd-bench-deploy-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree),
                        before_ref], check=True, capture_output=True)  # fmt: skip
        servers = []
        try:
            for name, cwd in (("before", tree), ("after", ROOT)):
                (Path(tmp) / name).mkdir()
                server = LiveServer(Path(tmp) / name, command="serve",
                                    RUN_TARGET="support.fakes:quick",
                                    PYTHONPATH=f"{cwd}:{cwd / 'tests'}", cwd=cwd)  # fmt: skip
                servers.append((name, server))
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for name, server in servers:
                    run_url = f"{server.url}/runs/{finished_run(server.url)}"
                    first_visit(browser, run_url)  # the server's own first-request costs
                    got = [first_visit(browser, run_url) for _ in range(visits)]
                    rows.append((name, statistics.median(b for b, _ in got) / 1000,
                                 statistics.median(t for _, t in got)))  # fmt: skip
                browser.close()
        finally:
            for _, server in servers:
                server.stop()
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           capture_output=True)  # fmt: skip
    return rows


def images(tags: list[str]) -> list[tuple[str, float, float, float, float]]:
    import uuid

    from support.containers import build_image, need_engine, published, wait_healthy

    engine = need_engine()
    rows = []
    for tag, extras in zip(tags, ("", "scale"), strict=True):
        built = build_image(engine, tag, extras)
        mb = engine.images.get(tag).attrs["Size"] / 1e6
        started = time.monotonic()
        container = engine.containers.run(tag, detach=True, name=f"kd-bench-{uuid.uuid4().hex[:6]}",
                                          ports={"8000/tcp": ("127.0.0.1", None)})  # fmt: skip
        try:
            answered = None
            while answered is None and time.monotonic() - started < 180:
                try:
                    if httpx.get(f"{published(container, 8000)}/healthz", timeout=2).is_success:
                        answered = time.monotonic() - started
                except (httpx.HTTPError, KeyError, IndexError, TypeError):
                    time.sleep(0.2)
            wait_healthy(container, 180)  # the image's HEALTHCHECK: first check after 30 s
            healthy = time.monotonic() - started
        finally:
            container.remove(force=True)
        rows.append((tag, mb, built, answered or float("nan"), healthy))
    return rows


def compose_up() -> float:
    sys.path.insert(0, str(ROOT / "tests" / "container"))
    from test_compose import Stack

    with tempfile.TemporaryDirectory(prefix="kd-bench-compose-") as tmp:
        stack = Stack(Path(tmp))
        try:
            return stack.up()
        finally:
            stack.compose("down", "-v", "--remove-orphans", timeout=300)


def print_page_weight(rows: list[tuple[str, float, float]], args) -> None:
    print(f"\nP  first visit of a finished run page (median of {args.visits}, cold cache)\n")
    print("| server | transferred, KB | first chart drawn, ms |")
    print("| --- | --- | --- |")
    for name, kb, ms in rows:
        print(f"| {name} ({args.before if name == 'before' else 'this checkout'}) "
              f"| {kb:.0f} | {ms:.0f} |")  # fmt: skip
    (_, kb0, ms0), (_, kb1, ms1) = rows
    print(f"\nafter/before: bytes x{kb1 / kb0:.2f}, time to first chart x{ms1 / ms0:.2f}"
          f" (target: <= 700 KB)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main")
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--images", action="store_true")
    parser.add_argument("--compose", action="store_true")
    parser.add_argument("--tags", nargs=2, default=["kd-notes:test", "kd-notes:scale"],
                        metavar=("ONE_MACHINE", "SCALE"),
                        help="the images' tags (another tag keeps a test run's images alone)")
    parser.add_argument("--no-page", action="store_true", help="skip P, the page weight")
    args = parser.parse_args()

    if not args.no_page:
        print_page_weight(page_weight(args.before, args.visits), args)
    if args.images:
        print("\nI  images (build time counts the layer cache)\n")
        print("| image | size, MB | build, s | to /healthz 200, s | to Docker's healthy, s |")
        print("| --- | --- | --- | --- | --- |")
        for tag, mb, built, answered, healthy in images(args.tags):
            print(f"| {tag} | {mb:.0f} | {built:.0f} | {answered:.1f} | {healthy:.1f} |")
    if args.compose:
        print(f"\nC  docker compose up --wait, empty project to healthy: {compose_up():.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
