"""Citations of a paper, built from what the notes know (no authors: the notes
don't carry them)."""

from __future__ import annotations

import re

from app.catalog.models import Paper

_BIBTEX_SPECIALS = re.compile(r"([&%$#_{}])")


def _bibtex_escape(text: str) -> str:
    return _BIBTEX_SPECIALS.sub(r"\\\1", text)


def bibtex_key(paper: Paper) -> str:
    first_word = re.sub(r"[^a-z0-9]", "", paper.title.split()[0].lower()) if paper.title else ""
    return f"{first_word or 'paper'}{paper.year or ''}_{paper.slug.replace('.', '_')[:24]}"


def bibtex(paper: Paper) -> str:
    """arXiv papers as `@misc` with `eprint`; others as `@inproceedings`."""
    fields = {"title": "{" + _bibtex_escape(paper.title) + "}"}
    if paper.arxiv_id:
        kind = "misc"
        fields |= {"eprint": paper.arxiv_id, "archivePrefix": "arXiv"}
        if paper.venue and paper.venue.lower() != "arxiv":
            fields["note"] = _bibtex_escape(f"{paper.venue} {paper.year or ''}".strip())
    else:
        kind = "inproceedings"
        if paper.venue:
            fields["booktitle"] = _bibtex_escape(paper.venue)
    if paper.year:
        fields["year"] = str(paper.year)
    fields["url"] = paper.url
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@{kind}{{{bibtex_key(paper)},\n{body}\n}}\n"
