"""Citations: the note's `作者:` / `authors:` bullet, and BibTeX and CSL-JSON read back
by a real BibTeX parser (bibtexparser, with pylatexenc decoding the escapes)."""

from __future__ import annotations

import textwrap

import bibtexparser
import pytest
from bibtexparser import middlewares

from app import PROJECT_ROOT
from app.catalog import export
from app.catalog.parser import parse_notes_dir, parse_texts


def parse(text: str):
    return parse_texts([("notes.md", textwrap.dedent(text).lstrip("\n"))])


def one_paper(bullets: str, title: str = "Paper", url: str = "https://arxiv.org/abs/2001.00001"):
    body = textwrap.indent(textwrap.dedent(bullets).strip("\n"), "    ")
    catalog = parse(f"- [{title}]({url}) (CVPR2020)\n{body}\n")
    (paper,) = catalog.papers.values()
    return catalog, paper


def read_bibtex(text: str):
    library = bibtexparser.parse_string(
        text, append_middleware=[middlewares.LatexDecodingMiddleware(),
                                 middlewares.SeparateCoAuthors()],
    )  # fmt: skip
    assert library.failed_blocks == [], [b.error for b in library.failed_blocks]
    return library


@pytest.mark.parametrize(
    "bullet",
    ["作者: Geoffrey Hinton, Oriol Vinyals, Jeff Dean",
     "作者：Geoffrey Hinton，Oriol Vinyals、Jeff Dean",
     "authors: Geoffrey Hinton; Oriol Vinyals and Jeff Dean",
     "Authors：Geoffrey Hinton, Oriol Vinyals, Jeff Dean"],
)  # fmt: skip
def test_authors_bullet_either_colon_either_language(bullet):
    catalog, paper = one_paper(f"- 5分\n- {bullet}\n- the insight")
    assert paper.authors == ("Geoffrey Hinton", "Oriol Vinyals", "Jeff Dean")
    assert paper.insights == ("the insight",)
    assert "Hinton" not in paper.notes_html
    assert catalog.diagnostics == []


def test_prose_after_the_word_stays_an_insight():
    _, paper = one_paper("- 5分\n- 作者: 本文作者来自谷歌大脑，很有名。")
    assert paper.authors == ()
    assert paper.insights == ("作者: 本文作者来自谷歌大脑，很有名。",)


def test_an_empty_or_second_bullet_is_diagnosed_at_its_line():
    catalog, paper = one_paper("- 5分\n- authors: A. One\n- 作者: B. Two\n- 作者:")
    assert paper.authors == ("A. One",)
    assert [(d.line, d.level) for d in catalog.diagnostics] == [(4, "warning"), (5, "warning")]
    assert "second authors bullet" in catalog.diagnostics[0].message


def test_bibtex_carries_authors_and_parses_back():
    _, paper = one_paper("- 5分\n- 作者: Geoffrey Hinton, 张三, Li Fei-Fei")
    text = export.bibtex(paper)
    (entry,) = read_bibtex(text).entries
    assert entry.entry_type == "misc" and entry["eprint"] == "2001.00001"
    assert entry["author"] == ["Geoffrey Hinton", "张三", "Li Fei-Fei"]
    assert "and {张三} and" in text  # a one-word name is braced: BibTeX keeps it whole


HOSTILE = r"A \ weird ~ title ^ with {braces} & 100% $x$ #1 a_b and \textbf{bold}"


def test_every_special_character_is_escaped_and_reads_back_as_written():
    catalog = parse(
        """
        - [T](https://example.org/p) (NeurIPS2020)
            - 4分
            - 作者: Ann O'Hara & Co, Bob_Ross, Jean~Luc ^Picard \\ Esq
        """
    )
    (paper,) = catalog.papers.values()
    from dataclasses import replace

    paper = replace(paper, title=HOSTILE)  # past Markdown, which would read `\` itself
    text = export.bibtex(paper)
    (entry,) = read_bibtex(text).entries
    # pylatexenc writes \textasciicircum as the modifier letter ˆ; the rest is exact.
    assert entry["title"].replace("ˆ", "^") == HOSTILE
    assert entry["author"] == ["Ann O'Hara & Co", "Bob_Ross", "Jean~Luc ^Picard \\ Esq".replace(
        "^", "ˆ")]
    assert entry["booktitle"] == "NeurIPS"
    # No raw special is left outside an escape: the field can't unbalance the file.
    assert r"\textbf" not in text.replace(r"\textbackslash{}textbf", "")


def test_url_braces_and_spaces_are_percent_encoded():
    _, paper = one_paper("- 3分")
    from dataclasses import replace

    paper = replace(paper, url="https://example.org/a b{c}\\d%20e")
    (entry,) = bibtexparser.parse_string(export.bibtex(paper)).entries
    assert entry["url"] == "https://example.org/a%20b%7Bc%7D%5Cd%20e"


def test_bulk_bibtex_of_the_bundled_notes_parses_with_unique_keys():
    catalog = parse_notes_dir(PROJECT_ROOT / "notes")
    library = read_bibtex(export.bibtex_all(catalog.papers.values()))
    keys = [entry.key for entry in library.entries]
    assert len(keys) == len(catalog.papers) == len(set(keys))


def test_keys_stay_unique_when_cut_off_slugs_collide():
    long = "word " * 8  # the slugs differ, their first 24 characters do not
    catalog = parse(f"- [{long}one](https://example.org/1) (CVPR2020)\n"
                    f"- [{long}two](https://example.org/2) (CVPR2020)\n")  # fmt: skip
    keys = [key for _, key in export.unique_keys(catalog.papers.values())]
    assert len(set(keys)) == 2 and keys[1] == keys[0] + "b"


def test_csl_json_names_dates_and_types():
    _, paper = one_paper("- 5分\n- 作者: Geoffrey Hinton, 张三")
    item = export.csl_json(paper)
    assert item["type"] == "article" and item["number"] == "2001.00001"
    assert item["author"] == [{"given": "Geoffrey", "family": "Hinton"}, {"literal": "张三"}]
    assert item["issued"] == {"date-parts": [[2020]]}
    assert item["container-title"] == "CVPR"
    _, other = one_paper("- 3分", url="https://openaccess.thecvf.com/x.pdf")
    assert export.csl_json(other)["type"] == "paper-conference"
    assert "author" not in export.csl_json(other)
