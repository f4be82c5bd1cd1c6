"""The run page read at a glance, in Chromium: mean ± sd bands with per-seed lines
from the legend, the paired verdict box (live on validation, final on test), and the
chart controls kept in the URL. Runs written straight into the server's store give
exact numbers; one real two-seed run checks the same on the trainer's own events."""

from __future__ import annotations

import statistics
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from support.waits import wait_until

from app.distill.stats import paired_stats
from app.runs.factory import open_store
from app.runs.store import encode_event

pytestmark = pytest.mark.e2e

TINY = {"epochs": 2, "train_fraction": 0.05, "batch_size": 16, "seeds": 2}
T0 = 1_700_000_000.0
SEEDS = [0, 1, 2]
#: Validation accuracy per epoch, one per seed: the student ahead of the baseline.
STUDENT = [[0.70, 0.72, 0.69], [0.90, 0.80, 0.85]]
BASELINE = [[0.65, 0.70, 0.70], [0.80, 0.75, 0.80]]
STEP_LOSS = [[2.0, 2.2, 1.9], [1.5, 1.4, 1.6], [1.0, 1.1, 0.9], [0.5, 0.7, 0.6]]
EVENTS = [
    {"type": "phase", "phase": "train", "state": "start", "epochs": 2, "steps": 4,
     "seeds": SEEDS, "t": T0},
    *({"type": "metric", "kind": "step", "phase": "train", "epoch": i // 2 + 1, "step": i + 1,
       "steps": 4, "t": T0 + 10 * (i + 1),
       "losses": {"student": {"total": loss, "ce": loss}, "baseline": {"total": loss, "ce": loss}}}
      for i, loss in enumerate(STEP_LOSS)),
    *({"type": "metric", "kind": "epoch", "phase": "train", "epoch": e + 1, "epochs": 2,
       "t": T0 + 20 * (e + 1) + 1,
       "models": {"student": {"acc": s, "loss": [1.0] * 3}, "baseline": {"acc": b}}}
      for e, (s, b) in enumerate(zip(STUDENT, BASELINE, strict=True))),
    {"type": "phase", "phase": "train", "state": "end", "t": T0 + 50},
]  # fmt: skip
#: The run's last event is its `done` (seq len(EVENTS) + 1).
LAST_SEQ = len(EVENTS) + 1

#: The traces of a chart as Plotly holds them.
TRACES = """id => document.getElementById(id).data.map((d) => ({
  uid: d.uid, name: d.name, x: d.x, y: d.y, fill: d.fill || null, visible: d.visible,
  legendgroup: d.legendgroup || null, showlegend: d.showlegend !== false,
}))"""


def store_run(server, run_id: str, summary: dict) -> None:
    """A finished lsr run, with these events, written into the server's own store."""
    store = open_store(server.data_dir / "runs.sqlite3")  # shared with the server (WAL)
    try:
        store.create_run(run_id, "lsr", {"epochs": 2, "seeds": 3}, "127.0.0.1", time.time())
        store.append_events(run_id, [encode_event(i, e) for i, e in enumerate(EVENTS, start=1)])
        done = {"type": "done", "summary": summary, "t": T0 + 51}
        store.finish(run_id, "succeeded", done, summary=summary)
    finally:
        store.close()


def open_run(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(
        "n => window.kdRun && window.kdRun.state.lastSeq === n"
        " && document.getElementById('acc-chart').data"
        " && document.getElementById('acc-chart').data.length > 0",
        arg=LAST_SEQ,
    )
    # Points are drawn on the next animation frame: wait for the last one.
    page.wait_for_function(
        """() => ['ce', 'acc'].every((c) => {
          const chart = window.kdRun.charts[c], d = document.getElementById(c + '-chart').data;
          return d.length > 0 && chart.settled()
            && chart.all().every((t) => t.omitted || chart.position.has(t.key));
        })"""
    )


def traces(page, chart: str) -> dict[str, dict]:
    return {t["uid"]: t for t in page.evaluate(TRACES, f"{chart}-chart")}


def ema(values: list[float], weight: float) -> list[float]:
    """charts.js's smoothing: an EMA with TensorBoard's bias correction."""
    out, last = [], 0.0
    for i, v in enumerate(values, start=1):
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight**i))
    return out


def summary_with(delta: dict | None) -> dict:
    return {"method": "lsr", "seeds": SEEDS, "final_acc": 0.85, "baseline_final_acc": 0.8,
            "delta_acc": 0.05, "models": {"student": 0.85, "baseline": 0.8}, "delta": delta,
            "wall_s": 51.0}  # fmt: skip


def test_bands_per_seed_lines_and_the_live_verdict(page, server):
    store_run(server, "view00000001", summary_with(None))  # no final verdict: the live one stays
    open_run(page, "/runs/view00000001")
    acc = traces(page, "acc")
    student = acc["student"]
    assert student["y"] == pytest.approx([statistics.mean(s) * 100 for s in STUDENT])
    # The band: mean − sd, then mean + sd filled down to it, in the mean's legend group.
    sds = [statistics.stdev(s) * 100 for s in STUDENT]
    lower, upper = acc["student#lower"], acc["student#upper"]
    assert lower["y"] == pytest.approx([m - sd for m, sd in zip(student["y"], sds, strict=True)])
    assert upper["y"] == pytest.approx([m + sd for m, sd in zip(student["y"], sds, strict=True)])
    assert upper["fill"] == "tonexty" and lower["fill"] in (None, "none")
    uids = list(acc)
    assert uids.index("student#upper") == uids.index("student#lower") + 1
    assert {lower["legendgroup"], upper["legendgroup"]} == {"student"}
    assert not lower["showlegend"] and not upper["showlegend"]
    # One thin line per seed, hidden until asked for: one trace and one legend entry per
    # model, carrying one point while hidden (for the legend; all are kept, and drawn
    # when shown).
    seeds = acc["student#seeds"]
    assert seeds["visible"] == "legendonly" and seeds["showlegend"]
    assert seeds["y"] == pytest.approx([STUDENT[0][0] * 100])
    assert not [uid for uid in acc if "#seed" in uid and not uid.endswith("#seeds")]
    kept = page.evaluate(
        "() => [...window.kdRun.charts.acc.find('student#seeds').lines]"
        ".map(([seed, line]) => [seed, line.y])"
    )
    assert [seed for seed, _ in kept] == SEEDS
    for i, (_, ys) in enumerate(kept):
        assert ys == pytest.approx([s[i] * 100 for s in STUDENT])
    # The CE chart has bands too (smoothed like its mean, at the default 0.6), the raw
    # mean drawn faintly, each model's CE on the one axis.
    ce = traces(page, "ce")
    upper = [statistics.mean(v) + statistics.stdev(v) for v in STEP_LOSS]
    assert ce["student#upper"]["y"] == pytest.approx(ema(upper, 0.6))
    assert ce["student#raw"]["y"] == pytest.approx([statistics.mean(v) for v in STEP_LOSS])
    assert ce["baseline"]["y"] == ce["student"]["y"]
    # The student's total is CE alone here, and the baseline's is its CE: no term panel.
    assert page.locator("#terms-chart .chart").count() == 0

    # Live verdict: Δ on the latest epoch's validation accuracy, paired by seed.
    expected = paired_stats(STUDENT[-1], BASELINE[-1])
    box = page.locator("#verdict-box")
    assert box.get_attribute("data-scope") == "val"
    assert box.get_attribute("data-verdict") == expected.verdict
    text = box.inner_text()
    assert "验证集（训练中）" in text and "第 2 轮" in text
    assert f"+{expected.mean * 100:.2f}" in text
    ci = f"[{expected.ci_low * 100:+.2f}, {expected.ci_high * 100:+.2f}]".replace("-", "−")
    assert ci in text
    assert expected.label("zh") in text

    # Clicking the legend shows the student's seeds (Plotly waits out a double click).
    entry = page.locator("#acc-chart .legend .traces", has_text="student · 各种子")
    entry.locator(".legendtoggle").click()
    page.wait_for_function(
        """() => { const d = document.getElementById('acc-chart').data
                     .find((t) => t.uid === 'student#seeds');
                   return d.visible === true && d.y.length > 0; }"""
    )
    # Shown: each seed's line, joined to the next by a gap.
    expected = []
    for i in range(len(SEEDS)):
        expected += ([None] if expected else []) + [s[i] * 100 for s in STUDENT]
    drawn = traces(page, "acc")["student#seeds"]["y"]
    assert [y is None for y in drawn] == [y is None for y in expected]
    numbers = [y for y in expected if y is not None]
    assert [y for y in drawn if y is not None] == pytest.approx(numbers)
    # The baseline's seeds stay hidden.
    assert traces(page, "acc")["baseline#seeds"]["visible"] == "legendonly"


def test_the_final_verdict_comes_from_the_summary(page, server):
    delta = paired_stats([0.9, 0.85, 0.8], [0.92, 0.86, 0.82]).as_dict()  # the student loses
    store_run(server, "view00000002", summary_with(delta))
    open_run(page, "/runs/view00000002")
    box = page.locator("#verdict-box")
    assert box.get_attribute("data-scope") == "test"
    assert box.get_attribute("data-verdict") == delta["verdict"] == "worse"
    text = box.inner_text()
    assert "测试集（最终）" in text and "验证集" not in text
    assert f"−{abs(delta['mean']) * 100:.2f}" in text and delta["label_zh"] in text
    assert page.locator(".run-papers a").first.get_attribute("href") == "/papers/1909.11723"


def test_controls_live_in_the_url_and_a_copied_link_restores_them(page, context, server):
    store_run(server, "view00000003", summary_with(None))
    open_run(page, "/runs/view00000003")
    layout = "id => document.getElementById(id).layout"
    assert page.evaluate(layout, "ce-chart")["yaxis"].get("type", "linear") == "linear"

    page.locator("#log-y").check()
    page.wait_for_function("id => document.getElementById(id).layout.yaxis.type === 'log'",
                           arg="ce-chart")  # fmt: skip
    page.locator("#x-axis").select_option("time")
    page.wait_for_function(
        "() => document.getElementById('ce-chart').data[0].x[0] === 10"
    )  # seconds since the run's first event
    # The slider: set it as a drag would, one input then the change on release.
    page.evaluate("""() => {
      const s = document.getElementById('smoothing');
      s.value = '0';
      s.dispatchEvent(new Event('input'));
      s.dispatchEvent(new Event('change'));
    }""")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"log": ["1"], "x": ["time"], "smooth": ["0"]}
    # The new smoothing is drawn on the next animation frame: wait for it, bounded.
    want = [statistics.mean(v) for v in STEP_LOSS]
    deadline = time.monotonic() + 5
    loss = traces(page, "ce")
    while loss["student"]["y"] != pytest.approx(want) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
        loss = traces(page, "ce")
    assert loss["student"]["x"] == [10, 20, 30, 40]
    # Seconds get Plotly's own ticks; steps and epochs whole numbers only.
    assert "dtick" not in page.evaluate(layout, "ce-chart")["xaxis"]
    assert loss["student"]["y"] == pytest.approx(want)
    acc = traces(page, "acc")
    assert acc["student"]["x"] == [21, 41]
    markers = page.evaluate("id => document.getElementById(id).layout.shapes.map(s => s.x0)",
                            "ce-chart")  # fmt: skip
    assert markers == [0]  # the phase marker moved to its time

    # The copied link, opened afresh, shows the same view.
    other = context.new_page()
    open_run(other, page.url)
    assert other.locator("#log-y").is_checked()
    assert other.locator("#x-axis").input_value() == "time"
    assert other.locator("#smoothing").input_value() == "0"
    assert other.evaluate(layout, "ce-chart")["yaxis"]["type"] == "log"
    assert traces(other, "ce")["student"] == loss["student"]
    assert other.evaluate(layout, "ce-chart")["xaxis"]["title"]["text"].startswith("秒")

    # Back to the defaults: the URL loses the parameters, epochs as x give fractions.
    other.locator("#log-y").uncheck()
    other.locator("#x-axis").select_option("epoch")
    wait_until(lambda: "x=epoch" in other.url and "log" not in other.url, 5, what="the URL")
    other.wait_for_function("() => document.getElementById('ce-chart').data[0].x.length === 4")
    assert traces(other, "ce")["student"]["x"] == pytest.approx([0.5, 1.0, 1.5, 2.0])
    axis = other.evaluate(layout, "ce-chart")["xaxis"]
    assert (axis["tickmode"], axis["tick0"], axis["dtick"]) == ("linear", 0, 1)
    assert other.evaluate(layout, "acc-chart")["xaxis"]["dtick"] == 1


def test_a_real_two_seed_run_draws_bands_and_a_verdict(page, api):
    r = api.post("/api/runs", json={"method": "lsr", "params": TINY})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    page.goto(f"/runs/{run_id}")
    page.wait_for_function(
        "() => document.getElementById('verdict-box').dataset.scope === 'test'", timeout=120_000
    )
    run = api.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "succeeded"
    box = page.locator("#verdict-box").inner_text()
    assert "测试集（最终）" in box and run["summary"]["delta"]["label_zh"] in box
    page.wait_for_function(
        """() => { const d = document.getElementById('acc-chart').data;
          return window.kdRun.charts.acc.find('student#seeds').lines.size === 2
            && d.find((t) => t.uid === 'student#upper').y.length === 2; }"""
    )
    points = api.get(f"/api/runs/{run_id}/metrics.json").json()["points"]
    per_epoch: dict[int, list[float]] = {}
    for p in points:
        if p["kind"] == "epoch" and p["name"] == "acc" and p["model"] == "student":
            per_epoch.setdefault(p["seq"], []).append(p["value"] * 100)
    upper = traces(page, "acc")["student#upper"]["y"]
    assert upper == pytest.approx(
        [statistics.mean(v) + statistics.stdev(v) for v in per_epoch.values()]
    )
