"""/methods in Chromium: the forest plot drawn from the table's numbers, and "re-run
all" filling the table in live, without a reload, from real training runs."""

from __future__ import annotations

import time

import pytest
from e2e_support import wait_until

from app.distill.stats import paired_stats
from app.runs.factory import open_store
from app.web.method_rows import default_params

pytestmark = pytest.mark.e2e

#: Rows the re-run test waits for: the first two methods in the registry's order.
FIRST_TWO = ("kd", "lsr")


def test_forest_plot_draws_each_live_and_reference_interval(page, server):
    student, baseline = [0.93, 0.95, 0.94], [0.90, 0.91, 0.92]
    store = open_store(server.data_dir / "runs.sqlite3")  # the server's own, shared (WAL)
    try:
        store.create_run("forest000001", "dml", default_params("dml"), "x", time.time())
        summary = {"seeds": [0, 1, 2], "final_acc": 0.94, "baseline_final_acc": 0.91,
                   "delta": paired_stats(student, baseline).as_dict()}  # fmt: skip
        store.finish("forest000001", "succeeded", {"type": "done", "summary": summary},
                     summary=summary)  # fmt: skip
    finally:
        store.close()
    page.goto("/methods")
    page.wait_for_function("() => (document.getElementById('forest').data || []).length === 2")
    live, reference = page.evaluate(
        """() => document.getElementById('forest').data.map((t) => ({
             y: t.y, x: t.x, plus: t.error_x.array, minus: t.error_x.arrayminus }))"""
    )
    expected = paired_stats(student, baseline)
    i = live["y"].index("dml")
    assert live["x"][i] == pytest.approx(expected.mean * 100)
    assert live["x"][i] - live["minus"][i] == pytest.approx(expected.ci_low * 100)
    assert live["x"][i] + live["plus"][i] == pytest.approx(expected.ci_high * 100)
    assert "kd" in reference["y"]  # the committed reference rows
    assert page.locator('tr[data-method="dml"] a.live-run').get_attribute("href") == (
        "/runs/forest000001"
    )


def test_rerun_all_fills_the_table_live(page, api):
    page.goto("/methods")
    page.evaluate("() => { window.notReloaded = true; }")
    for method in FIRST_TWO:
        assert page.locator(f'tr[data-method="{method}"]').get_attribute("data-live-run") is None
    page.locator("#rerun-button").click()
    wait_until(
        lambda: "个运行排队或进行中" in page.locator("#rerun-status").inner_text(),
        15,
        what="the page to say what it queued",
    )
    for method in FIRST_TWO:  # kd trains its teachers first: allow for it
        page.wait_for_selector(f'tr[data-method="{method}"][data-live-run]', timeout=120_000)
    assert page.evaluate("() => window.notReloaded === true")
    run_id = page.locator('tr[data-method="lsr"]').get_attribute("data-live-run")
    run = api.get(f"/api/runs/{run_id}").json()
    assert run["method"] == "lsr" and run["status"] == "succeeded"
    assert run["params"] == default_params("lsr")
    verdict = run["summary"]["delta"]["label_zh"]
    assert verdict in page.locator('tr[data-method="lsr"]').inner_text()
    # The forest plot was redrawn with the new live rows.
    live_ids = page.evaluate("() => document.getElementById('forest').data[0].y")
    assert set(FIRST_TWO) <= set(live_ids)


@pytest.mark.parametrize("width", [1280, 390])
def test_verdicts_read_on_one_line(page, width):
    """此规模下无明显差异 and the like are one phrase each, on a wide screen and a phone
    (the table scrolls sideways inside its box there, the page does not)."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/methods")
    lines = page.locator(".methods-table .verdict").evaluate_all(
        "vs => vs.map((v) => v.getClientRects().length)")
    assert lines and set(lines) == {1}
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
