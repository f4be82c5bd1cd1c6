"""Formulas in notes become MathML on the server, relative images and PDFs point at
the files beside the notes, and the sanitiser lets MathML through and nothing more."""

from __future__ import annotations

import textwrap

import nh3
from bs4 import BeautifulSoup

from app.catalog import files, mathml
from app.catalog.parser import parse_texts, sanitize

NOTE = r"""
# Sec
- [A](https://arxiv.org/abs/2001.00001)
    - 4分
    - the loss $\mathcal{L}_{KD} = (1-\alpha)\,\mathrm{CE} + \alpha T^2 \mathrm{KL}$ costs $5 or $10
    - broken $\sqrt$ and unknown $\foo x$
    - ![a figure](figs/a.png) [slides](slides.pdf#page=2) [other notes](other.md)
      ![remote](https://example.org/x.png) ![climbs out](../../x.png)

      $$
      q_k = \frac{\exp(z_k / T)}{\sum_j \exp(z_j / T)}
      $$
"""


def paper(name: str = "sub/kd.md"):
    catalog = parse_texts([(name, textwrap.dedent(NOTE))])
    return catalog, catalog.papers["2001.00001"]


def test_inline_and_display_formulas_are_mathml():
    _, p = paper()
    soup = BeautifulSoup(p.notes_html, "html.parser")
    inline, _unknown, display = soup.find_all("math")
    assert inline["display"] == "inline" and inline.find("msub").find("mi").get_text() == "ℒ"
    assert inline.find("msup").get_text() == "T2"
    assert display["display"] == "block" and display.find("mfrac")
    assert display.parent.name == "div" and display.parent["class"] == ["math"]
    # Prices are not formulas.
    assert "costs $5 or $10" in soup.get_text()


def test_a_formula_that_cannot_be_read_stays_as_written_with_a_diagnostic():
    catalog, p = paper()
    soup = BeautifulSoup(p.notes_html, "html.parser")
    assert soup.select_one("code.math-error").get_text() == r"$\sqrt$"
    assert [(d.file, d.line, d.level) for d in catalog.diagnostics] == [
        ("sub/kd.md", 6, "warning"), ("sub/kd.md", 6, "warning"),
    ]  # fmt: skip
    assert "cannot read the formula $\\sqrt$" in catalog.diagnostics[0].message
    assert "unknown command \\foo" in catalog.diagnostics[1].message


def test_insights_keep_the_formula_as_written_and_search_sees_its_symbols():
    catalog, p = paper()
    assert p.insights[0].startswith(r"the loss $\mathcal{L}_{KD} = (1-\alpha)")
    # Search reads `LKD`, not the commands around it.
    assert "lkd" in catalog.haystacks[p.slug].rest
    assert "mathcal" not in catalog.haystacks[p.slug].rest


def test_relative_images_and_pdfs_point_at_the_files_beside_the_notes():
    _, p = paper()
    soup = BeautifulSoup(p.notes_html, "html.parser")
    images = {img["alt"]: img["src"] for img in soup.find_all("img")}
    assert images == {
        "a figure": "../notes/sub/figs/a.png",  # relative to /papers/{slug}
        "remote": "https://example.org/x.png",
        "climbs out": "../../x.png",  # outside NOTES_DIR: left alone
    }
    links = {a.get_text(): a["href"] for a in soup.find_all("a")}
    assert links == {"slides": "../notes/sub/slides.pdf#page=2", "other notes": "other.md"}


def test_the_markdown_is_not_rewritten(tmp_path):
    (tmp_path / "kd.md").write_text(textwrap.dedent(NOTE), encoding="utf-8")
    from app.catalog.parser import parse_notes_dir

    parse_notes_dir(tmp_path)
    assert (tmp_path / "kd.md").read_text(encoding="utf-8") == textwrap.dedent(NOTE)


def test_beside_note_paths():
    assert files.beside_note("kd.md", "figs/a.png", image=True) == "../notes/figs/a.png"
    assert files.beside_note("a/b/kd.md", "../c.png", image=True) == "../notes/a/c.png"
    assert files.beside_note("kd.md", "../c.png", image=True) is None
    assert files.beside_note("kd.md", "/etc/x.png", image=True) is None
    assert files.beside_note("kd.md", "//host/x.png", image=True) is None
    assert files.beside_note("kd.md", "#anchor", image=False) is None
    assert files.beside_note("kd.md", "paper.PDF", image=False) == "../notes/paper.PDF"
    assert files.beside_note("kd.md", "notes.txt", image=False) is None


# -- the sanitiser ------------------------------------------------------------------


def test_the_sanitiser_adds_mathml_and_nothing_more():
    from app.catalog import parser

    assert parser._TAGS - nh3.ALLOWED_TAGS == mathml.MATHML_TAGS
    assert all(tag.startswith("m") or tag in {"semantics", "annotation", "none"}
               for tag in mathml.MATHML_TAGS)  # fmt: skip
    for attributes in mathml.MATHML_ATTRIBUTES.values():
        assert not attributes & {"href", "src", "style", "class", "id", "xlink:href"}
        assert not any(a.startswith("on") for a in attributes)


def test_the_sanitiser_strips_what_mathml_could_smuggle():
    dirty = (
        '<math><mi href="javascript:alert(1)" onclick="alert(1)" style="x">a</mi>'
        '<mrow xlink:href="javascript:alert(1)"><mi>b</mi></mrow>'
        '<annotation-xml encoding="text/html"><script>alert(1)</script></annotation-xml>'
        '<maction actiontype="toggle"><mi>c</mi></maction>'
        "<mtext><style>*{}</style><iframe src=x></iframe></mtext></math>"
        "<svg><script>alert(2)</script></svg><p class='math'>kept</p>"
    )
    clean = sanitize(dirty)
    for bad in ("href", "onclick", "style", "script", "annotation-xml", "maction", "iframe",
                "svg", "alert"):  # fmt: skip
        assert bad not in clean, (bad, clean)
    soup = BeautifulSoup(clean, "html.parser")
    assert [m.get_text() for m in soup.find_all("mi")] == ["a", "b", "c"]
    assert soup.p.get("class") is None  # the math classes only where mathml.py puts them


def test_method_text_renders_formulas_and_escapes_the_rest():
    html, problems = mathml.render_text(r"L = $\alpha \cdot \mathrm{CE}$ <b>&")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.math and soup.math.find("mi").get_text() == "α"
    assert soup.get_text().endswith(" <b>&") and not soup.b
    assert problems == []
    _, problems = mathml.render_text(r"$\sqrt$")
    assert [p.message for p in problems] == [r"cannot read the formula $\sqrt$ (NoAvailableTokens)"]
