"""Make the README's screenshots: the catalog, a paper page, a live run mid-training and
the methods table.

    .venv/bin/python tests/e2e/make_screenshots.py [OUT_DIR]   (default: docs/screenshots)

Starts its own server over a copy of notes/ and an empty data folder (as the browser
tests do), drives Debian's Chromium (CHROMIUM_PATH to override) at 1280 px wide, and
writes catalog.png, paper.png, run.png and methods.png. Chinese text needs a CJK font
(`apt-get install fonts-noto-cjk`). Run it by hand when the pages change; it is not a
test."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

# Run as a script, not under pytest: the shared helpers are in tests/support.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.browser import PageGuard, launch_chromium
from support.servers import ROOT, AppServer
from support.waits import wait_until

WIDTH = 1280
#: A KD run that trains for a while (teacher first, then student and baseline).
RUN_PARAMS = {"epochs": 30, "teacher_epochs": 4, "train_fraction": 0.3, "batch_size": 8}
#: Student epochs to wait for before the shot: curves with a shape, run still going.
EPOCHS_SHOWN = 6


def shoot(page, path: Path, height: int) -> None:
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": WIDTH, "height": height})
    print(
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
        f"{path.stat().st_size / 1024:.0f} KiB"
    )


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kd-shots-") as tmp:
        server = AppServer(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = browser.new_context(
                    base_url=server.url,
                    viewport={"width": WIDTH, "height": 900},
                    device_scale_factor=1,
                    locale="zh-CN",
                    timezone_id="Asia/Shanghai",
                    color_scheme="light",
                )
                context.set_default_timeout(30_000)
                guard = PageGuard(origin=server.url)
                guard.attach(context)
                page = context.new_page()

                page.goto("/?min_rating=4")
                shoot(page, out / "catalog.png", 820)

                page.goto("/papers/1503.02531")
                shoot(page, out / "paper.png", 900)

                run_id = _launch(server.url)
                page.goto(f"/runs/{run_id}")
                page.wait_for_function(
                    """n => {
                      const run = window.kdRun;
                      const status = document.getElementById('run-status').dataset.status;
                      const student = run && run.charts.acc.traces.find(t => t.key === 'student');
                      return status === 'running' && run.state.phase === 'train'
                        && student && student.raw.x.length >= n;
                    }""",
                    arg=EPOCHS_SHOWN,
                    timeout=180_000,
                )
                time.sleep(0.3)  # let the last animation frame draw
                bottom = page.evaluate(
                    "() => document.getElementById('acc-chart').getBoundingClientRect().bottom"
                )
                page.set_viewport_size({"width": WIDTH, "height": int(bottom) + 24})
                time.sleep(0.3)
                shoot(page, out / "run.png", int(bottom) + 24)
                httpx.post(f"{server.url}/api/runs/{run_id}/cancel", timeout=10)

                # A new server has no default runs of its own: the forest plot shows the
                # committed reference rows.
                page.set_viewport_size({"width": WIDTH, "height": 900})
                page.goto("/methods")
                page.wait_for_function("() => document.getElementById('forest').data")
                time.sleep(0.3)
                bottom = page.evaluate(
                    "() => document.getElementById('rerun-form').getBoundingClientRect().bottom"
                )
                page.set_viewport_size({"width": WIDTH, "height": int(bottom) + 24})
                time.sleep(0.3)
                shoot(page, out / "methods.png", int(bottom) + 24)
                browser.close()
            problems = guard.problems()
            if problems:
                print("the browser saw:\n" + "\n".join(problems), file=sys.stderr)
                return 1
        finally:
            server.stop()
    return 0


def _launch(base: str) -> str:
    r = httpx.post(f"{base}/api/runs", json={"method": "kd", "params": RUN_PARAMS}, timeout=10)
    r.raise_for_status()
    run_id = r.json()["id"]
    wait_until(
        lambda: httpx.get(f"{base}/api/runs/{run_id}", timeout=10).json()["status"] != "queued",
        60,
        what="the run to start",
    )
    return run_id


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
