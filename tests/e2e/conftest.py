"""Fixtures of the browser tests: one real server and one Chromium per session, a
fresh browser context per test that records console errors and foreign requests
(checked when the test body ends), and a screenshot of every open page when a test
fails, under test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import sync_playwright
from support.browser import PageGuard, launch_chromium
from support.servers import ROOT, AppServer

ARTIFACTS = ROOT / "test-artifacts"
ACTIVE = ("queued", "running")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[AppServer]:
    srv = AppServer(tmp_path_factory.mktemp("e2e-server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def api(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=15) as client:
        yield client


# Module scope, not session: while it is open, Playwright's sync API keeps an event
# loop running in this thread, which breaks the asyncio tests collected after tests/e2e.
@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def guard(server) -> PageGuard:
    return PageGuard(origin=server.url)


@pytest.fixture
def context(browser, server, guard, request):
    ctx = browser.new_context(
        base_url=server.url,
        viewport={"width": 1280, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        service_workers="block",
    )
    ctx.set_default_timeout(15_000)
    ctx.set_default_navigation_timeout(30_000)
    guard.attach(ctx)
    yield ctx
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        _screenshots(ctx, request.node.nodeid)
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(autouse=True)
def _no_runs_left_behind(request) -> Iterator[None]:
    """A test that fails half-way must not leave a run holding the only slot."""
    api = request.getfixturevalue("api") if "server" in request.fixturenames else None
    yield
    if api is None:
        return
    try:
        for status in ACTIVE:
            for run in api.get("/api/runs", params={"status": status}).json()["runs"]:
                api.post(f"/api/runs/{run['id']}/cancel")
    except httpx.HTTPError:
        pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test body: the pages it opened logged no error and asked no other host."""
    result = yield
    guard = item.funcargs.get("guard")
    if isinstance(guard, PageGuard):
        problems = guard.problems()
        assert not problems, "the browser saw:\n" + "\n".join(problems)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _screenshots(context, nodeid: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]
    for i, pg in enumerate(context.pages):
        path = ARTIFACTS / f"{name}-{i}.png"
        try:
            pg.screenshot(path=str(path), full_page=True, timeout=10_000)
            print(f"screenshot of {pg.url}: {path}")
        except Exception as error:  # a crashed page must not hide the real failure
            print(f"no screenshot of {pg.url}: {error}")
