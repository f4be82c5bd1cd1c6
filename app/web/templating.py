"""Jinja2 environment shared by every HTML route."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette._utils import get_route_path

from app import PROJECT_ROOT
from app.catalog import mathml
from app.catalog.catalog import Catalog
from app.catalog.parser import sanitize
from app.catalog.query import PaperQuery
from app.distill.sweep import sweep_grids  # torch-free
from app.settings import Settings
from app.web.i18n import (
    DEFAULT_LANGUAGE,
    HTML_LANG,
    LANGUAGES,
    TABLES,
    current_language,
    pick,
    section,
    translate,
)

#: The site's name when neither SITE_TITLE nor a `# ` heading in the notes gives one
#: (in the default language; the interface's own language elsewhere).
DEFAULT_SITE_TITLE = TABLES[DEFAULT_LANGUAGE]["site.default_title"]


def site_title(settings: Settings, catalog: Catalog | None, lang: str | None = None) -> str:
    """SITE_TITLE when set, else the notes' own top heading, else the default."""
    configured = (settings.site_title or "").strip()
    return (configured or (catalog.title if catalog else None)
            or translate("site.default_title", lang))  # fmt: skip


def root(request: Request) -> str:
    """The prefix the app is served under behind a proxy (ROOT_PATH), "" at the top:
    every internal link is written `{{ root }}/path`."""
    return request.scope.get("root_path", "").rstrip("/")


def route_path(request: Request) -> str:
    """The request's path inside the app, without the prefix (whether or not the
    proxy stripped it)."""
    return get_route_path(request.scope) or "/"


def language(request: Request) -> str:
    """The language app/web/i18n/negotiate.py chose for this request."""
    return request.scope.get("state", {}).get("lang") or current_language.get()


def language_url(request: Request, lang: str) -> str:
    """This very page in another language: its path and query, `lang` replaced."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{root(request)}{route_path(request)}?{urlencode([*params, ('lang', lang)])}"


def _site_context(request: Request) -> dict[str, object]:
    # Every page names the site; an error page may render before the catalog exists.
    state = request.app.state
    store = getattr(state, "catalog", None)
    lang = language(request)
    return {"site_title": site_title(state.settings, store.get() if store else None, lang),
            "root": root(request), "lang": lang, "html_lang": HTML_LANG[lang],
            "languages": LANGUAGES,
            # What the scripts say, from the same table (read by static/js/i18n.js).
            "ui_strings": section("js", lang)}  # fmt: skip


def _context_lang(context: Context) -> str:
    # A macro imported without context has no `lang`: the request's own then.
    return context.get("lang") or current_language.get()


@pass_context
def t(context: Context, key: str, **values: object) -> str:
    """The interface string `key` in the page's language."""
    return translate(key, _context_lang(context), **values)


@pass_context
def tr(context: Context, pair: dict[str, str] | None) -> str:
    """The page's side of a {"zh", "en"} pair (method titles, claims, verdicts)."""
    return pick(pair, _context_lang(context))


@pass_context
def lang_url(context: Context, lang: str) -> str:
    return language_url(context["request"], lang)


templates = Jinja2Templates(
    directory=PROJECT_ROOT / "templates", context_processors=[_site_context]
)
_QUERY_DEFAULTS = PaperQuery().model_dump()


def query_url(query: PaperQuery, path: str = "/", **changes: object) -> str:
    """The link to this view with some parameters changed; None removes one.
    Any change other than the page itself goes back to page 1."""
    values = query.model_dump() | changes
    if "page" not in changes:
        values["page"] = 1
    params = {
        key: value
        for key, value in values.items()
        if value is not None and value != "" and value != _QUERY_DEFAULTS.get(key)
    }
    return f"{path}?{urlencode(params)}" if params else path


def stars(rating: int | None, out_of: int = 5) -> str:
    if rating is None:
        return "☆" * out_of
    return "★" * rating + "☆" * (out_of - rating)


@lru_cache(maxsize=256)  # method formulas and descriptions: a few dozen fixed strings
def math_text(text: str) -> Markup:
    """`{{ text|math }}`: the text escaped, its `$…$` as MathML, as in the notes."""
    return Markup(sanitize(mathml.render_text(text)[0]))


templates.env.filters["math"] = math_text
templates.env.globals.update(
    query_url=query_url, stars=stars, route_path=route_path, query_defaults=PaperQuery(),
    sweep_grids=sweep_grids, t=t, tr=tr, lang_url=lang_url,
)
