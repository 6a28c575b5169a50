"""The HTML pages: search, story, article, sources.

Pages call the same library functions as the CLI (:func:`storage.search.search`,
:func:`storage.search.story`, :func:`scheduler.status.gather_status`) and render their records;
a bad query or filter is the CLI's one-line message on a 400 page, never a 500. With the
``HX-Request`` header (htmx, results as you type) the search answers only its results fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from crawler.config import Config, ConfigError, load_config
from scheduler.cli.common import UsageError, parse_when
from scheduler.status import gather_status
from scheduler.web import i18n, render
from scheduler.web.results import FACETS_POOL, newest_stories, search_facets
from scheduler.web.versions import article_history
from storage.db import StorageError, get_engine
from storage.search import Analysis, QueryError, get_article, parse_query, search, story
from storage.search.activity import article_extra, daily_counts
from storage.textfold import fold
from storage.versions import change_summary

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 500
"""Deep pages cost the search a window of ``page × size`` hits; nobody reads page 500."""


def _lang(request: Request) -> str:
    return i18n.pick_language(
        request.query_params.get("lang_ui"), request.headers.get("accept-language")
    )


def _render(
    request: Request, name: str, lang: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A template with the helpers every page uses: ``t`` (interface text), ``when`` (dates),
    ``lang`` and the same URL in the other language."""
    other = "en" if lang == "es" else "es"
    switch = request.url.include_query_params(lang_ui=other)
    helpers: dict[str, Callable[..., Any]] = {
        "t": partial(i18n.translate, lang),
        "when": partial(i18n.format_datetime, lang),
        "plural": partial(i18n.plural, lang),
        "field": partial(i18n.field_label, lang),
    }
    return request.app.state.templates.TemplateResponse(
        request,
        name,
        {"lang": lang, "switch_url": str(switch.path) + "?" + switch.query, **helpers, **context},
        status_code=status,
    )


def _error(request: Request, lang: str, status: int, title: str, message: str) -> HTMLResponse:
    return _render(request, "error.html", lang, status, title=title, message=message)


def search_params(request: Request) -> dict[str, Any]:
    """Every filter of the search as found in the URL (repeatable ones as lists)."""
    qp = request.query_params
    params: dict[str, Any] = {
        k: [v for v in qp.getlist(k) if v.strip()] for k in render.FILTER_KEYS
    }
    for key in render.SINGLE_KEYS:
        value = (qp.get(key) or "").strip()
        params[key] = value or None
    if params["relevant"] not in (None, "true"):
        params["relevant"] = None
    if params["all"] not in (None, "1"):
        params["all"] = "1"
    return params


def _page_number(value: str | None) -> int:
    if value is None:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise UsageError(f"page: {value!r} is not a page number from 1 to {MAX_PAGE}")
    return int(value)


@router.get("/", response_class=HTMLResponse)
@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    """Search with every filter in the URL; the newest stories when nothing is asked."""
    lang = _lang(request)
    params = search_params(request)
    fragment = request.headers.get("hx-request") == "true"
    context: dict[str, Any] = {"params": params, "render": render, "fragment": fragment}
    status = 200
    try:
        context.update(_run_search(request.app.state.web.db_url, params))
    except (QueryError, UsageError, ValueError) as exc:
        status, context["error"] = 400, str(exc).splitlines()[0] if str(exc) else "?"
    except StorageError as exc:
        status, context["error"] = 503, str(exc).splitlines()[0]
    if not fragment:
        return _render(request, "search.html", lang, status, **context)
    response = _render(request, "_results.html", lang, status, **context)
    # htmx pushes the form's URL as sent (empty dates, %20); push the canonical one instead.
    response.headers["HX-Push-Url"] = render.search_url(params)
    return response


def _run_search(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Results, facets and the histogram for the filters in ``params``."""
    page = _page_number(params["page"])
    since, until = parse_when(params["since"], "since"), parse_when(params["until"], "until")
    analysis = Analysis(
        topics=tuple(params["topic"]),
        entities=tuple(params["entity"]),
        relevant=params["relevant"] == "true",
    )
    query = params["q"]
    scope = {
        "since": since,
        "until": until,
        "sources": params["source"] or None,
        "languages": params["lang"] or None,
    }
    offset = (page - 1) * PAGE_SIZE
    counting = FACETS_POOL.submit(search_facets, url, query, analysis=analysis, **scope)
    if query is None and not analysis:
        hits = newest_stories(url, limit=PAGE_SIZE + 1, offset=offset, **scope)
    else:
        hits = search(
            url, query, **scope, analysis=analysis, limit=PAGE_SIZE + 1, offset=offset,
            all_copies=params["all"] == "1", with_text=False,
        )  # fmt: skip
    facets = counting.result()
    return {
        "hits": hits[:PAGE_SIZE],
        "page": page,
        "has_next": len(hits) > PAGE_SIZE,
        "facets": facets,
        "bars": render.histogram_bars(facets.get("histogram"), params),
    }


def _terms(query: str | None) -> list:
    if not query:
        return []
    try:
        return parse_query(query).terms()
    except QueryError:
        return []


@router.get("/stories/{ident}", response_class=HTMLResponse)
def story_page(request: Request, ident: int) -> HTMLResponse:
    """A story's copies on a timeline, the representative's text highlighted, its posts."""
    lang = _lang(request)
    copies = story(request.app.state.web.db_url, ident)
    if not copies:
        return _error(request, lang, 404, "not_found", i18n.translate(lang, "no_story", id=ident))
    rep = next((c for c in copies if c.get("representative")), copies[0])
    query = request.query_params.get("q")
    names = [e.get("name") for e in rep.get("entities") or [] if isinstance(e, dict)]
    text = render.highlight(rep.get("text"), _terms(query), [n for n in names if n])
    edits = change_summary(get_engine(request.app.state.web.db_url), [c["id"] for c in copies])
    return _render(
        request, "story.html", lang, copies=copies, rep=rep, query=query,
        paragraphs=render.paragraphs(text), posts=_story_posts(copies), edits=edits,
    )  # fmt: skip


def _story_posts(copies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The embedded posts of all copies, each once: copies embed the same post, its text cut
    or its link written differently, so a post is known by platform, author and opening words."""
    posts, seen = [], set()
    for copy in copies:
        for post in copy.get("posts") or []:
            if not isinstance(post, dict):
                continue
            words = " ".join(fold(post.get("text") or "").split()[:12])
            key = (post.get("platform"), (post.get("handle") or post.get("author") or ""), words)
            if key not in seen:
                seen.add(key)
                posts.append(post)
    return posts


@router.get("/articles/{ident}", response_class=HTMLResponse)
def article_page(request: Request, ident: int) -> HTMLResponse:
    """One article with its dates, analysis and the terms that produced it."""
    lang = _lang(request)
    url = request.app.state.web.db_url
    record = get_article(url, ident)
    if record is None:
        return _error(request, lang, 404, "not_found", i18n.translate(lang, "no_story", id=ident))
    extra = article_extra(url, ident) or {}
    names = [e.get("name") for e in record.get("entities") or [] if isinstance(e, dict)]
    text = render.highlight(record.get("text"), [], [n for n in names if n])
    return _render(
        request, "article.html", lang, a=record, extra=extra, paragraphs=render.paragraphs(text),
        history=article_history(url, ident),
    )  # fmt: skip


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request) -> HTMLResponse:
    """Every source's health: failing ones first, then by name, with 30 days of activity."""
    lang = _lang(request)
    web = request.app.state.web
    try:
        cfg = load_config(web.config_path) if web.config_path else Config(None)
    except ConfigError as exc:
        return _error(request, lang, 500, "sources", str(exc).splitlines()[0])
    status = gather_status(cfg, web.db_url)
    rows = sorted(status["sources"], key=lambda s: (not s["failing"], s["name"]))
    counts = daily_counts(web.db_url, 30)
    for row in rows:
        row["spark"] = render.sparkline(counts.get(row["name"], [0] * 30))
        row["per_day"] = counts.get(row["name"], [0] * 30)
    waiting = [
        (rule, c)
        for rule, c in (status.get("alerts") or {}).items()
        if c["pending"] or c["failing"]
    ]
    alerts = sorted(waiting, key=lambda item: (not item[1]["failing"], item[0]))
    return _render(request, "sources.html", lang, sources=rows, render=render, alerts=alerts)
