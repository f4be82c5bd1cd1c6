"""A sweep in Chromium: a real sweep of kd over T trains through the server, its run
page draws Δ ± 95% CI against T (static/js/sweep.js), one line per comparator, each
marker coloured by its point's Holm verdict; /runs/compare lists the sweep beside a
run and says why it is not paired, with no error."""

from __future__ import annotations

import httpx
import pytest
from support.waits import wait_until

pytestmark = pytest.mark.e2e

TINY = {"epochs": 2, "train_fraction": 0.05, "seeds": 3, "teacher_epochs": 1}
#: static/js/sweep.js's colours, by the verdict words the sweep's summary uses.
COLOURS = {"beats": "#2a7d3f", "worse": "#b3362c", "unclear": "#777", "no_verdict": "#aaa"}
TRACES = """() => document.getElementById('sweep-chart').data.map((t) => ({
  name: t.name, x: t.x, y: t.y, plus: t.error_y.array, minus: t.error_y.arrayminus,
  colours: t.marker.color, symbols: t.marker.symbol, text: t.text }))"""


def finished(api: httpx.Client, run_id: str) -> dict:
    return wait_until(
        lambda: (run := api.get(f"/api/runs/{run_id}").json())["status"]
        in {"succeeded", "failed"} and run, 240, what=f"run {run_id} to finish")


def test_a_sweep_draws_its_delta_and_ci_with_each_points_verdict(page, api):
    sweep = {"param": "temperature", "values": [2.0, 8.0]}
    r = api.post("/api/runs", json={"method": "kd", "params": {**TINY, "sweep": sweep}})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    page.goto(f"/runs/{run_id}")
    run = finished(api, run_id)
    assert run["status"] == "succeeded", run
    lines = run["summary"]["sweep"]["lines"]
    assert [line["arm"] for line in lines] == ["baseline"]

    # The live page ends on the summary: filled markers, Holm's verdicts.
    page.wait_for_function(
        """() => { const d = document.getElementById('sweep-chart').data;
                   return d && d.length && d[0].marker.symbol.every((s) => s === 'circle'); }""",
        timeout=30_000)
    drawn = page.evaluate(TRACES)
    assert len(drawn) == len(lines)
    for trace, line in zip(drawn, lines, strict=True):
        points = sorted(line["points"], key=lambda p: p["value"])
        assert trace["x"] == [p["value"] for p in points] == sweep["values"]
        assert trace["y"] == pytest.approx([100 * p["mean"] for p in points])
        assert trace["plus"] == pytest.approx(
            [100 * (p["ci_high"] - p["mean"]) for p in points])
        assert trace["minus"] == pytest.approx(
            [100 * (p["mean"] - p["ci_low"]) for p in points])
        assert trace["colours"] == [COLOURS[p["verdict_holm"]] for p in points]
        assert trace["text"] == [f"Holm: {p['verdict_holm']}" for p in points]
        assert line["versus"]["zh"] in trace["name"]

    # A reload draws the same from the stored summary.
    page.reload()
    page.wait_for_function("() => (document.getElementById('sweep-chart').data || []).length")
    assert page.evaluate(TRACES) == drawn

    # Compared with a plain run: listed, said why it is not paired, no error.
    other = api.post("/api/runs", json={"method": "kd", "params": TINY}).json()["id"]
    assert finished(api, other)["status"] == "succeeded"
    body = api.get(f"/api/compare?ids={run_id},{other}")
    assert body.status_code == 200
    compared = body.json()
    assert [r["sweep"] for r in compared["runs"]] == [sweep, None]
    assert compared["pairs"] == []  # a sweep has no one student to pair by seed
    assert [n["run"] for n in compared["notices"]] == [run_id]
    response = page.goto(f"/runs/compare?ids={run_id},{other}")
    assert response.status == 200
    notice = page.locator(f'.sweep-notice[data-run-id="{run_id}"]')
    assert "temperature" in notice.inner_text() and "no one student to pair" in \
        notice.inner_text()
