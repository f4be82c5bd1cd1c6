"""The interface's words, one table per language (zh.toml, en.toml beside this file).

A template writes `t("nav.papers")`; the language comes from the request (see
app/web/i18n/negotiate.py). The notes are never translated: only the interface is.
Keys are the tables' dotted paths (`[nav] papers = "论文"` is `nav.papers`); a value
may name `{placeholders}`, filled by `t(key, name=value)`. A key ending in `_html`
holds markup of our own: its placeholders are escaped, the rest is not."""

from __future__ import annotations

import logging
import tomllib
from contextvars import ContextVar
from pathlib import Path

from markupsafe import Markup

log = logging.getLogger(__name__)

#: The languages the interface speaks, the default first.
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = LANGUAGES[0]
#: What `<html lang>` says for each.
HTML_LANG = {"zh": "zh-CN", "en": "en"}

#: The language of the request being served; set by the negotiating middleware, read
#: where no template context is at hand (error messages built in Python).
current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)

#: Keys asked for but found in no table: a test renders every page and asserts this
#: stays empty (a missing key shows as itself rather than failing the page).
MISSING: set[tuple[str, str]] = set()


def _flatten(table: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def load_table(lang: str) -> dict[str, str]:
    with (Path(__file__).parent / f"{lang}.toml").open("rb") as file:
        return _flatten(tomllib.load(file))


TABLES: dict[str, dict[str, str]] = {lang: load_table(lang) for lang in LANGUAGES}


def translate(key: str, lang: str | None = None, /, **values: object) -> str:
    """The interface string `key` in `lang` (the request's language by default)."""
    lang = lang if lang in TABLES else current_language.get()
    text = TABLES[lang].get(key)
    if text is None:
        MISSING.add((lang, key))
        log.warning("no %s text for %r", lang, key)
        return key
    if key.endswith("_html"):
        return Markup(text).format(**values) if values else Markup(text)
    return text.format(**values) if values else text


def pick(pair: dict[str, str] | None, lang: str | None = None) -> str:
    """One side of a {"zh": ..., "en": ...} pair (method titles, claims)."""
    if not pair:
        return ""
    lang = lang if lang in LANGUAGES else current_language.get()
    return pair.get(lang) or pair.get(DEFAULT_LANGUAGE) or ""


def section(prefix: str, lang: str) -> dict[str, str]:
    """Every key under `prefix.`, without it: the strings a script needs."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in TABLES[lang].items() if k.startswith(prefix + ".")}


__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "TABLES", "pick", "section", "translate"]
