"""The note's `对比: a vs b` / `compare: a vs b` bullet: what the parser records, at
which line, what it leaves out of the rendered note, and what the registry refuses
(`notes check` and the paper page agree through app.web.bindings)."""

import textwrap
from pathlib import Path

import pytest

from app.catalog.catalog import mention_text
from app.catalog.models import MethodRef, NoteComparison
from app.catalog.parser import parse_notes_dir, parse_texts
from app.cli import main
from app.web.bindings import check_ref, paper_comparisons, registry_diagnostics

FIXTURES = Path(__file__).parent / "fixtures"


def parse(text: str, name: str = "notes.md"):
    return parse_texts([(name, textwrap.dedent(text).lstrip("\n"))])


def one_paper(bullet: str):
    catalog = parse(
        f"""
        - [Paper](https://arxiv.org/abs/2001.00001) (CVPR2020)
            - 4分
            - {bullet}
            - the one insight
        """
    )
    (paper,) = catalog.papers.values()
    return catalog, paper


@pytest.mark.parametrize(
    "bullet",
    [
        "对比: tfkd_reg vs lsr",
        "对比：tfkd_reg vs lsr",
        "compare: tfkd_reg vs lsr",
        "Compare：tfkd_reg VS lsr",
        "compare: tfkd_reg vs. lsr",
    ],
)
def test_both_languages_both_colons(bullet):
    catalog, paper = one_paper(bullet)
    assert paper.note_comparisons == (NoteComparison(MethodRef("tfkd_reg"), MethodRef("lsr"), 3),)
    assert paper.insights == ("the one insight",)
    assert "lsr" not in paper.notes_html and "lsr" not in mention_text(paper)
    assert catalog.diagnostics == []


def test_parameters_are_typed_and_kept_in_order():
    _, paper = one_paper("compare: byot vs byot(alpha=0, feature_weight=0.0, baseline=false)")
    (comparison,) = paper.note_comparisons
    assert comparison.method == MethodRef("byot")
    assert comparison.against.params == (("alpha", 0), ("feature_weight", 0.0), ("baseline", False))
    assert str(comparison) == "byot vs byot(alpha=0, feature_weight=0.0, baseline=False)"


def test_full_width_parentheses_and_commas():
    _, paper = one_paper("对比：byot（alpha=0，feature_weight=0） vs msd")
    assert paper.note_comparisons[0].method.params_dict == {"alpha": 0, "feature_weight": 0}


@pytest.mark.parametrize(
    "bullet",
    ["对比: 这篇比前作好很多", "compare: the two papers side by side", "对比: 本文 vs 前作"],
)
def test_prose_stays_an_insight(bullet):
    catalog, paper = one_paper(bullet)
    assert paper.note_comparisons == ()
    assert paper.insights == (bullet, "the one insight")
    assert catalog.diagnostics == []


@pytest.mark.parametrize(
    ("bullet", "words"),
    [
        ("对比: kd(alpha) vs lsr", "cannot read parameter 'alpha' of kd"),
        ("对比: kd(alpha=1, alpha=2) vs lsr", "given twice"),
        ("compare: kd vs lsr vs dkd", "exactly two sides"),
        ("compare: kd vs lsr(", "not a method id"),
    ],
)
def test_a_malformed_comparison_is_an_error_at_its_line_and_hidden(bullet, words):
    catalog, paper = one_paper(bullet)
    assert paper.note_comparisons == () and paper.insights == ("the one insight",)
    (diagnostic,) = catalog.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.level) == ("notes.md", 3, "error")
    assert words in diagnostic.message


def test_comparing_a_side_with_itself_is_a_warning():
    catalog, paper = one_paper("对比: kd vs kd")
    assert paper.note_comparisons == ()
    assert [(d.line, d.level) for d in catalog.diagnostics] == [(3, "warning")]


@pytest.mark.parametrize(
    ("side", "words"),
    [
        (MethodRef("kdd"), "unknown method 'kdd'; known: baseline, kd"),
        (MethodRef("byot", (("beta", 1),)), "byot has no parameter 'beta'; its parameters:"),
        (MethodRef("byot", (("alpha", 2),)), "byot(alpha=2): Input should be less than or equal"),
        (MethodRef("kd", (("temperature", "hot"),)), "kd(temperature='hot')"),
        (MethodRef("kd", (("seeds", 3),)), "seeds belong to the run"),
    ],
)
def test_the_registry_refuses_unknown_ids_parameters_and_values(side, words):
    assert words in check_ref(side)


def test_the_registry_accepts_what_its_models_accept():
    assert check_ref(MethodRef("byot", (("alpha", 0), ("feature_weight", 0)))) is None
    assert check_ref(MethodRef("kd", (("train_fraction", "0.5"),))) is None  # pydantic's lax mode


def test_a_shared_note_is_checked_once_and_bound_to_every_paper():
    catalog = parse(
        """
        - [First](https://arxiv.org/abs/2001.00001)
        - [Second](https://arxiv.org/abs/2001.00002)
            - 4分
            - 对比: kd vs lsr(epsilon=7)
            - compare: kd vs lsr
        """
    )
    (bad,) = catalog.bad_comparisons(check_ref)
    assert (bad.file, bad.line, bad.level) == ("notes.md", 4, "error")
    assert "lsr(epsilon=7)" in bad.message
    first, second = catalog.papers.values()
    for paper in (first, second):
        (bound,) = paper_comparisons(paper)  # the refused one is left out
        assert (bound.method.method.id, bound.against.method.id) == ("kd", "lsr")
        assert bound.against.params.epsilon == bound.against.method.params().epsilon


def test_the_fixture_binds_the_seed_notes_two_doubts():
    catalog = parse_notes_dir(FIXTURES)
    assert registry_diagnostics(catalog) == []
    tfkd = catalog.paper("1909.11723")
    byot, msd = catalog.paper("1905.08094"), catalog.paper("1911.09418")
    assert [str(c) for c in tfkd.note_comparisons] == ["tfkd_reg vs lsr"]
    assert [str(c) for c in byot.note_comparisons] == [
        "byot vs byot(alpha=0, feature_weight=0)",
        "msd vs byot",
    ]
    assert msd.note_comparisons == byot.note_comparisons
    (ablation, _) = paper_comparisons(byot)
    # BYOT with its KL and feature terms switched off is its deep supervision alone.
    assert (ablation.against.params.alpha, ablation.against.params.feature_weight) == (0, 0)


def test_notes_check_reports_unknown_ids_and_parameters_with_file_and_line(tmp_path, capsys):
    (tmp_path / "a.md").write_text(
        "- [P](https://arxiv.org/abs/2001.00001)\n"
        "    - 3分\n"
        "    - 对比: tfkd_reg vs lssr\n"
        "    - compare: byot(gamma=1) vs byot\n"
        "    - compare: kd vs lsr\n",
        encoding="utf-8",
    )
    assert main(["notes", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("a.md:3: error: unknown method 'lssr'")
    assert err[1].startswith("a.md:4: error: byot has no parameter 'gamma'")
    assert len(err) == 2


def test_notes_check_passes_the_fixture(capsys):
    assert main(["notes", "check", str(FIXTURES)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out
