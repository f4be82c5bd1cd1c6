"""The note's `演示: kd` / `demo: kd` bullet and the notes' own top heading: what the
parser records, at which line, and what it leaves out of the rendered note."""

import textwrap

import pytest

from app import PROJECT_ROOT
from app.catalog.catalog import mention_text
from app.catalog.models import NoteDemo
from app.catalog.parser import parse_notes_dir, parse_texts


def parse(text: str, name: str = "notes.md"):
    return parse_texts([(name, textwrap.dedent(text).lstrip("\n"))])


@pytest.mark.parametrize(
    "bullet",
    ["演示: kd, lsr", "演示：kd，lsr", "demo: kd，lsr", "Demo：kd , lsr", "演示: kd、lsr"],
)
def test_both_languages_both_colons_and_several_ids(bullet):
    catalog = parse(
        f"""
        - [Paper](https://arxiv.org/abs/2001.00001) (CVPR2020)
            - 4分
            - {bullet}
            - the one insight
        """
    )
    (paper,) = catalog.papers.values()
    assert paper.note_demos == (NoteDemo("kd", 3), NoteDemo("lsr", 3))
    assert paper.demo_ids == ("kd", "lsr")
    assert paper.insights == ("the one insight",)
    assert paper.rating == 4
    assert catalog.diagnostics == []


def test_the_bullet_is_not_an_insight_nor_rendered():
    catalog = parse(
        """
        - [Paper](https://arxiv.org/abs/2001.00001) (CVPR2020)
            - 演示: kd
            - 5分
            - first insight
        """
    )
    (paper,) = catalog.papers.values()
    assert paper.first_insight == "first insight"
    assert "演示" not in paper.notes_html and "kd" not in paper.notes_html
    assert "first insight" in paper.notes_html
    assert "kd" not in mention_text(paper)


def test_a_note_of_only_rating_and_demo_renders_nothing():
    catalog = parse("- [P](https://arxiv.org/abs/2001.00001)\n    - 3分\n    - demo: kd\n")
    (paper,) = catalog.papers.values()
    assert paper.notes_html == "" and paper.insights == ()
    assert paper.demo_ids == ("kd",)


def test_each_id_keeps_its_own_bullet_line_and_repeats_count_once():
    catalog = parse(
        """
        # Sec

        - [Paper](https://arxiv.org/abs/2001.00001) (CVPR2020)
            - 4分
            - demo: kd, kd
            - an insight
            - 演示：lsr, kd
        """
    )
    (paper,) = catalog.papers.values()
    assert paper.note_demos == (NoteDemo("kd", 5), NoteDemo("lsr", 7))


def test_prose_after_demo_stays_an_insight():
    catalog = parse(
        """
        - [Paper](https://arxiv.org/abs/2001.00001)
            - 3分
            - demo: 作者放了一个在线网页
            - Demo: the authors show a video
            - 演示 kd
        """
    )
    (paper,) = catalog.papers.values()
    assert paper.note_demos == ()
    assert paper.insights == (
        "demo: 作者放了一个在线网页",
        "Demo: the authors show a video",
        "演示 kd",
    )


def test_a_bullet_naming_nothing_is_diagnosed_and_hidden():
    catalog = parse("- [P](https://arxiv.org/abs/2001.00001)\n    - 3分\n    - 演示：\n")
    (paper,) = catalog.papers.values()
    assert paper.note_demos == () and paper.insights == ()
    assert [(d.line, d.level) for d in catalog.diagnostics] == [(3, "warning")]
    assert "names no method" in catalog.diagnostics[0].message


def test_a_shared_note_binds_every_paper_it_covers():
    catalog = parse(
        """
        - [First](https://arxiv.org/abs/2001.00001)
        - [Second](https://arxiv.org/abs/2001.00002)
            - 4分
            - demo: sp, fsp
        """
    )
    first, second = catalog.papers.values()
    assert first.demo_ids == second.demo_ids == ("sp", "fsp")


def test_no_bullet_no_binding():
    catalog = parse("- [P](https://arxiv.org/abs/2001.00001)\n    - 3分\n    - insight\n")
    (paper,) = catalog.papers.values()
    assert paper.note_demos == () and paper.demo_ids == ()


def test_unknown_demos_point_at_the_bullet_line_once_per_note():
    catalog = parse(
        """
        - [First](https://arxiv.org/abs/2001.00001)
        - [Second](https://arxiv.org/abs/2001.00002)
            - 4分
            - demo: kd, kdd
        - [Third](https://arxiv.org/abs/2001.00003)
            - 4分
            - 演示：nope
        """
    )
    found = catalog.unknown_demos(["kd", "lsr"])
    assert [(d.file, d.line, d.level) for d in found] == [
        ("notes.md", 4, "error"),
        ("notes.md", 7, "error"),
    ]
    assert "'kdd'" in found[0].message and "known: kd, lsr" in found[0].message
    assert "'nope'" in found[1].message
    assert catalog.unknown_demos(["kd", "kdd", "nope"]) == []


# -- the notes' own name --------------------------------------------------------------


def test_title_is_the_first_top_heading():
    catalog = parse("## not top\n\n# 我的笔记\n\n# Later\n\n- [P](https://example.org/p)\n")
    assert catalog.title == "我的笔记"


def test_no_top_heading_no_title():
    assert parse("## Only a section\n\n- [P](https://example.org/p)\n").title is None
    assert parse("").title is None


def test_title_comes_from_the_first_file_in_path_order(tmp_path):
    (tmp_path / "b.md").write_text("# 第二个文件\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("# 第一个文件\n", encoding="utf-8")
    assert parse_notes_dir(tmp_path).title == "第一个文件"
    # A first file without a top heading lends the name to the next one that has one.
    (tmp_path / "a.md").write_text("## 小节\n", encoding="utf-8")
    assert parse_notes_dir(tmp_path).title == "第二个文件"


def test_seed_is_named_by_its_heading():
    assert parse_notes_dir(PROJECT_ROOT / "notes").title == "论文阅读笔记"
