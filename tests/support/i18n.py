"""Scanning a rendered page for words in the wrong language.

What counts is the interface: the page's text and its readable attributes, minus
what is shown as written (`data-verbatim`: the notes' own content, paper titles,
each language's own name in the switch; `data-verbatim="title"`: only the element's
tooltip, which quotes the notes), code, scripts and styles."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

#: Han characters and full-width punctuation: none belongs in the English interface.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
#: Runs of Latin letters: in the Chinese interface each must be a name, not English.
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
#: Names the Chinese interface writes in Latin letters, as Chinese readers do.
NAMES = {
    "API", "JSON", "CSV", "BibTeX", "arXiv", "Holm", "CI", "KD", "Tf-KD", "CE", "p",
    "SD", "ETA", "GPU", "CPU", "Atom", "PDF", "URL",
}  # fmt: skip
#: Attributes a reader meets: tooltips, screen readers, empty fields.
READABLE_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
SKIPPED_TAGS = ("script", "style", "code", "pre", "noscript", "template")


def interface_text(html: str, region: str | None = None) -> list[str]:
    """The interface's strings on a page (or inside the CSS selector `region`)."""
    soup = BeautifulSoup(html, "html.parser")
    whole = [n for n in soup.select("[data-verbatim]") if n["data-verbatim"] != "title"]
    verbatim = [node.get_text(" ", strip=True) for node in whole]
    texts: list[str] = []
    title = soup.title.get_text() if soup.title else ""
    for words in sorted(verbatim, key=len, reverse=True):
        if words:
            title = title.replace(words, " ")
    for node in soup.select('[data-verbatim="title"]'):
        del node["title"]
    for node in [*whole, *soup.select(", ".join(SKIPPED_TAGS))]:
        node.decompose()
    roots = soup.select(region) if region else [soup.body or soup]
    if region is None:
        texts.append(title)
    for root in roots:
        texts.extend(s.strip() for s in root.find_all(string=True) if s.strip())
        for tag in [root, *root.find_all(True)]:
            texts.extend(str(tag[a]) for a in READABLE_ATTRIBUTES if tag.has_attr(a))
    return [t for t in texts if t.strip()]


def wrong_language(html: str, lang: str, region: str | None = None) -> list[str]:
    """The interface strings of `html` that are not in `lang`."""
    def foreign(text: str) -> bool:
        if lang == "en":
            return bool(CJK.search(text))
        return any(word not in NAMES for word in LATIN_WORD.findall(text))

    return [text for text in interface_text(html, region) if foreign(text)]
