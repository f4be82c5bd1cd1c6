"""Crafted notes for what real notes contain; each checks records and diagnostics
with their line numbers."""

import textwrap

from bs4 import BeautifulSoup

from app.catalog.parser import parse_texts


def parse(text: str, name: str = "notes.md"):
    return parse_texts([(name, textwrap.dedent(text).lstrip("\n"))])


def diags(catalog):
    return [(d.file, d.line, d.level) for d in catalog.diagnostics]


def test_tabs_and_deep_nesting_keep_inline_markdown():
    catalog = parse(
        "# Sec\n"
        "- [Paper A](https://arxiv.org/abs/2101.00001) (ICML2021)\n"
        "\t- 4 分\n"
        "\t- uses **bold** and [a link](https://example.org)\n"
        "\t\t- deeper point\n"
        "\t\t\t- deepest point\n"
    )
    (paper,) = catalog.papers.values()
    assert paper.rating == 4
    assert paper.venue == "ICML" and paper.year == 2021
    assert paper.insights == ("uses bold and a link deeper point deepest point",)
    assert "<strong>bold</strong>" in paper.notes_html
    assert 'href="https://example.org"' in paper.notes_html
    assert paper.notes_html.count("<ul>") == 3
    assert catalog.diagnostics == []


def test_rating_spellings():
    catalog = parse(
        """
        - [A](https://arxiv.org/abs/2001.00001)
            - 5/5
        - [B](https://arxiv.org/abs/2001.00002)
            - 3 分
        """
    )
    assert [p.rating for p in catalog.papers.values()] == [5, 3]


def test_missing_and_out_of_range_ratings_are_diagnosed_at_their_line():
    catalog = parse(
        """
        # Sec
        - [No rating yet](https://arxiv.org/abs/2001.00001) (CVPR2020)
            - an insight
        - [Too high](https://arxiv.org/abs/2001.00002) (CVPR2020)
            - 7分
        """
    )
    a, b = catalog.papers.values()
    assert a.rating is None and b.rating is None
    assert diags(catalog) == [
        ("notes.md", 2, "warning"),  # no rating
        ("notes.md", 4, "warning"),  # no (valid) rating either
        ("notes.md", 5, "error"),  # 7分 is outside 1-5
    ]
    assert "outside the 1-5 scale" in catalog.diagnostics[2].message


def test_unreadable_venue_keeps_the_paper():
    catalog = parse("- [A](https://example.org/a.pdf) (???)\n    - 2分\n")
    (paper,) = catalog.papers.values()
    assert paper.venue is None and paper.venue_raw == "???"
    assert paper.rating == 2
    assert diags(catalog) == [("notes.md", 1, "warning")]
    assert "unreadable venue" in catalog.diagnostics[0].message


def test_venue_forms_and_year_from_arxiv():
    catalog = parse(
        """
        - [A](https://arxiv.org/abs/2004.00001) (CVPR2020_oral)
            - 3分
        - [B](https://arxiv.org/abs/2004.00002) (ECCV2020_spotlight)
            - 3分
        - [C](https://arxiv.org/abs/2010.00003) (ICLR2021 under review)
            - 3分
        - [D](https://arxiv.org/pdf/1811.00004v2.pdf)
            - 3分
        - [E](https://arxiv.org/abs/1905.00005) (TPAMI)
            - 3分
        """
    )
    got = [(p.slug, p.venue, p.year, p.status) for p in catalog.papers.values()]
    assert got == [
        ("2004.00001", "CVPR", 2020, "oral"),
        ("2004.00002", "ECCV", 2020, "spotlight"),
        ("2010.00003", "ICLR", 2021, "under review"),
        ("1811.00004", None, 2018, None),
        ("1905.00005", "TPAMI", 2019, None),
    ]


def test_sections_without_papers_and_non_arxiv_hosts():
    catalog = parse(
        """
        # Empty section

        > nothing here yet

        # Other hosts
        - [OpenReview Paper](https://openreview.net/forum?id=abc) (ICLR2022)
            - 4分
        """
    )
    # A section with no papers is no place to go (tests/catalog/test_structure.py).
    assert list(catalog.categories) == ["other-hosts"]
    (paper,) = catalog.papers.values()
    assert paper.slug == "openreview-paper"
    assert paper.arxiv_id is None
    assert paper.category == "other-hosts"


def test_same_paper_twice_is_one_paper_and_a_diagnostic():
    catalog = parse(
        """
        - [A](https://arxiv.org/abs/2001.00001) (CVPR2020)
            - 4分
        - [A again](https://arxiv.org/abs/2001.00001v3) (CVPR2020)
            - 2分
        """
    )
    assert list(catalog.papers) == ["2001.00001"]
    assert catalog.papers["2001.00001"].rating == 4
    assert diags(catalog) == [("notes.md", 3, "warning")]
    assert "duplicate" in catalog.diagnostics[0].message


def test_several_files_in_order_and_one_legend():
    legend = "- 5分：最好\n- 1分：最差\n\n"
    first = legend + "# Logits\n- [A](https://arxiv.org/abs/2001.00001)\n    - 5分\n"
    second = "# Logits\n- [B](https://arxiv.org/abs/2001.00002)\n    - 1分\n"
    catalog = parse_texts([("a.md", first), ("b.md", second)])
    assert [(p.slug, p.file, p.line, p.category) for p in catalog.papers.values()] == [
        ("2001.00001", "a.md", 5, "logits"),
        ("2001.00002", "b.md", 2, "logits"),
    ]
    assert list(catalog.categories) == ["logits"]
    assert catalog.rating_scale.label(5) == "最好"


def test_three_papers_sharing_one_note_and_a_trailing_paper_without_note():
    catalog = parse(
        """
        - [A](https://arxiv.org/abs/2001.00001)
        - [B](https://arxiv.org/abs/2001.00002)
        - [C](https://arxiv.org/abs/2001.00003)
            - 4分
            - shared insight
        - [D](https://arxiv.org/abs/2001.00004)
        """
    )
    a, b, c, d = catalog.papers.values()
    assert a.shares_notes_with == ("2001.00002", "2001.00003")
    assert c.shares_notes_with == ("2001.00001", "2001.00002")
    assert a.rating == b.rating == c.rating == 4
    assert d.shares_notes_with == () and d.rating is None
    assert diags(catalog) == [("notes.md", 6, "warning")]


def test_slugs_do_not_change_when_unrelated_notes_change():
    before = parse("- [Some Title](https://example.org/x)\n    - 3分\n")
    after = parse(
        "# New section\n- [Other](https://example.org/y)\n    - 1分\n"
        "- [Some Title](https://example.org/x)\n    - 3分\n"
    )
    assert "some-title" in before.papers and "some-title" in after.papers


def test_chinese_title_gets_a_deterministic_ascii_slug():
    one = parse("- [蒸馏综述](https://example.org/zh)\n    - 3分\n")
    two = parse("- [蒸馏综述](https://example.org/zh)\n    - 3分\n")
    (slug,) = one.papers
    assert slug.isascii() and slug == next(iter(two.papers))


def test_anchor_links_and_plain_items_are_not_papers():
    catalog = parse("- [Intro](#intro)\n- just text\n- [Real](https://example.org/r)\n")
    assert list(catalog.papers) == ["real"]


def test_html_in_notes_comes_out_inert():
    catalog = parse(
        """
        - [X](https://example.org/x)
            - 3分
            - <script>window.pwned = 1</script> text
            - <img src="x" onerror="window.pwned = 1">
            - [click](javascript:alert(1)) <iframe src="https://evil.example"></iframe>
        """
    )
    html = catalog.papers["x"].notes_html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None and soup.find("iframe") is None
    assert not any(attr.startswith("on") for tag in soup.find_all(True) for attr in tag.attrs)
    assert not any(a.get("href", "").startswith("javascript") for a in soup.find_all("a"))
    assert "text" in soup.get_text()


def test_unreadable_file_is_a_diagnostic_and_others_still_parse(tmp_path):
    from app.catalog.parser import parse_notes_dir

    (tmp_path / "good.md").write_text("- [A](https://arxiv.org/abs/2001.00001)\n    - 3分\n")
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe\x00garbage \xc3\x28")
    catalog = parse_notes_dir(tmp_path)
    assert list(catalog.papers) == ["2001.00001"]
    assert [(d.file, d.line, d.level) for d in catalog.diagnostics] == [("bad.md", 1, "error")]


def test_notes_check_exits_non_zero_on_errors(tmp_path, capsys):
    from app.cli import main

    (tmp_path / "n.md").write_text("- [A](https://arxiv.org/abs/2001.00001)\n    - 9分\n")
    assert main(["notes", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "n.md:2: error:" in err


def test_raw_html_in_titles_and_insights_reads_as_plain_text():
    catalog = parse(
        """
        - [Hostile <script>x = 1</script> Paper <b>bold</b> a<b](https://example.org/h) (X2024)
            - 正常<script>y = 2</script> & <em>em</em> 1 < 2
            - 3分
        """
    )
    (paper,) = catalog.papers.values()
    assert paper.title == "Hostile Paper bold a<b"
    assert paper.insights == ("正常 & em 1 < 2",)
