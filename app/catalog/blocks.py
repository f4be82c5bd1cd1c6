"""markdown-it's token stream as the tree of blocks the notes parser walks.

markdown-it-py's SyntaxTreeNode gives the same shape, but it makes a node of every
inline token too and links each node to its parent. On a 1,000-paper file, building
that tree and freeing it (the parent links are reference cycles, left to the cycle
collector) was a sixth of a cold parse. Here only blocks are nodes: an inline
token stays a leaf whose children are markdown-it's own inline tokens.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field

import nh3
from markdown_it.token import Token

# Text only: every tag dropped, with the bodies of <script> and <style>. Built once,
# as the parser's sanitiser is: nh3.clean builds its rules again on every call.
_TEXT_ONLY = nh3.Cleaner(tags=set())


@dataclass(slots=True)
class Block:
    """A container (its opening and closing tokens around child blocks) or a leaf
    token: an `inline` run, a fence, an html block, a rule."""

    opening: Token
    closing: Token | None = None
    children: list[Block] = field(default_factory=list)

    @property
    def type(self) -> str:
        """As SyntaxTreeNode names it: `heading`, `bullet_list`, `inline`, …"""
        return self.opening.type.removesuffix("_open")

    @property
    def line(self) -> int:
        """The 1-based line the block starts on in its file."""
        return (self.opening.map[0] if self.opening.map else 0) + 1

    def tokens(self, out: list[Token] | None = None) -> list[Token]:
        """The block's stretch of the token stream, in order."""
        out = [] if out is None else out
        out.append(self.opening)
        for child in self.children:
            child.tokens(out)
        if self.closing is not None:
            out.append(self.closing)
        return out

    def with_children(self, children: list[Block]) -> Block:
        """The same container holding only these children."""
        return Block(self.opening, self.closing, children)


def blocks(tokens: Iterable[Token]) -> list[Block]:
    """The top-level blocks of a token stream (markdown-it's parse)."""
    top: list[Block] = []
    open_: list[Block] = []
    for token in tokens:
        siblings = open_[-1].children if open_ else top
        if token.nesting == 1:
            block = Block(token)
            siblings.append(block)
            open_.append(block)
        elif token.nesting == -1:
            open_.pop().closing = token
        else:
            siblings.append(Block(token))
    return top


def head_inline(item: Block) -> Token | None:
    """The inline run of a list item's first paragraph."""
    if item.children and item.children[0].type == "paragraph":
        return item.children[0].children[0].opening
    return None


def plain_text(tokens: Iterable[Token]) -> str:
    """The visible text of a stretch of tokens, markup dropped."""
    parts: list[str] = []
    has_html = False
    for token in tokens:
        for leaf in token.children or (token,):
            if leaf.type.startswith("math_inline"):  # as written: `$\mathcal{L}$`
                parts.append(html.escape(leaf.markup + leaf.content + leaf.markup) if has_html
                             else leaf.markup + leaf.content + leaf.markup)  # fmt: skip
            elif leaf.type in ("text", "code_inline"):
                # Escaped, so that only the author's real tags count as HTML below.
                parts.append(html.escape(leaf.content) if has_html else leaf.content)
            elif leaf.type == "html_inline":
                if not has_html:  # escape what came before, now that it matters
                    parts = [html.escape(p) for p in parts]
                    has_html = True
                parts.append(leaf.content)
            elif leaf.type in ("softbreak", "hardbreak"):
                parts.append(" ")
        if token.type == "paragraph_close":
            parts.append(" ")
    text = "".join(parts)
    if has_html:  # drop tags, and the bodies of <script> and <style>, as a reader sees it
        text = html.unescape(_TEXT_ONLY.clean(text))
    return " ".join(text.split())


def leading_link(inline: Token) -> tuple[str, str, str] | None:
    """(href, link text, the plain text after the link) when an inline run starts
    with a link; markup nested after it (`*x*`) is not part of the text after."""
    leaves = [t for t in inline.children or () if not (t.type == "text" and not t.content.strip())]
    if not leaves or leaves[0].type != "link_open":
        return None
    end = next(i for i, t in enumerate(leaves) if t.type == "link_close")  # links never nest
    depth, rest = 0, []
    for leaf in leaves[end + 1 :]:
        if depth == 0 and leaf.type == "text":
            rest.append(leaf.content)
        depth += leaf.nesting
    return str(leaves[0].attrs.get("href", "")), plain_text(leaves[1:end]), "".join(rest)
