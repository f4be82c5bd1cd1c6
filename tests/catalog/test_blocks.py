"""The parser's block tree (app/catalog/blocks.py) against markdown-it's own."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it.tree import SyntaxTreeNode

from app.catalog.blocks import blocks, leading_link, plain_text
from app.catalog.parser import _MD

# Lines made of the pieces notes are made of, so that lists nest, links open items
# and paragraphs, quotes, fences and raw HTML meet each other.
PIECES = ["- ", "    - ", "        - ", "# ", "## ", "> ", "1. ", "```", "<b>x</b>", "[t](u)",
          "[*a* b](http://x/y)", " (CVPR2020)", "*em* ", "$x^2$", "$$", "`c`", "5分", "---",
          "text ", "  ", "蒸馏", "\\", "![i](f.png)", "<!-- c -->"]  # fmt: skip
lines = st.lists(st.sampled_from(PIECES), max_size=5).map("".join)
markdown = st.lists(lines, max_size=25).map("\n".join)


def _shape(node: SyntaxTreeNode) -> list:
    """Block types and lines of markdown-it's tree, its inline leaves left out."""
    where = list(node.map) if node.map else None
    if node.type == "inline" or not node.children:
        return [node.type, where]
    return [node.type, where, [_shape(child) for child in node.children]]


def _ours(block) -> list:
    if not block.children:
        return [block.type, block.opening.map]
    return [block.type, block.opening.map, [_ours(child) for child in block.children]]


@settings(max_examples=300, deadline=None)
@given(markdown)
def test_blocks_keep_the_token_stream_and_the_tree_markdown_it_builds(text):
    tokens = _MD.parse(text)
    top = blocks(tokens)
    assert [t for block in top for t in block.tokens()] == tokens
    assert [_ours(b) for b in top] == [_shape(n) for n in SyntaxTreeNode(tokens).children]


@settings(max_examples=300, deadline=None)
@given(markdown)
def test_plain_text_reads_a_block_as_it_reads_markdown_its_nodes(text):
    tokens = _MD.parse(text)
    for ours, theirs in zip(blocks(tokens), SyntaxTreeNode(tokens).children, strict=True):
        assert plain_text(ours.tokens()) == plain_text(theirs.to_tokens())


def test_the_leading_link_its_text_and_what_follows_it():
    (inline,) = [
        t for t in _MD.parse("[**Deep** KD](https://a.org/1) (CVPR *x*) y") if t.type == "inline"
    ]
    assert leading_link(inline) == ("https://a.org/1", "Deep KD", " (CVPR ) y")
    (other,) = [t for t in _MD.parse("see [KD](https://a.org/1)") if t.type == "inline"]
    assert leading_link(other) is None
