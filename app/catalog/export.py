"""Citations of papers, built from what the notes know: BibTeX and CSL-JSON, one
paper or a whole view. Authors come from a note's `作者:` / `authors:` bullet; a
paper without one is cited without authors."""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.catalog.models import Paper

# Every character BibTeX or LaTeX reads as markup, and what stands for it in text.
# `\`, `~` and `^` need commands of their own: a backslash before them means
# something else (a line break, an accent).
_BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
}
_BIBTEX_SPECIAL = re.compile("|".join(re.escape(c) for c in _BIBTEX_SPECIALS))
# A URL stays a URL (the url package reads it verbatim), but braces and backslashes
# would still unbalance the field, and a space would end it: percent-encode those
# (a `%` is already an escape: left as it is).
_URL_UNSAFE = re.compile(r"[{}\\\s]")


def bibtex_escape(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_SPECIALS[m.group()], text)


def _bibtex_url(url: str) -> str:
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)


def bibtex_key(paper: Paper) -> str:
    first_word = re.sub(r"[^a-z0-9]", "", paper.title.split()[0].lower()) if paper.title else ""
    slug = re.sub(r"[^A-Za-z0-9-]", "_", paper.slug)[:24]
    return f"{first_word or 'paper'}{paper.year or ''}_{slug}"


def _bibtex_author(name: str) -> str:
    # Braced, so that a name BibTeX would split oddly (`张三`, `Li Fei-Fei`, a name
    # with `and` inside braces) is kept as written.
    return "{" + bibtex_escape(name) + "}" if " " not in name else bibtex_escape(name)


def bibtex(paper: Paper, key: str | None = None) -> str:
    """arXiv papers as `@misc` with `eprint`; others as `@inproceedings`."""
    fields = {"title": "{" + bibtex_escape(paper.title) + "}"}
    if paper.authors:
        fields["author"] = " and ".join(_bibtex_author(n) for n in paper.authors)
    if paper.arxiv_id:
        kind = "misc"
        fields |= {"eprint": paper.arxiv_id, "archivePrefix": "arXiv"}
        if paper.venue and paper.venue.lower() != "arxiv":
            fields["note"] = bibtex_escape(f"{paper.venue} {paper.year or ''}".strip())
    else:
        kind = "inproceedings"
        if paper.venue:
            fields["booktitle"] = bibtex_escape(paper.venue)
    if paper.year:
        fields["year"] = str(paper.year)
    fields["url"] = _bibtex_url(paper.url)
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@{kind}{{{key or bibtex_key(paper)},\n{body}\n}}\n"


def unique_keys(papers: Iterable[Paper]) -> list[tuple[Paper, str]]:
    """Each paper with its key, made unique within the list (`…b`, `…c`): two long
    titles may share a cut-off slug."""
    taken: set[str] = set()
    keyed = []
    for paper in papers:
        base = key = bibtex_key(paper)
        suffix = ord("b")
        while key in taken:
            key, suffix = f"{base}{chr(suffix)}", suffix + 1
        taken.add(key)
        keyed.append((paper, key))
    return keyed


def bibtex_all(papers: Iterable[Paper]) -> str:
    return "\n".join(bibtex(paper, key) for paper, key in unique_keys(papers))


def _csl_name(name: str) -> dict[str, str]:
    """`Geoffrey Hinton` -> given and family; a name of one word (`张三`, `Hinton`)
    or with `et al.` is kept whole, as a literal."""
    parts = name.split()
    if len(parts) < 2 or "et al" in name:
        return {"literal": name}
    return {"given": " ".join(parts[:-1]), "family": parts[-1]}


def csl_json(paper: Paper, key: str | None = None) -> dict:
    """One CSL-JSON item (what Zotero, Pandoc and citeproc read)."""
    item: dict = {
        "id": key or bibtex_key(paper),
        "type": "article" if paper.arxiv_id else "paper-conference",
        "title": paper.title,
        "URL": paper.url,
    }
    if paper.authors:
        item["author"] = [_csl_name(name) for name in paper.authors]
    if paper.year:
        item["issued"] = {"date-parts": [[paper.year]]}
    if paper.arxiv_id:
        item |= {"publisher": "arXiv", "number": paper.arxiv_id}
    if paper.venue and paper.venue.lower() != "arxiv":
        item["container-title"] = paper.venue
    if paper.status:
        item["note"] = paper.status
    return item


def csl_json_all(papers: Iterable[Paper]) -> list[dict]:
    return [csl_json(paper, key) for paper, key in unique_keys(papers)]
