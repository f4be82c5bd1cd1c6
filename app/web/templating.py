"""Jinja2 environment shared by every HTML route."""

from __future__ import annotations

import json
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
    param_help_key,
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
            "ui_strings": ui_strings(lang)}  # fmt: skip


@lru_cache(maxsize=len(LANGUAGES))  # the tables are read once a process: so is this
def ui_strings(lang: str) -> dict[str, str]:
    """What static/js/i18n.js hands the scripts: the `js` section, and the validation
    messages as `v.<type>` (a refused form says its field's problem in words). Shared
    by every page: read it, never change it."""
    validation = {f"v.{k}": v for k, v in section("errors.validation", lang).items()}
    return section("js", lang) | validation


def _context_lang(context: Context) -> str:
    # A macro imported without context has no `lang`: the request's own then.
    return context.get("lang") or current_language.get()


@pass_context
def t(context: Context, key: str, **values: object) -> str:
    """The interface string `key` in the page's language."""
    return translate(key, _context_lang(context), **values)


def _get(obj: object, name: str) -> object:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


@pass_context
def tr(context: Context, pair: object, field: str | None = None) -> str:
    """The page's side of a {"zh", "en"} pair (claims, the methods' own prose), or,
    with `field`, of an object's `<field>_zh` / `<field>_en` attributes."""
    lang = _context_lang(context)
    if field is None:  # a dict or an object with `zh` and `en` (a pydantic pair)
        text = _get(pair, lang) or _get(pair, DEFAULT_LANGUAGE)
    else:
        text = _get(pair, f"{field}_{lang}") or _get(pair, f"{field}_{DEFAULT_LANGUAGE}")
    return str(text or "")


@pass_context
def verdict(context: Context, cell: object) -> str:
    """A paired Δ's verdict in the page's language: the `verdict.<key>` of the
    tables, or the cell's own label pair where its key is not one of theirs."""
    key = _get(cell, "verdict")
    if isinstance(key, str) and f"verdict.{key}" in TABLES[DEFAULT_LANGUAGE]:
        return translate(f"verdict.{key}", _context_lang(context))
    return tr(context, cell, "label")


@pass_context
def method_title(context: Context, method_id: str, fallback: str = "") -> str:
    """A method's title in the page's language (`method.<id>` in the tables)."""
    key = f"method.{method_id}"
    if key in TABLES[DEFAULT_LANGUAGE]:
        return translate(key, _context_lang(context))
    return fallback or method_id


@pass_context
def param_label(context: Context, name: str) -> str:
    """A parameter as a reader knows it (`params.<name>.label`), never `batch_size`."""
    key = f"params.{name}.label"
    return translate(key, _context_lang(context)) if key in TABLES[DEFAULT_LANGUAGE] else name


@pass_context
def param_value(context: Context, value: object) -> str:
    """A parameter's value as a reader reads it: 是/否 (Yes/No) for a boolean, a
    choice as its word, a sweep by the parameter it sweeps; never Python's `True`."""
    lang = _context_lang(context)
    if isinstance(value, bool):
        return translate("form.yes" if value else "form.no", lang)
    if isinstance(value, str) and f"choice.{value}" in TABLES[DEFAULT_LANGUAGE]:
        return translate(f"choice.{value}", lang)
    if isinstance(value, dict) and isinstance(value.get("param"), str):
        return param_label(context, value["param"])
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@pass_context
def setting_label(context: Context, params: dict[str, object]) -> str:
    """A reference row's setting: "defaults", or the parameters it changes."""
    if not params:
        return translate("demo.defaults", _context_lang(context))

    return ", ".join(
        f"{param_label(context, k)} = {param_value(context, v)}" for k, v in params.items()
    )


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


@lru_cache(maxsize=256)  # a rating value × its legend's words × a language
def _rating_html(value: int | None, label: str, lang: str) -> Markup:
    if value is None:
        return Markup('<span class="rating rating-none">{}</span>').format(
            translate("rating.none", lang))
    return Markup(
        '<span class="rating" title="{}" data-verbatim="title"><span class="stars" '
        'aria-hidden="true">{}</span> <span class="rating-number">{}</span></span>'
    ).format(translate("rating.title", lang, value=value, label=label), stars(value),
             translate("rating.points", lang, value=value))


@pass_context
def rating(context: Context, value: int | None, scale: object) -> Markup:
    """A rating as stars and a number, the legend's words as its tooltip. A function,
    not a macro, and kept once made: a listing shows the same few ratings on every card."""
    label = scale.label(value) if value is not None else ""
    return _rating_html(value, label or "", _context_lang(context))


@lru_cache(maxsize=256)  # method formulas and descriptions: a few dozen fixed strings
def math_text(text: str) -> Markup:
    """`{{ text|math }}`: the text escaped, its `$…$` as MathML, as in the notes."""
    return Markup(sanitize(mathml.render_text(text)[0]))


templates.env.filters["math"] = math_text
templates.env.globals.update(
    query_url=query_url, stars=stars, rating=rating, route_path=route_path,
    query_defaults=PaperQuery(),
    sweep_grids=sweep_grids, t=t, tr=tr, lang_url=lang_url, verdict=verdict,
    method_title=method_title, param_label=param_label, setting_label=setting_label,
    param_help_key=param_help_key, param_value=param_value,
)
