"""A notes file written to attack its readers: nothing in it runs in Chromium, and the
rest of the page still renders. The file is added to the running server's notes
folder (edits are picked up without a restart) and removed afterwards."""

from __future__ import annotations

import time

import pytest
from markdown_it import MarkdownIt
from support.waits import wait_until

pytestmark = pytest.mark.e2e

# Each payload would set window.__pwned if it ran. The image sources are data: URLs so
# that the payload, not a 404, is what the test looks at.
HOSTILE = """\
# Hostile notes

## Hostile section

> 一个用来攻击读者的笔记文件。

- [Hostile <script>window.__pwned = "title"</script> Paper](https://example.org/hostile) (XSS2024)
    - 2分
    - 正常的笔记内容：这一行应当照常显示。<script>window.__pwned = "script"</script>
    - <img src="data:," onerror="window.__pwned = 'img'"> 图片之后的文字。
    - [点我](javascript:window.__pwned='md-link') 和 \
<a href="javascript:window.__pwned='a'">原始链接</a> 和 \
<a href="JaVaScRiPt:window.__pwned='case'">大小写</a>
    - <iframe src="javascript:parent.__pwned='iframe'"></iframe>
    - <iframe srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>
    - <svg><image href="data:," onerror="window.__pwned='svg'"></image></svg>
    - <details open ontoggle="window.__pwned='toggle'">x</details>
    - **加粗** 与 `代码` 照常渲染。
"""

DANGEROUS = """() => {
  const note = document.querySelector('section.note');
  const bad = [];
  for (const el of document.querySelectorAll('script')) {
    if (!el.src && el.type !== 'application/json') bad.push('inline <script>');
  }
  for (const el of note.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const what = `${el.tagName} ${attr.name}`;
      if (attr.name.startsWith('on') || attr.name === 'srcdoc') bad.push(what);
      if (/^\\s*javascript:/i.test(attr.value)) bad.push(`${what}=javascript:`);
    }
  }
  for (const el of document.querySelectorAll('iframe, object, embed')) bad.push(el.tagName);
  return bad;
}"""


@pytest.fixture
def hostile_paper(server, api):
    before = api.get("/healthz").json()["papers"]
    path = server.notes_dir / "zz-hostile.md"
    path.write_text(HOSTILE, encoding="utf-8")
    try:
        papers = wait_until(
            lambda: api.get("/api/papers", params={"q": "正常的笔记内容"}).json()["papers"],
            10,
            what="the server to read the new notes file",
        )
        assert len(papers) == 1
        yield papers[0]
    finally:
        path.unlink()
        wait_until(
            lambda: api.get("/healthz").json()["papers"] == before,
            10,
            what="the server to forget the file",
        )


def test_the_payload_would_run_unsanitised(browser):
    """The control: the same notes, rendered without the sanitiser and without the
    server's CSP, do set the flag. So the flag staying unset below means something."""
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.set_content(MarkdownIt("commonmark", {"html": True}).render(HOSTILE))
        page.wait_for_function("() => window.__pwned !== undefined", timeout=5_000)
    finally:
        ctx.close()


def test_hostile_notes_run_nothing_and_the_page_still_renders(page, api, hostile_paper):
    # The catalog lists it (its first insight on the card) next to the others.
    page.goto("/")
    assert page.locator("article.paper-card").count() == api.get("/healthz").json()["papers"]
    assert page.locator('article.paper-card[data-slug="1503.02531"]').is_visible()
    card = page.locator(f'article.paper-card[data-slug="{hostile_paper["slug"]}"]')
    assert "正常的笔记内容" in card.inner_text()
    assert page.evaluate("() => window.__pwned") is None

    with page.expect_navigation():
        card.locator("h3 a").click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text().startswith("Hostile")
    note = page.locator("section.note")
    text = note.inner_text()
    for visible in (
        "正常的笔记内容：这一行应当照常显示。",
        "图片之后的文字。",
        "原始链接",
        "照常渲染",
    ):
        assert visible in text
    assert note.locator("strong").inner_text() == "加粗"
    assert note.locator("code").inner_text() == "代码"
    assert page.evaluate(DANGEROUS) == []

    # Clicking what used to be a javascript: link does nothing either.
    page.locator("section.note a", has_text="原始链接").click()
    page.locator("section.note a", has_text="大小写").click()
    time.sleep(0.5)  # give any handler, toggle or frame time to fire
    assert page.evaluate("() => window.__pwned") is None
    assert page.url.endswith(f"/papers/{hostile_paper['slug']}")

    # The rest of the page: facts, legend, demo panel, BibTeX, breadcrumb.
    assert page.locator("dl.facts .rating-number").inner_text() == "2分"
    assert page.locator("details.legend-box dl.legend > div").count() == 5
    assert page.locator("#demo").is_visible()
    assert "Hostile" in page.locator("pre.bibtex").inner_text()
    assert "Hostile section" in page.locator("nav.breadcrumb").inner_text()
