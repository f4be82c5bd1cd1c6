"""At a phone's 390 px: no page scrolls sideways, charts fit the screen, and the
catalog's filters fold behind one button so the first paper is on the first screen."""

from __future__ import annotations

import time

import pytest
from support.kd_runs import store_kd_run

from app.distill.stats import paired_stats
from app.runs.factory import open_store
from app.runs.store import encode_event

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844
SEEDS = [0, 1]


@pytest.fixture
def phone(browser, server, guard):
    ctx = browser.new_context(
        base_url=server.url,
        viewport={"width": WIDTH, "height": HEIGHT},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        service_workers="block",
    )
    ctx.set_default_timeout(15_000)
    guard.attach(ctx)
    yield ctx.new_page()
    ctx.close()


def store_runs(server) -> list[str]:
    """Two finished two-seed runs with a few events, in the server's own store."""
    store = open_store(server.data_dir / "runs.sqlite3")
    ids = ["phone0000001", "phone0000002"]
    try:
        for run_id, method in zip(ids, ("kd", "lsr"), strict=True):
            store.create_run(run_id, method, {"epochs": 1, "seeds": 2}, "x", time.time())
            events = [
                {"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 1,
                 "seeds": SEEDS},
                {"type": "metric", "kind": "step", "phase": "train", "epoch": 1, "step": 1,
                 "steps": 1, "losses": {"student": {"total": [1.0, 1.1]},
                                        "baseline": {"total": [1.2, 1.3]}}},
                {"type": "metric", "kind": "epoch", "phase": "train", "epoch": 1, "epochs": 1,
                 "models": {"student": {"acc": [0.9, 0.8]}, "baseline": {"acc": [0.8, 0.8]}}},
            ]  # fmt: skip
            store.append_events(run_id, [encode_event(i, e) for i, e in enumerate(events, 1)])
            summary = {"seeds": SEEDS, "final_acc": 0.85, "baseline_final_acc": 0.8,
                       "per_seed": {"student": {"test_acc": [0.9, 0.8]},
                                    "baseline": {"test_acc": [0.8, 0.8]}},
                       "delta": paired_stats([0.9, 0.8], [0.8, 0.8]).as_dict()}  # fmt: skip
            store.finish(run_id, "succeeded", {"type": "done", "summary": summary},
                         summary=summary)  # fmt: skip
    finally:
        store.close()
    return ids


def test_no_page_scrolls_sideways_and_charts_fit(phone, server):
    first, second = store_runs(server)
    pages = {
        "/": None,
        "/?min_rating=4&sort=rating": None,
        "/papers/1503.02531": None,
        "/methods": "forest",
        "/runs": None,
        f"/runs/{first}": "acc-chart",
        f"/runs/compare?ids={first},{second}": "compare-acc",
    }
    for url, chart in pages.items():
        phone.goto(url)
        if chart:  # drawn: Plotly has sized its SVG to the container
            phone.wait_for_function(
                "id => document.getElementById(id).querySelector('.main-svg')", arg=chart
            )
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{url} is {width} px wide"
        if chart:
            box = phone.locator(f"#{chart} .main-svg").first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 0.5, url
            assert box["width"] >= 300 and box["height"] >= 200, url  # still readable


def test_catalog_filters_fold_behind_one_button(phone):
    phone.goto("/")
    fold = phone.locator("#filters-fold")
    assert fold.evaluate("el => el.open") is False
    assert phone.locator("#q").is_visible() is False
    # The first paper is on the first screen now.
    first = phone.locator(".paper-card").first.bounding_box()
    assert first["y"] < HEIGHT
    phone.locator("#filters-toggle").click()
    assert phone.locator("#q").is_visible()
    phone.locator("#q").fill("蒸馏")
    phone.locator("#q").press("Enter")
    phone.wait_for_url("**/?q=*")
    # Folded again on the results, with the button saying a filter is on.
    assert phone.locator("#filters-toggle").inner_text() == "筛选与搜索（1 项生效）"
    assert fold.evaluate("el => el.open") is False


def test_wide_screens_keep_the_filters_open(page):
    page.goto("/")
    assert page.locator("#filters-fold").evaluate("el => el.open") is True
    assert page.locator("#filters-toggle").is_visible() is False
    assert page.locator("#q").is_visible()


#: Where a chart's parts sit on the screen: its SVG, the legend, the axes' titles.
CHART_PARTS = """id => {
  const el = document.getElementById(id);
  const box = (sel) => {
    const n = el.querySelector(sel);
    if (!n) return null;
    const r = n.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  };
  const bar = el.querySelector('.modebar');
  return {svg: box('.main-svg'), legend: box('.legend'), xtitle: box('.xtitle'),
          ytitle: box('.ytitle'),
          modebar: Boolean(bar && bar.getBoundingClientRect().height > 0
                           && getComputedStyle(bar).display !== 'none')};
}"""


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] \
        and b["top"] < a["bottom"]


def test_phone_charts_keep_their_titles_clear(phone, server):
    """No Plotly toolbar over a chart's top on a phone, a legend that does not cover the
    x axis's title, a y axis title inside the chart."""
    store_kd_run(server.data_dir, "phone0000kd1")
    phone.goto("/runs/phone0000kd1")
    phone.wait_for_function("() => document.querySelector('#ce-chart .legend')"
                            " && document.querySelector('#acc-chart .legend')")
    for chart in ("ce-chart", "acc-chart"):
        phone.locator(f"#{chart}").tap()  # a touch would show the toolbar, were there one
        parts = phone.evaluate(CHART_PARTS, chart)
        assert not parts["modebar"], chart
        assert not overlaps(parts["legend"], parts["xtitle"]), (chart, parts)
        assert parts["ytitle"]["left"] >= parts["svg"]["left"] - 0.5, (chart, parts)
        assert parts["ytitle"]["top"] >= parts["svg"]["top"] - 0.5, (chart, parts)


def test_wide_screens_keep_the_toolbar(page, server):
    store_kd_run(server.data_dir, "wide00000kd1")
    page.goto("/runs/wide00000kd1")
    page.wait_for_function("() => document.querySelector('#ce-chart .legend')")
    page.locator("#ce-chart").hover()
    assert page.evaluate(CHART_PARTS, "ce-chart")["modebar"]
