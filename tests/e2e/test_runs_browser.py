"""Live demos in Chromium: launch from a paper page, watch the charts grow, cancel,
reload mid-run, overlay finished runs, open a run stored before seeds. The worker
trains for real (tiny sizes, two seeds)."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from support.waits import wait_until

from app.runs.factory import open_store
from app.runs.store import encode_event

pytestmark = pytest.mark.e2e

#: Small enough to finish in seconds, long enough to be watched while it runs.
WATCHABLE_KD = {"epochs": "8", "teacher_epochs": "2", "train_fraction": "0.2", "batch_size": "8",
                "seeds": "2"}  # fmt: skip
#: Half a minute or more of training (30 epochs of all 1,169 digits, 8 a batch):
#: something to cancel or reload; the test always cancels it.
LONG = {"epochs": 30, "train_fraction": 1.0, "batch_size": 8, "seeds": 2}
TINY = {"epochs": 2, "train_fraction": 0.05, "batch_size": 16, "seeds": 2}

RUN_STATE = """() => ({
  status: document.getElementById('run-status').dataset.status,
  points: window.kdRun ? Object.keys(window.kdRun.charts)
    .filter((key) => window.kdRun.specOf[key].kind === 'step')
    .reduce((n, key) => n + window.kdRun.charts[key].pointCount(), 0) : -1,
  accPoints: window.kdRun ? window.kdRun.charts.acc.pointCount() : -1,
  step: window.kdRun ? window.kdRun.state.step : -1,
  lastSeq: window.kdRun ? window.kdRun.state.lastSeq : -1,
  progress: Number(document.getElementById('run-progress').value),
})"""

#: The steps seen so far and each CE trace's x values, as kept (raw) and as Plotly
#: draws them, read at one instant.
LOSS_TRACES = """() => {
  const chart = window.kdRun.charts.ce;
  const drawn = document.getElementById('ce-chart').data || [];
  return {
    step: window.kdRun.state.step,
    traces: chart.traces.map((t, i) => ({
      key: t.key, x: t.raw.x, hidden: !!t.hidden, drawn: drawn[i] ? drawn[i].x.length : -1,
    })),
  };
}"""


def launch(api: httpx.Client, method: str, params: dict) -> str:
    r = api.post("/api/runs", json={"method": method, "params": params})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def wait_status(api: httpx.Client, run_id: str, statuses: set[str], timeout: float) -> dict:
    return wait_until(
        lambda: (run := api.get(f"/api/runs/{run_id}").json())["status"] in statuses and run,
        timeout,
        what=f"run {run_id} to be {statuses}",
    )


def run_state(page) -> dict:
    return page.evaluate(RUN_STATE)


def open_running(page, run_id: str, min_points: int = 1) -> dict:
    """The run's page, once the run is running and the chart has points."""
    page.goto(f"/runs/{run_id}")
    page.wait_for_function(
        "n => window.kdRun && window.kdRun.charts.ce.pointCount() >= n"
        " && document.getElementById('run-status').dataset.status === 'running'",
        arg=min_points,
        timeout=60_000,
    )
    return run_state(page)


def seed_means(points: list[dict]) -> dict[tuple, float]:
    """The stored rows (one per seed) as the charts draw them: the mean over seeds of
    each (seq, model, name), in order."""
    groups: dict[tuple, list[float]] = {}
    for p in points:
        groups.setdefault((p["seq"], p["model"], p["name"]), []).append(p["value"])
    return {key: sum(values) / len(values) for key, values in groups.items()}


def drawn_terms(steps: dict[tuple, float]) -> dict[tuple, float]:
    """The step terms the charts draw: all but a total that is its model's CE alone
    (the CE chart has it already)."""
    names: dict[tuple, set] = {}
    for seq, model, name in steps:
        names.setdefault((seq, model), set()).add(name)
    return {(seq, model, name): v for (seq, model, name), v in steps.items()
            if not (name == "total" and names[seq, model] == {"ce", "total"})}


def stored_points(api: httpx.Client, run_id: str) -> dict:
    """What the charts should hold: one point per step (or epoch), model and term."""
    points = api.get(f"/api/runs/{run_id}/metrics.json").json()["points"]
    steps = drawn_terms(seed_means([p for p in points if p["kind"] == "step"]))
    accs = seed_means([p for p in points if p["kind"] == "epoch" and p["name"] == "acc"])
    return {
        "loss_points": len(steps),
        "steps": len({seq for seq, _, _ in steps}),
        "acc_points": len(accs),
        "seeds": {p["seed"] for p in points},
    }


def assert_draws_seed_means(page, api: httpx.Client, run_id: str) -> None:
    """The charts' points are the means over seeds of the stored rows, and the page
    keeps every seed's raw value next to them."""
    points = api.get(f"/api/runs/{run_id}/metrics.json").json()["points"]
    expected = seed_means([p for p in points if p["kind"] == "epoch" and p["name"] == "acc"
                           and p["model"] == "student"])  # fmt: skip
    drawn = page.evaluate("""() => {
      const t = window.kdRun.charts.acc.traces.find((t) => t.key === 'student');
      const s = window.kdRun.state.series.acc.get('student');
      return {y: t.raw.y, values: s.values, seeds: s.seeds};
    }""")
    assert drawn["y"] == pytest.approx([v * 100 for v in expected.values()])
    assert all(len(v) == 2 for v in drawn["values"])
    assert drawn["seeds"][-1] == [0, 1]


def assert_no_gap(seen: dict) -> None:
    """Every trace is a run of consecutive steps, and together they cover 1..step."""
    covered = set()
    for trace in seen["traces"]:
        xs = trace["x"]
        assert xs == list(range(xs[0], xs[0] + len(xs))), f"gap in {trace['key']}"
        covered.update(xs)
    assert covered == set(range(1, seen["step"] + 1))


def test_launch_kd_from_the_paper_page_and_watch_it_train(page, api):
    page.goto("/papers/1503.02531")
    form = page.locator("form.run-form:not(.sweep-form):not(.compare-form)[data-method=kd]")
    assert form.is_visible()
    for name, value in WATCHABLE_KD.items():
        form.locator(f"[name={name}]").fill(value)
    with page.expect_navigation(url=re.compile(r"/runs/[^/]+$")):
        form.get_by_role("button", name="运行").click()
    run_id = urlsplit(page.url).path.rsplit("/", 1)[1]
    run = api.get(f"/api/runs/{run_id}").json()
    assert run["method"] == "kd"
    assert {k: run["params"][k] for k in WATCHABLE_KD} == {
        "epochs": 8,
        "teacher_epochs": 2,
        "train_fraction": 0.2,
        "batch_size": 8,
        "seeds": 2,
    }

    # Sample the page while the run is running: the chart and the bar move.
    samples = []
    deadline = time.monotonic() + 120
    while (state := run_state(page))["status"] in ("queued", "running"):
        if state["status"] == "running":
            samples.append(state)
        assert time.monotonic() < deadline, f"run still {state['status']} after 120 s"
        time.sleep(0.15)
    assert state["status"] == "succeeded", state
    counts = [s["points"] for s in samples]
    assert counts == sorted(counts), counts  # never shrinks
    assert len(set(counts)) >= 3, f"too few distinct point counts while running: {counts}"
    assert counts[-1] > counts[0] > -1
    progress = {round(s["progress"], 3) for s in samples}
    assert len(progress) >= 3 and any(0 < p < 1 for p in progress), progress

    # The end: the summary (the server's block, fetched), a full bar, every stored
    # point on the chart.
    summary = page.locator("#run-summary")
    page.locator("#summary-seeds").wait_for(state="visible", timeout=10_000)
    text = summary.inner_text()
    for label in ("种子", "每个种子的数据", "差值 Δ（最终模型的测试准确率）",
                  "每个种子取验证集最佳轮次时的测试准确率", "胜/平/负", "95% 置信区间",
                  "教师测试准确率", "用时"):  # fmt: skip
        assert label in text
    final = api.get(f"/api/runs/{run_id}").json()
    assert final["status"] == "succeeded" and final["summary"]["seeds"] == [0, 1]
    assert f"{final['summary']['final_acc'] * 100:.2f}%" in text
    assert final["summary"]["delta"]["label_zh"] in text
    assert page.locator("#summary-seeds tbody tr").count() == 2
    assert page.locator("#run-status").inner_text() == "已完成"
    assert page.locator("#cancel-form").is_hidden()
    state = run_state(page)
    assert state["progress"] == 1 and state["lastSeq"] == final["last_seq"]
    stored = stored_points(api, run_id)
    assert (state["points"], state["accPoints"]) == (stored["loss_points"], stored["acc_points"])
    assert stored["loss_points"] > 0 and stored["acc_points"] >= 8 and stored["seeds"] == {0, 1}
    assert_draws_seed_means(page, api, run_id)
    title = page.evaluate("() => document.getElementById('acc-chart').layout.yaxis.title.text")
    assert "验证准确率" in title


def test_cancel_a_running_demo(page, api):
    run_id = launch(api, "baseline", LONG)
    open_running(page, run_id, min_points=5)
    button = page.locator("#cancel-button")
    assert button.is_visible()
    started = time.monotonic()
    button.click()
    page.wait_for_function(
        "() => document.getElementById('run-status').dataset.status === 'cancelled'", timeout=10_000
    )
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"the page showed 'cancelled' after {elapsed:.2f} s"
    assert page.locator("#run-status").inner_text() == "已取消"
    assert page.locator("#cancel-form").is_hidden()
    assert api.get(f"/api/runs/{run_id}").json()["status"] == "cancelled"
    # Nothing more arrives: the worker stopped and the stream closed.
    before = run_state(page)["points"]
    time.sleep(1.0)
    assert run_state(page)["points"] == before
    assert page.locator("#run-error").is_hidden()


def test_reload_mid_run_redraws_every_point(page, api):
    run_id = launch(api, "baseline", LONG)
    before = open_running(page, run_id, min_points=20)
    page.reload()
    assert api.get(f"/api/runs/{run_id}").json()["status"] == "running"
    # The replay catches up with what the first load had drawn, then goes on live.
    page.wait_for_function(
        "n => window.kdRun && window.kdRun.charts.ce.pointCount() > n",
        arg=before["points"],
        timeout=30_000,
    )
    live = run_state(page)
    assert live["status"] == "running"
    assert_no_gap(page.evaluate(LOSS_TRACES))

    # Stop it, then compare the page with the store: every point, once, no gap.
    assert api.post(f"/api/runs/{run_id}/cancel").json()["status"] == "cancelled"
    page.wait_for_function(
        "() => document.getElementById('run-status').dataset.status === 'cancelled'", timeout=10_000
    )
    run = api.get(f"/api/runs/{run_id}").json()
    stored = stored_points(api, run_id)
    state = run_state(page)
    assert state["lastSeq"] == run["last_seq"]
    assert state["step"] == stored["steps"] > before["step"]
    assert state["points"] == stored["loss_points"]
    assert page.evaluate("() => window.kdRun.charts.ce.pointCount()") == stored["steps"]
    assert state["accPoints"] == stored["acc_points"]
    # What Plotly draws is every kept point (below the downsampling threshold).
    page.wait_for_function(
        """() => {
          const c = window.kdRun.charts.ce, d = document.getElementById('ce-chart').data;
          return d && c.settled()
            && c.traces.every((t, i) => d[i] && d[i].x.length === (t.hidden ? 1 : t.raw.x.length));
        }""",
        timeout=10_000,
    )
    seen = page.evaluate(LOSS_TRACES)
    assert seen["step"] == stored["steps"]
    assert_no_gap(seen)
    # Hidden terms carry one point (for the legend) until shown; the rest are all drawn.
    assert all(t["drawn"] == (1 if t["hidden"] else len(t["x"])) for t in seen["traces"])
    assert any(not t["hidden"] for t in seen["traces"])


def test_compare_two_finished_runs(page, api):
    # Seeds 1, 2 and 2, 3: the two runs share seed 2, so they pair on it.
    first = launch(api, "baseline", {**TINY, "seed": 1})
    second = launch(api, "lsr", {**TINY, "seed": 2})
    for run_id in (first, second):
        assert wait_status(api, run_id, {"succeeded", "failed"}, 120)["status"] == "succeeded"

    page.goto("/runs")
    for run_id in (first, second):
        page.locator(f'tr[data-run-id="{run_id}"] input[name=ids]').check()
    with page.expect_navigation():
        page.locator("#compare-button").click()
    assert urlsplit(page.url).path == "/runs/compare"
    assert sorted(parse_qs(urlsplit(page.url).query)["ids"]) == sorted([first, second])
    assert page.locator("#compare-title").inner_text() == "比较 2 次运行"

    # Both runs' curves are drawn, with every epoch.
    page.wait_for_function(
        """() => { const d = document.getElementById('compare-acc').data;
                   return d && d.length >= 3; }""",
        timeout=15_000,
    )
    acc = page.evaluate(
        "() => document.getElementById('compare-acc').data.map(t => ({name: t.name, y: t.y}))"
    )
    names = {t["name"]: t["y"] for t in acc}
    assert set(names) == {
        f"{first} baseline · student",
        f"{second} lsr · student",
        f"{second} lsr · baseline",
    }
    stored = api.get(f"/api/runs/{first}/metrics.json").json()["points"]
    means = seed_means([p for p in stored if p["kind"] == "epoch" and p["name"] == "acc"])
    expected = [value * 100 for value in means.values()]
    assert names[f"{first} baseline · student"] == pytest.approx(expected)
    assert len(expected) == TINY["epochs"]

    # Only what differs: the method, the seed and LSR's own parameters, not the epochs.
    params = page.locator("#param-diff tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.param)"
    )
    assert {"method", "seed"} <= set(params) and "epochs" not in params
    # The paired Δ on the shared seed, as the JSON twin computes it.
    pair = page.locator("#pairs tbody tr")  # the later run minus the earlier in the URL
    assert pair.count() == 1 and pair.locator("td").first.inner_text() == "2"
    assert {pair.get_attribute("data-a"), pair.get_attribute("data-b")} == {first, second}
    twin = api.get("/api/compare", params={"ids": f"{first},{second}"}).json()
    assert twin["pairs"][0]["seeds"] == [2] and twin["pairs"][0]["delta"]["n"] == 1
    assert twin["pairs"][0]["delta"]["verdict"] == "one_seed"

    # One CSV of both runs in long form, the same rows as the JSON version.
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    long = api.get("/api/compare/metrics.json", params={"ids": f"{first},{second}"}).json()
    assert list(rows[0]) == long["columns"] == [
        "run", "method", "model", "seed", "phase", "epoch", "step", "metric", "value",
    ]  # fmt: skip
    assert len(rows) == len(long["rows"]) > 0
    assert {r["run"] for r in rows} == {first, second}
    assert {r["seed"] for r in rows if r["run"] == second} == {"2", "3"}


#: A run as a server before seeds stored it: plain numbers, no seeds, the old summary.
OLD_EVENTS = [
    {"type": "phase", "phase": "train", "state": "start", "epochs": 2, "steps": 2},
    *({"type": "metric", "kind": "step", "phase": "train", "epoch": e, "step": e, "steps": 2,
       "losses": {"student": {"total": 1.0 / e, "ce": 0.9 / e}, "baseline": {"total": 1.2 / e}}}
      for e in (1, 2)),
    *({"type": "metric", "kind": "epoch", "phase": "train", "epoch": e, "epochs": 2,
       "models": {"student": {"acc": 0.5 + e / 10, "loss": 1.0}, "baseline": {"acc": 0.5}}}
      for e in (1, 2)),
    {"type": "phase", "phase": "train", "state": "end"},
]  # fmt: skip
OLD_SUMMARY = {"method": "lsr", "final_acc": 0.7, "best_acc": 0.7, "baseline_final_acc": 0.5,
               "baseline_best_acc": 0.5, "delta_acc": 0.2, "teacher_acc": None,
               "models": {"student": 0.7, "baseline": 0.5}, "wall_s": 1.5}  # fmt: skip


def test_a_run_stored_before_seeds_still_renders(page, server):
    store = open_store(server.data_dir / "runs.sqlite3")  # the server's own, shared (WAL)
    try:
        store.create_run("oldrun000001", "lsr", {"epochs": 2}, "127.0.0.1", time.time())
        store.append_events("oldrun000001",
                            [encode_event(i, e) for i, e in enumerate(OLD_EVENTS, start=1)])
        store.finish("oldrun000001", "succeeded", {"type": "done", "summary": OLD_SUMMARY},
                     summary=OLD_SUMMARY)  # fmt: skip
    finally:
        store.close()
    page.goto("/runs/oldrun000001")
    page.wait_for_function("() => window.kdRun && window.kdRun.state.lastSeq === 7")
    state = run_state(page)
    # The student's CE (its total is CE alone here) and the baseline's total, which
    # an old run did not say was its CE: 2 steps each, and 2 epochs of 2 models.
    assert (state["status"], state["points"], state["accPoints"]) == ("succeeded", 4, 4)
    student = page.evaluate(
        "() => window.kdRun.charts.acc.traces.find((t) => t.key === 'student').raw.y")
    assert student == pytest.approx([60.0, 70.0])
    text = page.locator("#run-summary").inner_text()
    assert "70.00%" in text and "+20.00 个百分点" in text
    assert page.locator("#summary-seeds").count() == 0
