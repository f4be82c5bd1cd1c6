"""The run page in Chromium: one bar for the whole run that goes up through the teacher
and the student, reaches 100% and stops with the run's real time; a teacher phase
priced by its record once there is one; KD's terms each on their own panel, its CE
beside the baseline's."""

from __future__ import annotations

import math
import time

import pytest
from support.kd_runs import store_kd_run

pytestmark = pytest.mark.e2e

#: A kd run whose teachers no other test trains (their own teacher_epochs).
KD = {"epochs": 2, "teacher_epochs": 3, "train_fraction": 0.05, "batch_size": 16, "seeds": 2}

#: Samples the bar and its label on every change, from the page's first script on.
WATCH = """() => {
  window.barSeen = [];
  const bar = document.getElementById('run-progress');
  const label = document.getElementById('run-progress-label');
  const note = () => window.barSeen.push({value: Number(bar.value), label: label.textContent,
                                          phase: window.kdRun ? window.kdRun.state.phase : null});
  new MutationObserver(note).observe(label, {childList: true, characterData: true, subtree: true});
  note();
}"""


def run_and_watch(page, api, params: dict) -> tuple[str, list[dict]]:
    r = api.post("/api/runs", json={"method": "kd", "params": params})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    page.goto(f"/runs/{run_id}")
    page.evaluate(WATCH)
    page.wait_for_function(
        "() => document.getElementById('run-status').dataset.status === 'succeeded'",
        timeout=180_000)
    return run_id, page.evaluate("() => window.barSeen")


def test_one_bar_for_the_whole_run_that_stops_at_the_end(page, api):
    run_id, seen = run_and_watch(page, api, KD)
    values = [s["value"] for s in seen]
    assert values == sorted(values), "the bar went back"
    teacher = [s for s in seen if s["phase"] == "teacher"]
    student = [s for s in seen if s["phase"] == "train"]
    assert teacher and student
    # Never trained on this server: the teacher's time is unknown when the run starts,
    # and the bar does not restart at 0 when the student does.
    assert "剩余时间未知" in teacher[0]["label"]
    assert student[0]["value"] >= teacher[-1]["value"] > 0
    assert all("全程" in s["label"] or "未知" in s["label"] for s in teacher + student)
    # The end: full, with the run's real time, and no "0 s left".
    run = api.get(f"/api/runs/{run_id}").json()
    elapsed = run["progress"]["whole"]["elapsed_s"]
    final = page.locator("#run-progress-label").inner_text()
    assert page.evaluate("() => Number(document.getElementById('run-progress').value)") == 1
    assert final == f"全程用时 {math.floor(elapsed + 0.5)} 秒"  # as the server says it
    assert "预计" not in final and elapsed > 0
    time.sleep(1.0)
    assert page.locator("#run-progress-label").inner_text() == final  # stopped
    # A reload shows the same end, from the server and from the replay.
    page.reload()
    page.wait_for_function("() => window.kdRun && window.kdRun.state.ended")
    assert page.locator("#run-progress-label").inner_text() == final

    # KD's terms: its CE beside the baseline's on one axis, its KD term and its total
    # each on a panel of their own; the baseline's total (its CE) is not drawn again.
    page.wait_for_function("() => document.querySelectorAll('#terms-chart .chart').length === 2")
    panels = page.locator("#terms-chart .chart")
    assert sorted(panels.evaluate_all("ps => ps.map((p) => p.dataset.term)")) == ["kd", "total"]
    for term in ("kd", "total"):
        panel = page.locator(f"#terms-chart .chart[data-term={term}]")
        assert panel.get_attribute("role") == "figure" and term in panel.get_attribute(
            "aria-label")
        page.wait_for_function(
            "el => el.data && el.data.some((d) => d.uid === 'student' && d.y.length > 0)",
            arg=panel.element_handle())
        uids = panel.evaluate("el => el.data.map((d) => d.uid)")
        assert "baseline" not in uids
    ce = page.evaluate("() => document.getElementById('ce-chart').data.map((d) => d.uid)")
    assert {"student", "baseline", "teacher"} <= set(ce)


def test_a_teacher_trained_before_prices_the_next_first_run(page, api):
    """Another seed set: its teachers are missing, but the server has a record of what
    that teacher costs, so the bar's first label is an ETA for the whole run."""
    run_and_watch(page, api, KD)  # trains (or loads) seeds 0 and 1, and records
    _, seen = run_and_watch(page, api, KD | {"seed": 5})
    teacher = [s for s in seen if s["phase"] == "teacher"]
    assert teacher and "全程预计还需" in teacher[0]["label"]


def test_kd_terms_are_drawn_on_their_own_scale(page, server):
    store_kd_run(server.data_dir, "terms0000001")
    page.goto("/runs/terms0000001")
    page.wait_for_function("() => document.querySelectorAll('#terms-chart .chart').length === 2")
    page.evaluate("() => window.kdRun.charts.ce.setSmoothing(0)")
    page.wait_for_function("() => window.kdRun.charts['terms·kd'].settled()"
                           " && window.kdRun.charts.ce.settled()")
    ce = page.evaluate("""() => Object.fromEntries(document.getElementById('ce-chart').data
      .filter((d) => !d.uid.includes('#')).map((d) => [d.uid, d.y]))""")
    assert ce["student"] == pytest.approx([2.1, 1.1])  # the student's CE, not its total
    assert ce["baseline"] == pytest.approx([3.0, 3.0])
    kd = page.evaluate("""() => document.querySelector('#terms-chart [data-term=kd]').data
      .filter((d) => !d.uid.includes('#')).map((d) => d.uid)""")
    assert kd == ["student"]
    title = page.evaluate(
        "() => document.querySelector('#terms-chart [data-term=kd]').layout.yaxis.title.text")
    assert title.startswith("kd")
    assert page.locator("#terms-chart h3").all_inner_texts() == [
        "损失项 kd（每步，单独的坐标）", "损失项 total（每步，单独的坐标）"]
    # Whole-number step ticks on every step chart.
    for chart in ("ce-chart", "acc-chart"):
        axis = page.evaluate(f"() => document.getElementById('{chart}').layout.xaxis")
        assert axis["tickmode"] == "linear" and axis["dtick"] == 1
