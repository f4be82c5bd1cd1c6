"""hypothesis on the notes parser: any text, and above all Markdown-ish text built
from what notes hold (headings, nested lists with spaces or tabs, paper links,
venues, ratings, legends, blockquotes, fences, raw HTML with script payloads),
gives records and diagnostics, never an exception, and records that hold:

- every paper's slug is ASCII, URL-safe, and its key in the catalog;
- every diagnostic, paper and category points at a line inside its own file;
- notes_html carries no script, no event handler, no script-capable URL;
- each paper works downstream: its page's view model, its BibTeX, a search.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.catalog.export import bibtex
from app.catalog.parser import parse_texts
from app.catalog.query import PaperQuery, run_query
from app.web.views import paper_detail

FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,  # no example database: every run stands alone
    suppress_health_check=[HealthCheck.too_slow],
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
# Elements nh3 must never let through, and URL schemes that run code.
FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "frame",
    "frameset",
    "style",
    "base",
    "meta",
    "link",
    "form",
    "svg",
    # MathML is allowed (app/catalog/mathml.py), but not its parts that carry other
    # markup or act on a click.
    "annotation-xml",
    "maction",
    "template",
}
URL_ATTRS = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "xlink:href",
    "background",
    "poster",
    "cite",
    "longdesc",
    "data",
}
SAFE_SCHEMES = {"http", "https", "mailto"}
# Schemes a link can run script (or reach local files) through; markdown-it lets a
# raster image's data: URL through, and that one is inert.
SCRIPT_URL = re.compile(
    r"^\s*(javascript|vbscript|file)\s*:|^\s*data\s*:(?!image/(gif|png|jpeg|webp);)",
    re.IGNORECASE,
)

# -- strategies ---------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "Knowledge",
        "Distillation",
        "KD",
        "知识蒸馏",
        "教师网络",
        "student",
        "teacher",
        "Self-KD",
        "label smooth",
        "**bold**",
        "*em*",
        "`code`",
        "\\*",
        "&amp;",
        "&#x3C;",
        "<b>",
        "</b>",
        "x_y",
        "[",
        "]",
        "(",
        ")",
        "（",
        "）",
        "：",
        ":",
        "|",
        "!",
        "#",
        "> ",
        "~~s~~",
        "  ",
        "\u200b",
        "é",
        "Ω",
        "😀",
        "\x00",
    ]
)
INLINE = st.one_of(
    st.lists(WORDS, max_size=6).map(" ".join),
    st.text(max_size=20),
)
URLS = st.sampled_from(
    [
        "https://arxiv.org/abs/1503.02531",
        "https://arxiv.org/abs/1909.11723v3",
        "https://arxiv.org/pdf/2001.00001v2.pdf",
        "http://arxiv.org/html/2101.00001",
        "https://arxiv.org/abs/99",
        "https://openaccess.thecvf.com/paper.pdf",
        "https://example.org/a b",
        "#anchor",
        "#",
        "relative/path",
        "/abs/path",
        "",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "mailto:a@b.c",
        "<https://example.org/angle>",
        'https://example.org/x"onmouseover="alert(1)',
        "../../../etc/passwd",
        "https://例子.测试/路径",
    ]
) | st.text(max_size=15)
VENUES = st.sampled_from(
    [
        "(CVPR2020)",
        "(CVPR2020_oral)",
        "(ICLR2021 under review)",
        "(NeurIPS 2020)",
        "(arXiv2019)",
        "(TPAMI)",
        "（ECCV2020）",
        "()",
        "(",
        "(2019)",
        "(ICML'21)",
        "",
    ]
) | INLINE.map(lambda t: f"({t})")
RATINGS = st.one_of(
    st.integers(-2, 12).map(lambda n: f"{n}分"),
    st.integers(0, 12).map(lambda n: f"{n} 分"),
    st.sampled_from(
        ["4.5分", "5/5", "3/10", "0/5", "５分", "5分！", "1e3分", "99999999999999999999分"]
    ),
)
LEGEND = st.tuples(st.integers(-1, 7), INLINE).map(lambda t: f"{t[0]}分：{t[1]}")
HTML = st.sampled_from(
    [
        "<script>window.pwned = 1</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        '<img src="x" onerror="window.pwned = 1">',
        "<img src=x onerror=alert(1)//",
        '<a href="javascript:alert(1)">click</a>',
        '<a href="  javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<iframe src="https://evil.example"></iframe>',
        "<svg onload=alert(1)>",
        "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
        '<div style="background:url(javascript:alert(1))" onclick="x()">d</div>',
        "<style>body{display:none}</style>",
        '<object data="x.swf"></object>',
        '<form action="javascript:alert(1)"><button>go</button></form>',
        "<base href=//evil.example/>",
        '<meta http-equiv="refresh" content="0;url=//evil">',
        "<!-- comment -->",
        "<![CDATA[x]]>",
        "<sup>1</sup>",
        "<br>",
        "<details open ontoggle=x()>",
        "<template><script>x()</script></template>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        '<a href="https://ok.example" target=_blank>ok</a>',
    ]
)
TITLE = st.one_of(
    st.lists(
        st.sampled_from(["Knowledge", "Distillation", "Self", "教师", "网络", "via", "KD"]),
        min_size=1,
        max_size=5,
    ).map(" ".join),
    INLINE,
)
ARXIV = st.builds(
    "https://arxiv.org/abs/{}.{:05d}".format,
    st.sampled_from(["1503", "1909", "2001", "2112"]),
    st.integers(0, 30),
)
LINK = st.builds(
    lambda title, url, venue: f"[{title}]({url}) {venue}",
    TITLE,
    st.one_of(ARXIV, ARXIV, URLS),  # few ids: duplicates across items and files
    VENUES,
)
ITEM_BODY = st.one_of(LINK, RATINGS, LEGEND, INLINE, HTML, st.builds("{} {}".format, INLINE, HTML))
INDENT = st.sampled_from(["", "", "  ", "    ", "\t", "\t\t", "        ", " \t", "   "])
MARKER = st.sampled_from(["- ", "* ", "+ ", "1. ", "2) ", "-", "- [ ] "])
LINE = st.one_of(
    st.builds(lambda i, m, b: f"{i}{m}{b}", INDENT, MARKER, ITEM_BODY),  # list items, weighted
    st.builds(lambda i, m, b: f"{i}{m}{b}", INDENT, MARKER, ITEM_BODY),
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), INLINE),
    st.builds("> {}".format, INLINE),
    st.sampled_from(
        [
            "",
            "",
            "```",
            "```python",
            "~~~",
            "---",
            "***",
            "| a | b |",
            "|---|---|",
            "Setext",
            "===",
            "<div>",
            "</div>",
            "    indented code",
            "\\",
        ]
    ),
    HTML,
    INLINE,
)
NEWLINE = st.sampled_from(["\n", "\n", "\r\n", "\r"])
NOTE_INDENT = st.sampled_from(["  ", "    ", "    ", "\t", "      ", "        ", "\t\t", "  \t"])
GOOD_MARKER = st.sampled_from(["- ", "- ", "* ", "+ "])
GOOD_RATING = st.integers(1, 5).map("{}分".format)
NOTE_BODY = st.one_of(GOOD_RATING, RATINGS, INLINE, INLINE, HTML, LINK, LEGEND)


@st.composite
def paper_block(draw) -> list[str]:
    """A paper item and its note as the author writes them: a nested list of a
    rating and insights (sometimes none, so that it shares the next one). Mostly
    well-formed, so that papers, ratings and shared notes come out of it."""
    odd = draw(st.integers(0, 4)) == 0
    indent = draw(INDENT) if odd else ""
    marker = draw(MARKER if odd else GOOD_MARKER)
    lines = [f"{indent}{marker}{draw(LINK)}"]
    if draw(st.booleans()):
        lines.append("")
    note_indent = draw(NOTE_INDENT)
    for _ in range(draw(st.integers(0, 5))):
        lines.append(f"{indent}{note_indent}{draw(GOOD_MARKER)}{draw(NOTE_BODY)}")
    return lines


LEGEND_BLOCK = st.lists(LEGEND.map("- {}".format), min_size=1, max_size=6).flatmap(
    lambda items: st.sampled_from(["\n", "\n\n"]).map(lambda gap: gap.join(items).split("\n"))
)
SECTION = st.builds(
    lambda heading, description, papers: [heading, *description, *(x for p in papers for x in p)],
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 4), INLINE),
    st.lists(INLINE.map("> {}".format), max_size=1),
    st.lists(paper_block(), max_size=5),
)
BLOCK = st.one_of(SECTION, SECTION, paper_block(), LEGEND_BLOCK, LINE.map(lambda line: [line]))
NOTES = st.builds(
    lambda blocks, nl, bom: bom + nl.join(line for block in blocks for line in block),
    st.lists(BLOCK, max_size=12),
    NEWLINE,
    st.sampled_from(["", "", "\ufeff"]),
)

# -- invariants ---------------------------------------------------------------------


def line_count(text: str) -> int:
    """Lines as markdown-it counts them: \\r\\n and \\r are line ends too."""
    return text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_inert(html: str) -> None:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in FORBIDDEN_TAGS, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, html)
            assert name != "style", (tag, html)
            if name in URL_ATTRS and value:
                assert not SCRIPT_URL.match(value), (tag, name, value)
                scheme = re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):", value)
                assert scheme is None or scheme[1].lower() in SAFE_SCHEMES, (tag, name, value)


def check_catalog(files: list[tuple[str, str]]) -> None:
    catalog = parse_texts(files)
    lines = {name: line_count(text) for name, text in files}
    for diagnostic in catalog.diagnostics:
        assert diagnostic.file in lines, diagnostic
        assert 1 <= diagnostic.line <= lines[diagnostic.file], (diagnostic, lines)
        assert diagnostic.level in ("error", "warning") and diagnostic.message
    for slug, category in catalog.categories.items():
        assert category.slug == slug and slug.isascii() and SLUG.match(slug), slug
        assert 1 <= category.line <= lines[category.file]
    assert len({p.slug for p in catalog.papers.values()}) == len(catalog.papers)
    for slug, paper in catalog.papers.items():
        assert paper.slug == slug
        assert slug.isascii() and SLUG.match(slug), slug
        assert 1 <= paper.line <= lines[paper.file], (paper.source, lines)
        assert paper.rating is None or 1 <= paper.rating <= 5
        assert paper.category is None or paper.category in catalog.categories
        assert all(other in catalog.papers for other in paper.shares_notes_with)
        assert not SCRIPT_URL.match(paper.url), paper.url  # the title links to it
        assert_inert(paper.notes_html)
        detail = paper_detail(catalog, paper)
        assert detail.bibtex == bibtex(paper)
    for paper in list(catalog.papers.values())[:3]:
        run_query(catalog, PaperQuery(q=paper.title[:200]))
    run_query(catalog, PaperQuery(sort="rating"))


# -- tests ------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=400))
def test_any_text_parses(text):
    check_catalog([("x.md", text)])


@FUZZ
@given(NOTES)
def test_markdown_like_notes_parse_into_sound_records(text):
    check_catalog([("x.md", text)])


@settings(FUZZ, max_examples=100)
@given(NOTES, NOTES)
def test_two_files_parse_into_one_sound_catalog(first, second):
    # Duplicates, legends and sections across files; diagnostics stay in their file.
    check_catalog([("a.md", first), ("sub/b.md", second)])
