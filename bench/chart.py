"""What the run page and /methods cost, measured in Chromium and in-process.

C1  an 8-seed DML run (the widest: two peers, their terms, 8 seeds), its real
    events replayed into the run page at full speed (all stored, sent over SSE as
    fast as the server goes). The page's own work per animation frame, measured in
    the page with performance.now(): every EventSource handler and every
    requestAnimationFrame callback is timed, and the sum between two frames is one
    frame's work. p50/p95/max over the frames of the replay. Target p95 <= 16 ms.
C2  reload of the finished run: navigation start -> every point drawn, first load
    (cold cache) and reloads (warm). Target <= 1 s.
    Both beside the same run with 1 seed, for the ratio.
C3  /methods with every method's live row (and 400 other runs in the store): server
    time p50, in-process, beside /healthz. Target p50 <= 5 ms.

Prints tables of one run's measurements; never fails on a number.

    .venv/bin/python bench/chart.py [--reloads 5] [--requests 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the app server and Chromium

from playwright.sync_api import sync_playwright  # noqa: E402

from app.runs.store import RunStore, encode_event, open_store  # noqa: E402

#: Times every EventSource listener and animation-frame callback; a frame's work is
#: what ran since the previous frame.
PROBE = """(() => {
  const frames = []; let work = 0;
  const timed = (fn) => function (...args) {
    const t0 = performance.now();
    try { return fn.apply(this, args); } finally { work += performance.now() - t0; }
  };
  const add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if (this instanceof EventSource && typeof listener === "function") listener = timed(listener);
    return add.call(this, type, listener, options);
  };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) => raf(timed(callback));
  const tick = () => { if (work > 0) frames.push(work); work = 0; raf(tick); };
  raf(tick);
  window.__frames = frames;
})();"""

#: Resolves with performance.now() once the run's last event is in and every point
#: of both charts is drawn.
DRAWN = """n => {
  const run = window.kdRun;
  if (!run || run.state.lastSeq !== n) return false;
  const ok = ["loss", "acc"].every((c) => {
    const d = document.getElementById(c + "-chart").data;
    return d && d.length > 0 && run[c].settled();
  });
  return ok && performance.now();
}"""


def record_run(seeds: int, data_dir: Path) -> list[dict]:
    """A real DML run's events at default parameters (seeds 0..seeds-1)."""
    from app.distill.methods import RunConfig
    from app.distill.trainer import train

    events: list[dict] = []
    config = RunConfig(method="dml", params={"seeds": seeds}, data_dir=data_dir,
                       device="cpu", threads=1)  # fmt: skip
    train(config, lambda event: events.append(event.wire()))
    assert events[-1]["type"] == "done", "the trainer ends its events with `done`"
    return events


def store_run(store: RunStore, run_id: str, events: list[dict]) -> int:
    store.create_run(run_id, "dml", {"seeds": 8}, "bench", time.time())
    body = [encode_event(i, e) for i, e in enumerate(events[:-1], start=1)]
    store.append_events(run_id, body)
    store.finish(run_id, "succeeded", events[-1], summary=events[-1]["summary"])
    return len(events)


def measure_page(browser, url: str, last_seq: int, reloads: int) -> dict:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script(PROBE)
    page = ctx.new_page()
    loads, frames = [], []
    for i in range(reloads + 1):
        if i == 0:
            page.goto(url)
        else:
            page.reload()
        loads.append(page.wait_for_function(DRAWN, arg=last_seq, polling="raf").json_value())
        page.wait_for_timeout(300)  # let the last frames be counted
        frames += page.evaluate("() => window.__frames")
    ctx.close()
    frames.sort()
    return {
        "frames": len(frames),
        "p50": statistics.median(frames),
        "p95": frames[int(0.95 * (len(frames) - 1))],
        "max": frames[-1],
        "cold": loads[0] / 1000,
        "warm": statistics.median(loads[1:]) / 1000,
    }


def methods_p50(data_dir: Path, notes: Path, requests: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from app.distill.methods import METHODS
    from app.distill.stats import paired_stats
    from app.main import create_app
    from app.settings import Settings
    from app.web.method_rows import default_params

    settings = Settings(notes_dir=notes, data_dir=data_dir, run_warm_workers=0)
    with TestClient(create_app(settings)) as client:
        store = client.app.state.runs.store
        summary = {"seeds": list(range(5)), "final_acc": 0.9, "baseline_final_acc": 0.88,
                   "delta": paired_stats([0.9] * 4 + [0.91], [0.88] * 5).as_dict()}  # fmt: skip
        for i, method in enumerate(m for m in METHODS for _ in range(40)):
            params = default_params(method) if i % 4 == 0 else {"seeds": 2}
            store.create_run(f"m{i:05d}", method, params, "bench", time.time() - i)
            store.finish(f"m{i:05d}", "succeeded", {"type": "done"}, summary=summary)
        times: dict[str, list[float]] = {"/healthz": [], "/api/methods": [], "/methods": []}
        for _ in range(requests):
            for url in times:
                start = time.perf_counter()
                client.get(url).raise_for_status()
                times[url].append(time.perf_counter() - start)
    return {url: statistics.median(t) * 1000 for url, t in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reloads", type=int, default=5)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    from support.browser import launch_chromium
    from support.servers import AppServer

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        runs = {}
        for seeds in (8, 1):
            started = time.perf_counter()
            runs[seeds] = record_run(seeds, tmp_path / "teachers")
            print(f"recorded a {seeds}-seed DML run: {len(runs[seeds])} events in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        server = AppServer(tmp_path / "server")
        try:
            store = open_store(server.data_dir / "runs.sqlite3")
            last = {k: store_run(store, f"dml{k}seeds", events) for k, events in runs.items()}
            store.close()
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                pages = {k: measure_page(browser, f"{server.url}/runs/dml{k}seeds", last[k],
                                         args.reloads) for k in (8, 1)}  # fmt: skip
                browser.close()
        finally:
            server.stop()
        table = methods_p50(tmp_path / "methods", ROOT / "notes", args.requests)

    eight, one = pages[8], pages[1]
    print("\nC1/C2 run page, DML at defaults (Chromium, 1280x900)")
    print(f"{'':28}{'8 seeds':>10}{'1 seed':>10}{'8 / 1':>8}")
    rows = [
        ("frames with work", "frames", "{:.0f}"),
        ("work per frame p50 (ms)", "p50", "{:.2f}"),
        ("work per frame p95 (ms)", "p95", "{:.2f}"),
        ("work per frame max (ms)", "max", "{:.2f}"),
        ("first load -> drawn (s)", "cold", "{:.3f}"),
        ("reload -> drawn, p50 (s)", "warm", "{:.3f}"),
    ]
    for label, key, fmt in rows:
        ratio = eight[key] / one[key] if one[key] else float("nan")
        print(f"{label:28}{fmt.format(eight[key]):>10}{fmt.format(one[key]):>10}{ratio:>8.2f}")
    print(f"target: p95 <= 16 ms -> {'met' if eight['p95'] <= 16 else 'MISSED'} "
          f"({eight['p95']:.2f} ms); reload <= 1 s -> "
          f"{'met' if eight['warm'] <= 1 else 'MISSED'} ({eight['warm']:.3f} s)")  # fmt: skip
    print("\nC3 server time, in-process, p50 over", args.requests, "requests (ms)")
    for url, ms in table.items():
        print(f"{url:28}{ms:>10.2f}{ms / table['/healthz']:>8.2f}x /healthz")
    verdict = "met" if table["/methods"] <= 5 else "MISSED"
    print(f"target: /methods p50 <= 5 ms -> {verdict} ({table['/methods']:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
