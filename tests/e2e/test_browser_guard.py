"""The watch that every browser test relies on (no console error, no uncaught
exception, no request to another host) does see those things when they happen."""

from __future__ import annotations

import pytest
from support.browser import PageGuard
from support.waits import wait_until

pytestmark = pytest.mark.e2e


def test_the_guard_sees_errors_and_foreign_requests(browser, server):
    guard = PageGuard(origin=server.url)  # not the `guard` fixture: these are expected
    ctx = browser.new_context(base_url=server.url)
    guard.attach(ctx)
    try:
        page = ctx.new_page()
        page.goto("/runs")
        assert guard.problems() == []
        page.evaluate("""() => {
          console.error('boom');
          setTimeout(() => { throw new Error('uncaught'); }, 0);
        }""")
        # The site's CSP stops its own pages from asking other hosts; a blank page
        # without one shows that such a request would be seen.
        blank = ctx.new_page()
        blank.set_content('<img src="http://example.invalid/x"><img src="http://localhost:1/y">')
        wait_until(lambda: len(guard.problems()) >= 4, 10, what="the guard to see all four")
    finally:
        ctx.close()
    problems = "\n".join(guard.problems())
    assert "console error" in problems and "boom" in problems
    assert "uncaught exception" in problems and "uncaught" in problems
    assert "http://example.invalid/x" in guard.foreign_requests
    assert "http://localhost:1/y" in guard.foreign_requests  # another origin, even if local
