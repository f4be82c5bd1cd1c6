"""The real notes file parses to exactly its eight papers. Every expected value is
written out here by reading the file, not computed by the parser under test."""

from pathlib import Path

import pytest

from app import PROJECT_ROOT
from app.catalog.parser import parse_notes_dir

FSP_SLUG = "a-gift-from-knowledge-distillation-fast-optimization-network-minimization-and"
LOGITS = ("Knowledge Distilling", "Distilling From Logits")
FEATURES = ("Knowledge Distilling", "Distilling From Features")
SELF_KD = ("Knowledge Distilling", "Self-KD")

# slug, title, venue, year, status, rating, category path, line
EXPECTED = [
    ("1909.11723", "Revisiting Knowledge Distillation via Label Smoothing Regularization",
     "CVPR", 2020, None, 5, LOGITS, 37),
    ("1503.02531", "Distilling the Knowledge in a Neural Network",
     "NIPS", 2014, None, 5, LOGITS, 44),
    ("1907.09682", "Similarity-Preserving Knowledge Distillation",
     "ICCV", 2019, None, 4, FEATURES, 54),
    (FSP_SLUG, "A Gift from Knowledge Distillation:Fast Optimization, Network Minimization "
     "and Transfer Learning", "CVPR", 2017, None, 4, FEATURES, 55),
    ("2003.13964", "Regularizing Class-wise Predictions via Self-knowledge Distillation",
     "CVPR", 2020, None, 3, SELF_KD, 66),
    ("1905.08094", "Be Your Own Teacher: Improve the Performance of Convolutional Neural "
     "Networks via Self Distillation", "ICCV", 2019, None, 4, SELF_KD, 72),
    ("1911.09418", "MSD: Multi-Self-Distillation Learning via Multi-classifiers within Deep "
     "Neural Networks", "arXiv", 2019, None, 4, SELF_KD, 73),
    ("1706.00384", "Deep mutual learning", "CVPR", 2018, None, 3, SELF_KD, 80),
]  # fmt: skip


@pytest.fixture(scope="module")
def catalog():
    return parse_notes_dir(PROJECT_ROOT / "notes")


def test_seed_is_bundled_unchanged():
    seed = PROJECT_ROOT.parent / "shared" / "seeds" / "000_35147ce161839be4.txt"
    if not seed.exists():
        pytest.skip("shared seed folder not beside this checkout")
    bundled = PROJECT_ROOT / "notes" / "knowledge-distillation.md"
    assert bundled.read_bytes() == seed.read_bytes()


def test_exactly_the_eight_papers_in_file_order(catalog):
    got = [
        (p.slug, p.title, p.venue, p.year, p.status, p.rating, p.category_path, p.line)
        for p in catalog.papers.values()
    ]
    assert got == EXPECTED
    assert all(p.file == "knowledge-distillation.md" for p in catalog.papers.values())


def test_shared_note_groups(catalog):
    papers = catalog.papers
    assert papers["1907.09682"].shares_notes_with == (FSP_SLUG,)
    assert papers[FSP_SLUG].shares_notes_with == ("1907.09682",)
    assert papers["1905.08094"].shares_notes_with == ("1911.09418",)
    assert papers["1911.09418"].shares_notes_with == ("1905.08094",)
    loners = set(papers) - {"1907.09682", FSP_SLUG, "1905.08094", "1911.09418"}
    assert all(papers[s].shares_notes_with == () for s in loners)
    # The shared block is the same note for both, rating included.
    assert papers["1907.09682"].notes_html == papers[FSP_SLUG].notes_html
    assert papers["1907.09682"].insights[0] == "两篇文章都是从feature map的角度进行蒸馏。"


def test_rating_items_are_not_insights(catalog):
    hinton = catalog.papers["1503.02531"]
    assert hinton.insights[0] == "Hinton出品，知识蒸馏开山之作。"
    assert len(hinton.insights) == 3
    assert "5分" not in hinton.notes_html


def test_rating_scale_from_the_files_own_legend(catalog):
    assert [(lv.value, lv.label) for lv in catalog.rating_scale.levels] == [
        (5, "值得反复阅读的论文，非常具有启发性"),
        (4, "值得精读的论文，具有一定的启发性"),
        (3, "值得粗略阅读的论文，了解论文大概思想后会有一定收获"),
        (2, "价值不大的论文，读完基本没有收获"),
        (1, "粗制滥造的论文"),
    ]


def test_categories_and_descriptions(catalog):
    self_kd = catalog.categories["self-kd"]
    assert self_kd.path == SELF_KD
    assert self_kd.parent == "knowledge-distilling"
    assert self_kd.description == "自蒸馏。"
    assert catalog.categories["knowledge-distilling"].description == "知识蒸馏。"


def test_table_of_contents_is_not_a_paper_list_and_seed_is_clean(catalog):
    assert not any(p.url.startswith("#") for p in catalog.papers.values())
    assert catalog.diagnostics == []


def test_mentions_by_name(catalog):
    cskd = catalog.papers["2003.13964"]
    assert catalog.mentions(cskd) == ("1706.00384",)


def test_notes_check_cli_on_seed(capsys):
    from app.cli import main

    assert main(["notes", "check", str(Path(PROJECT_ROOT / "notes"))]) == 0
    assert "8 papers" in capsys.readouterr().out
