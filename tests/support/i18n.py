"""Scanning a rendered page for words in the wrong language.

What counts is the interface: the page's text and its readable attributes, minus
what is shown as written (`data-verbatim`: the notes' own content, paper titles,
each language's own name in the switch; `data-verbatim="title"`: only the element's
tooltip, which quotes the notes), code, scripts and styles."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from app.distill.methods import METHODS  # torch-free: the method ids are names

#: Han characters and full-width punctuation: none belongs in the English interface.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
#: Runs of Latin letters: in the Chinese interface each must be a name, not English.
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_'-]*[A-Za-z]|[A-Za-z]")
#: Names the Chinese interface writes in Latin letters, as Chinese readers do; an
#: acronym (KD, CS-KD, BYOT, JSON) is a name too, and a single letter is a symbol.
NAMES = {
    "BibTeX", "arXiv", "Holm", "Tf-KD", "FitNets", "Hinton", "Plotly", "softmax",
    "one-hot", "RepDistiller", "mdistiller", "PyTorch", "TensorFlow", "Inception",
    "ResNet", "AlexNet", "label_smoothing", "bottleneck", "student", "JavaScript", *METHODS,
    # the parameters' own names, which the methods' prose quotes (stages = 3)
    *(name for m in METHODS.values() for name in m.params.model_fields),
}  # fmt: skip
#: A file of the repository (docs/reproduction.json) is a name too, and so is an
#: identifier with a digit in it (a run id, L2, v3).
PATH = re.compile(r"[\w.-]+(/[\w.-]+)+|\b(?=[A-Za-z_]*\d)\w+\b")
#: Names of more than one word.
NAME_PHRASES = re.compile(r"Tf-KD (self|reg)")
ACRONYM = re.compile(r"[A-Z][A-Z0-9-]*[A-Z0-9]")
#: Attributes a reader meets: tooltips, screen readers, empty fields.
READABLE_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
SKIPPED_TAGS = ("script", "style", "code", "pre", "noscript", "template", "math")


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


def is_name(word: str) -> bool:
    """A name, an acronym, a symbol, or a subscripted one (softmax_T, λ_D)."""
    if word in NAMES or len(word) == 1 or ACRONYM.fullmatch(word):
        return True
    return "_" in word and all(is_name(part) for part in word.split("_") if part)


def wrong_language(html: str, lang: str, region: str | None = None) -> list[str]:
    """The interface strings of `html` that are not in `lang`."""
    def foreign(text: str) -> bool:
        if lang == "en":
            return bool(CJK.search(text))
        words = LATIN_WORD.findall(PATH.sub(" ", NAME_PHRASES.sub(" ", text)))
        return any(not is_name(word) for word in words)

    return [text for text in interface_text(html, region) if foreign(text)]
