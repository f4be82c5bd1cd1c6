"""The reader's UI in Chromium: axe-core finds nothing on the catalog and a paper page
in light and in dark; the theme toggle is kept across visits and the charts take its
colours; the keyboard reaches the search and the papers; the UI switches language.

axe-core is vendored for the tests only (tests/e2e/vendor/axe-core) and injected by
Playwright as an init script, which the page's CSP does not apply to."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.kd_runs import store_kd_run

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
#: What axe checks: WCAG 2.1 A and AA and its best practices (heading order, one h1,
#: landmarks), the rules a reader of these pages meets.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, "resultTypes": ["violations"]}


@pytest.fixture
def axe_page(context):
    context.add_init_script(path=str(AXE))
    return context.new_page()


def violations(page) -> list[str]:
    found = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}" for v in found]


def use_theme(page, theme: str) -> None:
    page.evaluate("theme => window.kdTheme.set(theme)", theme)
    assert page.evaluate("document.documentElement.dataset.theme") == theme


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(
    "url", ["/", "/papers/1503.02531", "/?lang=en", "/papers/1503.02531?lang=en"])
def test_axe_finds_nothing(axe_page, url, theme):
    axe_page.goto(url)
    use_theme(axe_page, theme)
    axe_page.wait_for_timeout(100)  # the colours' transition, if any, has ended
    assert violations(axe_page) == []


@pytest.fixture(scope="module")
def finished_runs(server) -> list[str]:
    """Two finished kd runs in the server's store, with KD's terms and a summary."""
    ids = ["axe000000001", "axe000000002"]
    for run_id in ids:
        store_kd_run(server.data_dir, run_id)
    return ids


#: Every chart on the page drawn (Plotly's toolbar is in the page, focusable).
CHARTS_DRAWN = """() => [...document.querySelectorAll('.chart')]
  .filter((el) => !el.closest('[hidden]'))
  .every((el) => el.querySelector('.main-svg'))"""


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["run", "methods", "compare"])
def test_axe_finds_nothing_on_the_pages_with_charts(axe_page, finished_runs, which, lang, theme):
    first, second = finished_runs
    url = {"run": f"/runs/{first}", "methods": "/methods",
           "compare": f"/runs/compare?ids={first},{second}"}[which]
    axe_page.goto(f"{url}{'&' if '?' in url else '?'}lang={lang}")
    axe_page.wait_for_function(CHARTS_DRAWN)
    if which == "run":  # KD's own terms on their panels, made as the events came
        axe_page.wait_for_function("() => [...document.querySelectorAll('#terms-chart .chart')]"
                                   ".filter((el) => el.querySelector('.main-svg')).length === 2")
    use_theme(axe_page, theme)
    axe_page.wait_for_timeout(150)  # the colours' transition, and the charts' redraw
    assert violations(axe_page) == []


def test_the_theme_is_kept_across_visits_and_the_charts_follow_it(page):
    page.emulate_media(color_scheme="light")
    page.goto("/methods")
    page.wait_for_function("document.querySelector('#forest').layout !== undefined")
    toggle = page.locator("#theme-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
    # The forest plot redrew in the dark theme's text colour.
    page.wait_for_function("document.querySelector('#forest').layout.font.color === '#e6e4df'")
    # Another visit, another page: still dark, before any script of the page ran.
    page.goto("/")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("localStorage.getItem('theme')") == "dark"
    page.locator("#theme-toggle").click()
    assert page.evaluate("localStorage.getItem('theme')") == "light"


def docs_findings(page, scheme: str, ours: bool = True) -> set[tuple[str, str]]:
    """axe-core's findings inside Swagger UI on /docs; with ours=False, with app.css
    switched off, so that what is left is Swagger UI's own."""
    page.emulate_media(color_scheme=scheme)
    page.goto("/docs")
    page.wait_for_selector("#swagger-ui .opblock")
    if not ours:
        page.evaluate("document.querySelector('link[href$=\"/css/app.css\"]').disabled = true")
    found = page.evaluate("() => axe.run('#swagger-ui', {resultTypes: ['violations']})")
    return {(v["id"], n["html"][:60]) for v in found["violations"] for n in v["nodes"]}


def test_docs_in_dark_mode_adds_nothing_to_swagger_uis_own_findings(axe_page):
    """/docs' exceptions, stated: Swagger UI's own palette (white on its light blue GET
    and green POST badges, its version pills, the spec's URL, its grey expand-all
    button, its syntax colours), its heading order, its unlabelled enum selects and its
    scrollable examples, the same in light and dark. What dark mode used to add (its
    text at contrast 1.76 on our dark background, our buttons' colours inside its
    widgets) is gone: with our stylesheet switched off it finds the same."""
    light, dark = docs_findings(axe_page, "light"), docs_findings(axe_page, "dark")
    assert dark == light
    assert {rule for rule, _ in dark} <= {
        "color-contrast", "heading-order", "select-name", "scrollable-region-focusable"}
    assert docs_findings(axe_page, "light", ours=False) == light


def test_keys_reach_the_search_and_the_papers(page):
    page.goto("/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("x")  # typing in the search is not a shortcut
    assert page.input_value("#q") == "x"
    page.locator("main h1").click()
    slugs = page.locator("article.paper-card").evaluate_all("cs => cs.map(c => c.dataset.slug)")
    focused = "document.activeElement.closest('.paper-card')?.dataset.slug"
    page.keyboard.press("j")
    assert page.evaluate(focused) == slugs[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.evaluate(focused) == slugs[2]
    page.keyboard.press("k")
    assert page.evaluate(focused) == slugs[1]
    page.keyboard.press("?")
    assert page.locator("#keys-help").is_visible()
    assert "/" in page.locator("#keys-help").inner_text()
    page.keyboard.press("Escape")
    assert not page.locator("#keys-help").is_visible()


def test_the_reader_switches_the_interface_to_english_and_back(page):
    page.goto("/?min_rating=4")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    with page.expect_navigation():
        page.locator(".lang-switch a[hreflang=en]").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "min_rating=4" in page.url
    assert page.locator("#result-count").inner_text().strip().endswith("papers")
    page.goto("/methods")  # the cookie keeps the choice
    assert page.locator("h1").inner_text() == "Methods"
    with page.expect_navigation():
        page.locator(".lang-switch a[hreflang=zh]").click()
    assert page.locator("h1").inner_text() == "方法一览"
