"""Reading the small fields inside a paper line: venue, year, arXiv id, rating,
slug. These work on one short string each; the structure of the notes comes from
markdown-it's token stream in parser.py, never from regular expressions."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlparse

_ARXIV_PATH = re.compile(r"^/(?:abs|pdf|html)/(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?/?$")
# Venue text as the notes write it: `CVPR2020`, `CVPR2020_oral`, `ICLR2021 under review`,
# `NeurIPS 2020`, `arXiv2019`, `TPAMI`.
_VENUE = re.compile(
    r"^(?P<venue>[A-Za-z][A-Za-z&.\-]*(?:\s+[A-Za-z][A-Za-z&.\-]*)*)?"
    r"\s*'?(?P<year>(?:19|20)\d{2})?"
    r"(?:[\s_\-,]+(?P<status>[A-Za-z][\w\s\-]*))?$"
)
_RATING = re.compile(r"^(?P<value>\d+(?:\.\d+)?)\s*(?:分|/\s*(?P<scale>\d+))$")
_LEGEND = re.compile(r"^(?P<value>\d+)\s*分\s*[:：]\s*(?P<label>.+)$")
# `演示: kd, lsr` or `demo：kd，lsr` binds a paper to demo methods by id.
_DEMO = re.compile(r"^(?:演示|demo)\s*[:：]\s*(?P<ids>.*)$", re.IGNORECASE)
_DEMO_SEPARATORS = re.compile(r"\s*[,，、]\s*")
# Ids look like identifiers; a bullet such as `demo: 作者给了一个网页` is prose, an insight.
_DEMO_ID = re.compile(r"^[A-Za-z][\w-]*$", re.ASCII)
# `对比: tfkd_reg vs lsr` or `compare：byot vs byot(alpha=0, feature_weight=0)`: a
# comparison the note asks for. Each side is a method id with optional parameters.
_COMPARE = re.compile(r"^(?:对比|compare)\s*[:：]\s*(?P<body>.*)$", re.IGNORECASE)
_VERSUS = re.compile(r"\s+vs\.?\s+", re.IGNORECASE)
_SIDE = re.compile(r"^(?P<id>[A-Za-z][\w-]*)\s*(?:[(（](?P<args>.*)[)）])?$", re.ASCII)
_ARG = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<value>[^=\s]+)$", re.ASCII)
# `作者: Geoffrey Hinton, Oriol Vinyals` or `authors：张三、李四`: who wrote the paper,
# for citations. Names are split on commas, `、`, semicolons and ` and `.
_AUTHORS = re.compile(r"^(?:作者|authors?)\s*[:：]\s*(?P<names>.*)$", re.IGNORECASE)
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:[,，、;；]|\band\b)\s*", re.IGNORECASE)
_MAX_NAME = 60
_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class Venue:
    venue: str | None
    year: int | None
    status: str | None


def arxiv_id(url: str) -> str | None:
    """`https://arxiv.org/abs/1503.02531v2` -> `1503.02531` (new-style ids only)."""
    parsed = urlparse(url)
    if not parsed.netloc.lower().endswith("arxiv.org"):
        return None
    match = _ARXIV_PATH.match(parsed.path)
    return match.group(1) if match else None


def arxiv_year(identifier: str) -> int:
    """New-style arXiv ids start with YYMM of submission."""
    return 2000 + int(identifier[:2])


def parse_venue(text: str) -> Venue | None:
    """Split `CVPR2020_oral` into venue, year and status; None if unreadable."""
    text = text.strip()
    match = _VENUE.match(text)
    if not text or not match or not (match["venue"] or match["year"]):
        return None
    status = match["status"]
    return Venue(
        venue=match["venue"],
        year=int(match["year"]) if match["year"] else None,
        status=" ".join(status.replace("_", " ").split()) if status else None,
    )


def parse_rating(text: str) -> float | None:
    """`5分`, `5 分`, `5/5` -> 5. None when the text is not a rating at all."""
    match = _RATING.match(text.strip())
    if not match:
        return None
    if match["scale"] and match["scale"] != "5":
        return None
    return float(match["value"])


def parse_legend_item(text: str) -> tuple[int, str] | None:
    """`5分：值得反复阅读的论文` -> (5, '值得反复阅读的论文')."""
    match = _LEGEND.match(text.strip())
    return (int(match["value"]), match["label"].strip()) if match else None


def parse_demo_bullet(text: str) -> tuple[str, ...] | None:
    """`演示: kd, lsr` -> ('kd', 'lsr'); `演示:` alone -> (). None when the text is not
    a demo binding: another prefix, or after the colon anything but a list of ids."""
    match = _DEMO.match(text.strip())
    if not match:
        return None
    ids = [part for part in _DEMO_SEPARATORS.split(match["ids"].strip()) if part]
    if not all(_DEMO_ID.match(part) for part in ids):
        return None
    return tuple(dict.fromkeys(ids))  # repeated ids once, in the order written


def parse_authors_bullet(text: str) -> tuple[str, ...] | None:
    """`作者: G. Hinton, O. Vinyals and J. Dean` -> the three names, in order; `作者:`
    alone -> (). None when the text is not an authors bullet."""
    match = _AUTHORS.match(text.strip())
    if not match:
        return None
    names = [" ".join(n.split()) for n in _AUTHOR_SEPARATORS.split(match["names"].strip())]
    if any(len(n) > _MAX_NAME or any(c in n for c in "。！？!?") for n in names):
        return None  # `作者: 本文作者来自谷歌。` is prose, an insight
    return tuple(dict.fromkeys(n for n in names if n))


ParamValue = bool | int | float | str


@dataclass(frozen=True, slots=True)
class CompareBullet:
    """What a `对比:` bullet says: two (method id, parameters) sides, or why it cannot be
    read (`error`) when it plainly meant to compare but a side is malformed."""

    sides: tuple[tuple[str, tuple[tuple[str, ParamValue], ...]], ...] = ()
    error: str | None = None


def _value(text: str) -> ParamValue:
    """`0` -> 0, `0.3` -> 0.3, `true` -> True; anything else stays a string, for the
    method's parameter model to accept or refuse."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def _side(text: str) -> tuple[str, tuple[tuple[str, ParamValue], ...]] | str:
    """`byot(alpha=0, feature_weight=0)` -> ('byot', (('alpha', 0), ...)); a message
    when the text is not an id with `name=value` parameters."""
    match = _SIDE.match(text.strip())
    if not match:
        return f"{text.strip()!r} is not a method id with optional (name=value, ...)"
    params: dict[str, ParamValue] = {}
    for part in _DEMO_SEPARATORS.split((match["args"] or "").strip()):
        if not part:
            continue
        arg = _ARG.match(part)
        if not arg:
            return f"cannot read parameter {part!r} of {match['id']}: write name=value"
        if arg["name"] in params:
            return f"parameter {arg['name']!r} of {match['id']} is given twice"
        params[arg["name"]] = _value(arg["value"])
    return match["id"], tuple(params.items())


def parse_compare_bullet(text: str) -> CompareBullet | None:
    """`对比: tfkd_reg vs lsr` -> both sides. None when the text is not a comparison at
    all (another prefix, or prose after the colon with no ` vs `: an insight)."""
    match = _COMPARE.match(text.strip())
    if not match:
        return None
    parts = _VERSUS.split(match["body"].strip())
    if len(parts) != 2:
        return None if len(parts) == 1 else CompareBullet(error="compare exactly two sides")
    if not all(re.match(r"^[A-Za-z]", part.strip(), re.ASCII) for part in parts):
        return None  # `对比: 本文 vs 前作` is prose
    sides = [_side(part) for part in parts]
    errors = [side for side in sides if isinstance(side, str)]
    if errors:
        return CompareBullet(error=errors[0])
    return CompareBullet(sides=tuple(sides))  # type: ignore[arg-type]


def slugify(text: str, *, fallback_prefix: str = "p", max_length: int = 80) -> str:
    """A deterministic ASCII slug; text with no ASCII letters gets a short hash."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:  # cut at a word boundary, not mid-word
        slug = slug[: max_length + 1].rsplit("-", 1)[0]
    if slug:
        return slug
    return f"{fallback_prefix}-" + hashlib.sha1(text.strip().encode()).hexdigest()[:10]
