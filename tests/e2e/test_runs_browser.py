"""Live demos in Chromium: launch from a paper page, watch the charts grow, cancel,
reload mid-run, overlay finished runs. The worker trains for real (tiny sizes)."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from e2e_support import wait_until

pytestmark = pytest.mark.e2e

#: Small enough to finish in seconds, long enough to be watched while it runs.
WATCHABLE_KD = {"epochs": "8", "teacher_epochs": "2", "train_fraction": "0.2", "batch_size": "8"}
#: Half a minute or more of training (30 epochs of all 1,438 digits, 8 a batch):
#: something to cancel or reload; the test always cancels it.
LONG = {"epochs": 30, "train_fraction": 1.0, "batch_size": 8}
TINY = {"epochs": 2, "train_fraction": 0.05, "batch_size": 16}

RUN_STATE = """() => ({
  status: document.getElementById('run-status').dataset.status,
  points: window.kdRun ? window.kdRun.loss.pointCount() : -1,
  accPoints: window.kdRun ? window.kdRun.acc.pointCount() : -1,
  step: window.kdRun ? window.kdRun.state.step : -1,
  lastSeq: window.kdRun ? window.kdRun.state.lastSeq : -1,
  progress: Number(document.getElementById('run-progress').value),
})"""

#: The steps seen so far and each loss trace's x values, as kept (raw) and as Plotly
#: draws them, read at one instant.
LOSS_TRACES = """() => {
  const chart = window.kdRun.loss;
  const drawn = document.getElementById('loss-chart').data || [];
  return {
    step: window.kdRun.state.step,
    traces: chart.traces.map((t, i) => ({
      key: t.key, x: t.raw.x, drawn: drawn[i] ? drawn[i].x.length : -1,
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
        "n => window.kdRun && window.kdRun.loss.pointCount() >= n"
        " && document.getElementById('run-status').dataset.status === 'running'",
        arg=min_points,
        timeout=60_000,
    )
    return run_state(page)


def stored_points(api: httpx.Client, run_id: str) -> dict:
    points = api.get(f"/api/runs/{run_id}/metrics.json").json()["points"]
    steps = [p for p in points if p["kind"] == "step"]
    return {
        "loss_points": len(steps),
        "steps": len({p["seq"] for p in steps}),
        "acc_points": sum(p["kind"] == "epoch" and p["name"] == "acc" for p in points),
    }


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
    form = page.locator("form.run-form[data-method=kd]")
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

    # The end: the summary, a full bar, every stored point on the chart.
    summary = page.locator("#run-summary")
    summary.wait_for(state="visible", timeout=10_000)
    text = summary.inner_text()
    for label in ("方法最终准确率", "基线最终准确率", "差值", "教师准确率", "用时"):
        assert label in text
    final = api.get(f"/api/runs/{run_id}").json()
    assert final["status"] == "succeeded"
    assert f"{final['summary']['final_acc'] * 100:.2f}%" in text
    assert page.locator("#run-status").inner_text() == "已完成"
    assert page.locator("#cancel-form").is_hidden()
    state = run_state(page)
    assert state["progress"] == 1 and state["lastSeq"] == final["last_seq"]
    stored = stored_points(api, run_id)
    assert (state["points"], state["accPoints"]) == (stored["loss_points"], stored["acc_points"])
    assert stored["loss_points"] > 0 and stored["acc_points"] >= 8


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
        "n => window.kdRun && window.kdRun.loss.pointCount() > n",
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
    assert state["accPoints"] == stored["acc_points"]
    # What Plotly draws is every kept point (below the downsampling threshold).
    page.wait_for_function(
        """() => {
          const c = window.kdRun.loss, d = document.getElementById('loss-chart').data;
          return d && c.traces.every((t, i) => d[i] && d[i].x.length === t.raw.x.length);
        }""",
        timeout=10_000,
    )
    seen = page.evaluate(LOSS_TRACES)
    assert seen["step"] == stored["steps"]
    assert_no_gap(seen)
    assert all(t["drawn"] == len(t["x"]) for t in seen["traces"])


def test_overlay_two_finished_runs(page, api):
    first = launch(api, "baseline", {**TINY, "seed": 1})
    second = launch(api, "lsr", {**TINY, "seed": 2})
    for run_id in (first, second):
        assert wait_status(api, run_id, {"succeeded", "failed"}, 120)["status"] == "succeeded"

    page.goto("/runs")
    for run_id in (first, second):
        page.locator(f'tr[data-run-id="{run_id}"] input[name=compare]').check()
    with page.expect_navigation():
        page.locator("#compare-button").click()
    assert sorted(parse_qs(urlsplit(page.url).query)["compare"]) == sorted([first, second])
    assert page.locator("#compare-title").inner_text() == "叠加比较（2 次运行）"

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
    expected = [p["value"] * 100 for p in stored if p["kind"] == "epoch" and p["name"] == "acc"]
    assert names[f"{first} baseline · student"] == pytest.approx(expected)
    assert len(expected) == TINY["epochs"]
    loss_names = page.evaluate(
        "() => document.getElementById('compare-loss').data.map(t => t.name)"
    )
    assert sorted(loss_names) == sorted([f"{first} baseline", f"{second} lsr"])
    rows = page.locator("section.compare tbody tr").all_inner_texts()
    assert len(rows) == 2 and any(first in r for r in rows) and any(second in r for r in rows)
