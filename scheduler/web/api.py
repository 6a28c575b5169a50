"""The JSON API under ``/api/v1/``: the CLI's reads over HTTP, with the export's field names.

Every parameter goes through the CLI's own checks (:func:`scheduler.filters.parse_when`,
:mod:`scheduler.filters`) and the storage layer's query parser, so a bad value gets the same
one-line message as on the command line, as ``{"error": ...}`` with status 400 (see
:func:`install_error_handlers`). Reads only: nothing here writes to the database.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from crawler.config import ConfigError, load_config
from crawler.settings import SettingsError
from scheduler.filters import (
    UsageError,
    check_languages,
    check_sources,
    check_topics,
    parse_when,
    resolve_entities,
)
from scheduler.web.results import FACETS_POOL
from storage.db import StorageError, get_engine, one_line
from storage.search import Analysis, QueryError, export, facets, get_article, search, story
from storage.search import write_records as write_records_to
from storage.store import Store
from storage.versions import LISTED_FIELDS, diff_pieces, diff_record, history

router = APIRouter(tags=["api"])
MAX_ID = 2**63 - 1
"""The largest id a database holds: a larger one names nothing (404, not an overflow)."""
MAX_LIMIT = 100
MAX_OFFSET = 10_000
"""Results a page may skip: collapsing stories past it means ranking ever more matches, a cost
no reader paging through results asks for (a query string is free to write)."""
MAX_PARAM = 1000
"""Characters of any one parameter (a query has its own, equal, limit in the parser)."""
EXPORT_BATCH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RAW_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


class NotFound(Exception):
    """An id that names nothing: 404."""


@dataclass(frozen=True)
class Filters:
    """The filters every reading endpoint shares, checked, as storage's keyword arguments."""

    q: str | None
    since: datetime | None
    until: datetime | None
    sources: list[str] | None
    languages: list[str] | None
    analysis: Analysis

    def window(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "sources": self.sources,
            "languages": self.languages,
            "analysis": self.analysis,
        }


def _db(request: Request) -> str:
    return request.app.state.web.db_url


def _plain(name: str, values: list[str]) -> list[str]:
    """Refuse control characters (a NUL cannot be bound on PostgreSQL) and huge values."""
    for value in values:
        if len(value) > MAX_PARAM:
            raise UsageError(f"{name}: too long ({len(value)} characters; at most {MAX_PARAM})")
        if name != "q" and _CONTROL.search(value):
            raise UsageError(f"{name}: contains control characters")
    return values


def filters(
    request: Request,
    q: Annotated[str | None, Query(description='Query: words, "phrases", OR, NOT, pre*')] = None,
    since: Annotated[str | None, Query(description="2025-12-01, an ISO time or an age: 7d")] = None,
    until: Annotated[
        str | None, Query(description="Before this time (same forms as since)")
    ] = None,
    source: Annotated[list[str] | None, Query(description="Source name (repeatable)")] = None,
    lang: Annotated[
        list[str] | None, Query(description="Language code: es, en (repeatable)")
    ] = None,
    topic: Annotated[list[str] | None, Query(description="Topic (repeatable: all)")] = None,
    entity: Annotated[list[str] | None, Query(description="Entity id or name (repeatable)")] = None,
    relevant: Annotated[bool, Query(description="Only relevant articles")] = False,
    min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
) -> Filters:
    """The shared filters, checked as the CLI checks its flags."""
    for name, values in (("q", [q or ""]), ("since", [since or ""]), ("until", [until or ""])):
        _plain(name, values)
    for name, values in (("source", source), ("lang", lang), ("topic", topic), ("entity", entity)):
        _plain(name, values or [])
    check_languages(lang)
    _check_sources(request, source)
    check_topics(topic)
    analysis = Analysis(
        topics=tuple(topic or ()),
        entities=tuple(resolve_entities(entity)),
        min_score=min_score,
        relevant=relevant,
    )
    return Filters(
        q=q if q and q.strip() else None,
        since=parse_when(since or None, "since"),
        until=parse_when(until or None, "until"),
        sources=source or None,
        languages=lang or None,
        analysis=analysis,
    )


FiltersDep = Annotated[Filters, Depends(filters)]
_KNOWN_SOURCES: dict[str, set[str]] = {}


def _check_sources(request: Request, names: list[str] | None) -> None:
    """:func:`scheduler.filters.check_sources`, skipped for names it has already accepted
    for this database (it opens the database and reads every source's state: a few ms a
    search). A source is never removed, so an accepted name stays valid."""
    url = _db(request)
    known = _KNOWN_SOURCES.setdefault(url, set())
    if not names or set(names) <= known:
        return
    check_sources(names, url, request.app.state.web.config_path)
    known.update(names)


@router.get("/search")
def search_endpoint(
    request: Request,
    f: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int | None, Query(ge=0)] = None,
    page: Annotated[int | None, Query(ge=1)] = None,
    all_copies: bool = False,
    with_facets: Annotated[bool, Query(alias="facets")] = True,
) -> dict[str, Any]:
    """Best matches first, one record per story (``all_copies`` lists every copy), each with
    a ``snippet`` (matches in «»); with ``facets`` (default) the counts and date histogram of
    :func:`storage.search.facets`. Without ``q``, a filter (topic, entity, relevant,
    min_score) lists the most relevant articles. ``text`` is left out (see ``/articles/{id}``)."""
    if f.q is None and not f.analysis:
        raise UsageError("give a query (q), or filter with topic, entity, min_score or relevant")
    start = offset if offset is not None else ((page or 1) - 1) * limit
    if start > MAX_OFFSET:
        raise UsageError(
            f"page too deep: at most {MAX_OFFSET} results are skipped; narrow the search"
        )
    url = _db(request)
    counting = FACETS_POOL.submit(facets, url, f.q, **f.window()) if with_facets else None
    try:
        results = search(
            url, f.q, **f.window(), limit=limit, offset=start, all_copies=all_copies,
            with_text=False,
        )  # fmt: skip
    finally:
        counts = counting.result() if counting is not None else None
    for record in results:
        record["text"] = None  # the same on every database (PostgreSQL's path reads it anyway)
    body: dict[str, Any] = {
        "query": f.q,
        "limit": limit,
        "offset": start,
        "page": start // limit + 1,
        "results": results,
    }
    if counts is not None:
        body["facets"] = counts
    return body


def _id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFound(f"no article or story with id {value}")
    return value


@router.get("/stories/{ident}")
def story_endpoint(request: Request, ident: int) -> dict[str, Any]:
    """One story: ``ident`` is a cluster id or any member's id; its copies earliest first, the
    representative marked."""
    records = story(_db(request), _id(ident))
    if not records:
        raise NotFound(f"no article or story with id {ident}")
    return {"cluster_id": records[0].get("cluster_id"), "copies": records}


@router.get("/articles/{ident}")
def article_endpoint(request: Request, ident: int) -> dict[str, Any]:
    """One stored article as an export record."""
    record = get_article(_db(request), _id(ident))
    if record is None:
        raise NotFound(f"no article with id {ident}")
    return record


VERSION_FIELDS = (
    *LISTED_FIELDS, "authors", "published_at", "updated_at", "description", "text",
)  # fmt: skip


@router.get("/articles/{ident}/versions")
def versions_endpoint(
    request: Request,
    ident: int,
    diff: Annotated[
        int | None, Query(ge=1, description="What changed from version N to N+1")
    ] = None,
) -> dict[str, Any]:
    """Every version of an article, oldest first, the current one last, each with its full
    text (what ``newswatch history --format json`` lists, plus the text); with ``diff=N`` the
    word diff from version N to N+1 instead: per field the ``[-removed-]{+added+}`` form
    (``diff``) and the pieces (``pieces``: ``["=", kept]``, ``["-", removed]``, ``["+", added]``)."""
    versions = history(get_engine(_db(request)), _id(ident))
    if versions is None:
        raise NotFound(f"no article with id {ident}")
    current = versions[-1]
    head = {"id": ident, "source": current["source"], "url": current["url"]}
    if diff is not None:
        try:
            record = diff_record(versions, diff)
        except ValueError as exc:
            raise UsageError(f"diff {exc}") from None
        pieces = diff_pieces(versions[diff - 1], versions[diff])
        record["pieces"] = {name: [list(p) for p in parts] for name, parts in pieces.items()}
        return head | record
    listed = [{key: v.get(key) for key in VERSION_FIELDS} for v in versions]
    return head | {"withdrawn_at": current["withdrawn_at"], "versions": listed}


@router.get("/articles/{ident}/raw", response_class=Response)
def article_raw(request: Request, ident: int) -> Response:
    """The page as fetched, as text/plain in a sandbox: it is evidence, never a page to run."""
    with Store(_db(request)) as store:
        raw = store.raw_html(_id(ident))
    if raw is None:
        raise NotFound(f"no stored page for article {ident}")
    return Response(raw, media_type="text/plain; charset=utf-8", headers=RAW_HEADERS)


@router.get("/sources")
def sources_endpoint(request: Request) -> list[dict[str, Any]]:
    """Every source configured or known to the database, as ``newswatch status`` reports it
    (state, failures, last error, articles in the last 24 hours and 7 days)."""
    rows = _status(request)["sources"]
    for row in rows:
        for key in ("articles_total", "articles_24h", "articles_7d"):
            row.setdefault(key, 0)
    return jsonable_encoder(rows)


@router.get("/status")
def status_endpoint(request: Request) -> dict[str, Any]:
    """What ``newswatch status --format json`` prints: daemon, database, sources and alerts."""
    return jsonable_encoder(_status(request))


def _status(request: Request) -> dict[str, Any]:
    from scheduler.status import gather_status

    return gather_status(load_config(request.app.state.web.config_path), _db(request))


@router.get("/export")
def export_endpoint(
    request: Request,
    f: FiltersDep,
    fmt: Annotated[str, Query(alias="format", pattern="^(jsonl|csv)$")] = "jsonl",
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> StreamingResponse:
    """Every matching record, newest first, streamed as JSON Lines or CSV (the export's
    fields); rows are read and written in batches, never the whole corpus at once."""
    records = export(_db(request), query=f.q, **f.window(), limit=limit)
    first = next(records, None)  # a bad query fails here, as a 400, not mid-stream
    chunks = _chunks(itertools.chain([first] if first else [], records), fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    name = f"newswatch-export.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(chunks, media_type=media, headers=headers)


def _chunks(records: Iterator[dict[str, Any]], fmt: str) -> Iterator[str]:
    """:func:`storage.search.write_records` batch by batch; in CSV, only the first batch keeps
    its header line (field names hold no line breaks)."""
    first = True
    while True:
        batch = list(itertools.islice(records, EXPORT_BATCH))
        if not batch and not first:
            return
        buf = io.StringIO()
        write_records_to(batch, fmt, buf)
        text = buf.getvalue()
        if fmt == "csv" and not first:
            text = text.split("\n", 1)[1] if "\n" in text else ""
        yield text
        if not batch:
            return
        first = False


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": one_line(message)[:500]}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Errors as ``{"error": "<one line>"}``: 400 for what the caller can fix (the CLI's
    messages), 404 for an unknown id, 503 when the database fails; never a traceback."""

    async def bad(_: Request, exc: Exception) -> JSONResponse:
        return _error(400, str(exc))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return _error(400, f"{where}: {first.get('msg', 'invalid value')}")

    async def missing(_: Request, exc: Exception) -> JSONResponse:
        return _error(404, str(exc))

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not request.url.path.startswith("/api/"):
            return PlainTextResponse(str(exc.detail), exc.status_code, headers=exc.headers)
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=exc.headers)

    async def database(_: Request, exc: Exception) -> JSONResponse:
        return _error(503, f"database error: {one_line(exc)}")

    for kind in (UsageError, QueryError, ConfigError, SettingsError, ValueError):
        app.add_exception_handler(kind, bad)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(NotFound, missing)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(StorageError, database)
    app.add_exception_handler(SQLAlchemyError, database)
