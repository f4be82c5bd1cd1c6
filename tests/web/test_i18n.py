"""One interface, two languages (issue 18, item 6): every interface string in both
tables, the language chosen by ?lang=, the cookie or Accept-Language, and no word of
the other language left on a rendered page (the notes' own content aside)."""

from __future__ import annotations

import re
import string

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from support.i18n import wrong_language

from app import PROJECT_ROOT
from app.main import create_app
from app.settings import Settings
from app.web import i18n
from app.web.i18n import LANGUAGES, TABLES
from app.web.i18n.negotiate import from_accept_language

HTML = {"accept": "text/html"}

#: Pages scanned whole, in both languages. `region` None: the whole page; else only
#: the CSS selector's part (a page whose own body is not converted yet).
PAGES = [
    ("/", 200),
    ("/?q=kd&min_rating=3&sort=rating", 200),
    ("/?q=nothing-matches-this", 200),
    ("/categories/self-kd", 200),
    ("/no-such-page", 404),
    ("/papers/no-such-paper", 404),
    ("/runs/compare", 400),
    ("/runs/compare?ids=nope", 404),
    ("/methods/nope", 404),
]
#: Pages whose chrome (header, footer) is scanned.
CHROME = ["/", "/papers/1503.02531", "/methods", "/runs", "/evidence", "/docs"]

KEY_USES = {
    "templates": (PROJECT_ROOT / "templates", "*.html",
                  re.compile(r"""\bt\(\s*["']([\w.]+)["']\s*[,)]""")),
    "python": (PROJECT_ROOT / "app" / "web", "*.py",
               re.compile(r"""\btranslate\(\s*["']([\w.]+)["']\s*[,)]""")),
    "scripts": (PROJECT_ROOT / "static" / "js", "*.js",
                re.compile(r"""\buiText\(\s*["']([\w.]+)["']\s*[,)]""")),
}  # fmt: skip


@pytest.fixture(scope="module")
def client(seed_notes, tmp_path_factory):
    settings = Settings(
        notes_dir=seed_notes,
        data_dir=tmp_path_factory.mktemp("i18n"),
        notes_poll_interval=0,
        run_warm_workers=0,
        run_token=None,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def forget_the_language(client):
    # The module's client keeps cookies: a test's ?lang= must not choose for the next.
    client.cookies.clear()


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_tables_hold_the_same_keys_and_placeholders():
    zh, en = TABLES["zh"], TABLES["en"]
    assert sorted(set(zh) - set(en)) == [], "missing from en.toml"
    assert sorted(set(en) - set(zh)) == [], "missing from zh.toml"
    for key in zh:
        assert zh[key].strip() and en[key].strip(), f"{key} is empty"
        assert fields(zh[key]) == fields(en[key]), f"{key}: the placeholders differ"


def test_each_table_is_in_its_own_language():
    for key, text in TABLES["en"].items():
        if key not in ("lang.zh",):
            assert not re.search(r"[\u3400-\u9fff]", text), f"en.toml {key}: {text}"
    for key, text in TABLES["zh"].items():
        if not key.startswith("lang."):
            words = re.sub(r"\{\w+\}", "", text)  # placeholders are no words
            page = f"<html><body><p>{words}</p></body></html>"
            assert not wrong_language(page, "zh"), f"zh.toml {key}: {text}"


@pytest.mark.parametrize("where", KEY_USES)
def test_every_key_the_code_names_is_in_the_tables(where):
    folder, pattern, use = KEY_USES[where]
    named = {
        (path.relative_to(PROJECT_ROOT), key)
        for path in folder.rglob(pattern)
        for key in use.findall(path.read_text(encoding="utf-8"))
    }
    assert named or where == "scripts", f"no keys found in {folder}: the pattern is stale"
    missing = sorted((str(p), k) for p, k in named if k not in TABLES["zh"])
    assert missing == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("fr-FR, en;q=0.5, zh;q=0.4", "en"),
        ("en;q=0.2, zh-TW;q=0.7", "zh"),
        ("de, fr", None),
        ("en;q=0, zh;q=0.1", "zh"),
        ("en;q=bogus", None),
    ],
)
def test_accept_language_picks_the_best_supported(header, expected):
    assert from_accept_language(header) == expected


def html_lang(response) -> str:
    return BeautifulSoup(response.text, "html.parser").html["lang"]


def test_chinese_by_default_english_when_asked(client):
    assert html_lang(client.get("/", headers=HTML)) == "zh-CN"
    page = client.get("/", headers={**HTML, "accept-language": "en-GB,en;q=0.9"})
    assert html_lang(page) == "en"
    assert "Cookie" in page.headers["vary"] and "Accept-Language" in page.headers["vary"]


def test_the_query_wins_and_the_cookie_remembers_it(seed_notes, tmp_path):
    settings = Settings(notes_dir=seed_notes, data_dir=tmp_path, notes_poll_interval=0,
                        run_warm_workers=0, run_token=None)  # fmt: skip
    with TestClient(create_app(settings)) as fresh:
        asked = fresh.get("/?lang=en", headers={**HTML, "accept-language": "zh-CN"})
        assert html_lang(asked) == "en"
        assert "lang=en" in asked.headers["set-cookie"]
        # The next page, with no ?lang=, is still in English: the cookie says so...
        later = fresh.get("/runs", headers={**HTML, "accept-language": "zh-CN"})
        assert html_lang(later) == "en"
        # ...until the reader switches back.
        assert html_lang(fresh.get("/?lang=zh", headers=HTML)) == "zh-CN"
        assert html_lang(fresh.get("/runs", headers=HTML)) == "zh-CN"
        # A language the UI does not speak changes nothing.
        assert html_lang(fresh.get("/?lang=fr", headers=HTML)) == "zh-CN"


def test_the_switch_links_this_page_in_the_other_language(client):
    soup = BeautifulSoup(client.get("/?min_rating=4", headers=HTML).text, "html.parser")
    link = soup.select_one(".lang-switch a[hreflang=en]")
    assert link["href"] == "/?min_rating=4&lang=en"
    assert soup.select_one(".lang-switch [aria-current]").get_text() == "中文"


@pytest.fixture
def no_missing_keys():
    i18n.MISSING.clear()
    yield
    assert not i18n.MISSING, "keys asked for that no table has"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("url", "status"), PAGES)
def test_whole_pages_speak_one_language(client, no_missing_keys, url, status, lang):
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}lang={lang}", headers=HTML)
    assert response.status_code == status
    assert wrong_language(response.text, lang) == []


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("url", CHROME)
def test_every_pages_chrome_speaks_one_language(client, no_missing_keys, url, lang):
    response = client.get(f"{url}?lang={lang}", headers=HTML)
    assert response.status_code == 200
    for region in (".site-header", ".site-footer", ".skip-link"):
        assert wrong_language(response.text, lang, region) == [], region


def test_an_empty_compare_says_what_to_do_not_what_pydantic_said(client):
    for lang, words in (("zh", "请先勾选"), ("en", "Tick the runs")):
        page = client.get(f"/runs/compare?lang={lang}", headers=HTML)
        assert page.status_code == 400
        assert words in page.text
        assert "Field required" not in page.text and "ids:" not in page.text


def test_a_missing_paper_is_said_in_the_page_language(client):
    def message(url: str) -> str:
        page = BeautifulSoup(client.get(url, headers=HTML).text, "html.parser")
        return page.select_one(".error-message").get_text()

    assert message("/papers/nope") == "没有标识为“nope”的论文。"
    assert message("/papers/nope?lang=en") == "There is no paper “nope”."
    # The API keeps its own words.
    assert client.get("/api/papers/nope").json()["detail"] == "no paper with slug 'nope'"


def test_the_scan_finds_a_word_of_the_other_language():
    page = (
        '<html><head><title>论文 · Notes</title></head><body><p data-verbatim>Hinton 的笔记</p>'
        '<p>评分 <code>lr</code></p><button title="Run">运行</button>'
        '<span data-verbatim="title" title="4分：推荐">4 points</span></body></html>'
    )
    assert wrong_language(page, "zh") == ["论文 · Notes", "4 points", "Run"]
    assert wrong_language(page, "en") == ["论文 · Notes", "评分", "运行"]
