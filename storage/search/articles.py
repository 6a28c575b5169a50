"""Searching articles: :func:`search` picks the path for the database and the query, collapses
hits into stories and adds what the caller asked for (cluster size, explanations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from storage import clusters
from storage.db import get_engine, is_sqlite
from storage.models import articles
from storage.records import row_to_record
from storage.search import sqlite
from storage.search.filters import (
    Analysis,
    Backend,
    analysis_filters,
    python_filtered,
    row_filters,
)
from storage.search.postgres import search_postgres
from storage.search.query import ParsedQuery, QueryError, check_page, parse_query
from storage.search.snippets import py_snippet, snippets_now
from storage.search.sql import COLUMNS, run, when


def search(
    url: str,
    query: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: list[str] | None = None,
    languages: list[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    all_copies: bool = False,
    analysis: Analysis | None = None,
    explain: bool = False,
    with_text: bool = True,
    id_range: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Best matches first, each record with a plain-text ``snippet`` (matches in «…»).

    By default one record per story cluster (see :func:`storage.clusters.collapse`: the
    representative when it matches, title, URL, dates and snippet all its own), ranked by the
    cluster's best hit; ``all_copies=True`` lists every matching article. Every record carries
    ``copies`` and ``outlets`` of its whole cluster.

    ``query`` may be None when ``analysis`` filters are given: the matching articles are then
    listed most relevant first. ``explain=True`` adds ``matched`` (per topic, the matched terms
    with counts) to each record. ``with_text=False`` leaves ``text`` None (a table of titles and
    snippets does not need the bodies). A query on SQLite takes the staged FTS5 path of
    :mod:`storage.search.sqlite`, whose cost follows the page size, not the number of matches.
    ``id_range=(after, upto)`` keeps articles stored in that id window (alerts read what was
    stored since their last look this way, with the same query language and filters).
    """
    analysis = analysis or Analysis()
    parsed = _parse(query, analysis)
    check_page(limit, offset)
    engine = get_engine(url)
    filters = row_filters(since, until, sources, languages) + analysis_filters(engine, analysis)
    if id_range is not None:
        filters += [articles.c.id > id_range[0], articles.c.id <= id_range[1]]
    if parsed is not None and is_sqlite(engine):
        with engine.connect() as conn, sqlite.deadline(conn):
            page = sqlite.search_page(conn, parsed, filters, limit, offset, all_copies, with_text)
            return _explained(conn, clusters.annotate(conn, page), explain)
    backend = _backend(engine, parsed, analysis)
    return _windowed_page(engine, backend, parsed, filters, limit, offset, all_copies, explain)


def _parse(query: str | None, analysis: Analysis) -> ParsedQuery | None:
    """The parsed query, or None for a listing by analysis filters alone (no words given)."""
    if query is None or (not query.strip() and analysis):
        if not analysis:
            raise QueryError('empty query: give one or more words, or a "quoted phrase"')
        return None
    return parse_query(query)


def _backend(engine: Engine, parsed: ParsedQuery | None, analysis: Analysis) -> Backend:
    """The search for everything but a query on SQLite: a listing, or PostgreSQL's full text;
    off SQLite, topic and entity filters are applied to its records in Python."""
    backend: Backend = _browse if parsed is None else search_postgres
    if not is_sqlite(engine) and analysis.needs_python:
        backend = python_filtered(backend, analysis)
    return backend


def _windowed_page(
    engine: Engine,
    backend: Backend,
    parsed: ParsedQuery | None,
    filters: list,
    limit: int,
    offset: int,
    all_copies: bool,
    explain: bool,
) -> list[dict[str, Any]]:
    """One page of full records from ``backend``; stories are collapsed over a window of hits
    that grows until it holds the page (or every hit)."""
    if all_copies:
        hits = backend(engine, parsed, filters, limit, offset)
        with engine.connect() as conn:
            return _explained(conn, snippets_now(clusters.annotate(conn, hits)), explain)
    window = max(4 * (limit + offset), 50)
    while True:
        hits = backend(engine, parsed, filters, window, 0)
        with engine.connect() as conn:
            stories = clusters.collapse(conn, hits)
            if len(stories) >= limit + offset or len(hits) < window:
                page = clusters.annotate(conn, stories[offset : offset + limit])
                return _explained(conn, snippets_now(page), explain)
        window *= 4


def _explained(conn, records: list[dict[str, Any]], explain: bool) -> list[dict[str, Any]]:
    """Add ``matched`` (per topic, terms with counts) to records when asked to explain."""
    if not explain or not records:
        return records
    ids = [r["id"] for r in records]
    rows = conn.execute(select(articles.c.id, articles.c.matched).where(articles.c.id.in_(ids)))
    matched = dict(rows.all())
    for record in records:
        record["matched"] = matched.get(record["id"]) or {}
    return records


def _browse(engine: Engine, parsed, filters, limit, offset) -> list[dict]:
    """No query, only filters: most relevant first, then newest."""
    a = articles.c
    stmt = (
        select(*COLUMNS)
        .where(*filters)
        .order_by(a.relevance.is_(None), a.relevance.desc(), when().desc(), a.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        rows = run(conn, stmt).mappings().all()
    return [row_to_record(row, snippet=py_snippet(row["text"] or "", [])) for row in rows]
