"""`$…$` and `$$…$$` in notes (and in method formulas) as MathML, rendered on the
server: no script, no font, nothing for the CSP to allow. mdit-py-plugins' dollarmath
finds the formulas, latex2mathml writes them, and the sanitiser (app/catalog/parser.py)
lets MathML through and nothing more (MATHML_TAGS, MATHML_ATTRIBUTES).

A formula latex2mathml cannot read stays as its source, in <code>, and becomes a
diagnostic at its line; so does an unknown command (latex2mathml shows it as text).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

# MathML Core's presentation elements. Left out on purpose: annotation-xml (it can
# carry HTML or SVG), maction (interactive), and anything with a link.
MATHML_TAGS = frozenset({
    "math", "semantics", "annotation", "mrow", "mi", "mo", "mn", "ms", "mtext", "mspace",
    "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover",
    "mmultiscripts", "mprescripts", "none", "mtable", "mtr", "mtd", "mstyle", "mpadded",
    "mphantom", "menclose", "merror",
})  # fmt: skip
# Presentation attributes only: no href, no style, no event handlers.
_COMMON = {"mathvariant", "mathcolor", "mathbackground", "mathsize", "displaystyle",
           "scriptlevel", "dir"}  # fmt: skip
_OWN = {
    "math": {"display", "xmlns"},
    "annotation": {"encoding"},
    "mo": {"stretchy", "fence", "form", "separator", "lspace", "rspace", "minsize", "maxsize",
           "largeop", "movablelimits", "symmetric", "accent"},
    "mfrac": {"linethickness"},
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": {"accent", "accentunder"},
    "mspace": {"width", "height", "depth", "linebreak"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "menclose": {"notation"},
    "mtable": {"columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines",
               "rowlines", "frame", "framespacing", "equalrows", "equalcolumns", "align"},
    "mtr": {"columnalign", "rowalign"},
    "mtd": {"columnalign", "rowalign", "rowspan", "columnspan"},
}  # fmt: skip
MATHML_ATTRIBUTES = {tag: _COMMON | _OWN.get(tag, set()) for tag in MATHML_TAGS}


@dataclass(frozen=True)
class MathProblem:
    line: int  # 1-based, in the notes file; 0 where there is no file (a method formula)
    message: str


def to_mathml(latex: str, display: bool) -> tuple[str, str | None]:
    """(HTML, problem): the MathML, or the source in <code> and why it failed."""
    delimiter = "$$" if display else "$"
    try:
        mathml = convert(latex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises its own kinds, one per mistake
        source = html.escape(f"{delimiter}{latex}{delimiter}")
        reason = type(exc).__name__.removesuffix("Error")
        return f'<code class="math-error">{source}</code>', (
            f"cannot read the formula {delimiter}{latex}{delimiter} ({reason})"
        )
    if "<mi>\\" in mathml:  # an unknown command, shown as its name
        unknown = mathml.split("<mi>\\", 1)[1].split("<", 1)[0]
        return mathml, f"unknown command \\{unknown} in {delimiter}{latex}{delimiter}"
    return mathml, None


def _render_math(self, tokens: list[Token], idx: int, options, env: dict) -> str:
    token = tokens[idx]
    display = token.type.startswith("math_block")
    mathml, problem = to_mathml(token.content, display)
    if problem:
        line = token.meta.get("line") or ((token.map[0] + 1) if token.map else 0)
        env.setdefault("math_problems", []).append(MathProblem(line, problem))
    return f'<div class="math">{mathml}</div>\n' if display else mathml


def install(md: MarkdownIt) -> MarkdownIt:
    """Add `$…$` and `$$…$$` to a parser. Dollars that read as prices (`$5 and $10`),
    or with a space inside the delimiters, stay text, as in pandoc."""
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    for kind in ("math_inline", "math_inline_double", "math_block", "math_block_label"):
        md.add_render_rule(kind, _render_math)
    return md


def mark_lines(tokens: list[Token]) -> None:
    """Give each inline formula its paragraph's line, for diagnostics: inline tokens'
    children carry no line map of their own."""
    for token in tokens:
        if token.type == "inline" and token.map and token.children:
            for child in token.children:
                if child.type.startswith("math"):
                    child.meta["line"] = token.map[0] + 1


_TEXT_MD = install(MarkdownIt("zero"))


def render_text(text: str) -> tuple[str, list[MathProblem]]:
    """Plain text with formulas (a method's formula or description): the text escaped,
    each `$…$` as MathML. No other Markdown: these strings are not notes."""
    env: dict = {}
    tokens = _TEXT_MD.parse(text, env)
    if len(tokens) == 3:  # paragraph_open, inline, paragraph_close
        out = _TEXT_MD.renderer.renderInline(tokens[1].children or [], _TEXT_MD.options, env)
    else:  # a display formula or several paragraphs
        out = _TEXT_MD.renderer.render(tokens, _TEXT_MD.options, env)
    return out, env.get("math_problems", [])
