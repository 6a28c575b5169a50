"""SQL pieces every search path shares: which columns a record reads, which date orders it, and
how a failed statement is reported."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from storage.db import StorageError, one_line
from storage.models import article_time, article_versions, articles
from storage.search.query import QueryError

SEARCH_DEADLINE_S = 20.0
"""Seconds one search may run before it is stopped with "search took too long": a query the
term cap lets through can still be slow on a big archive, and a stuck search holds a reader
(and, from the daemon, a worker) with nobody waiting for the answer."""
_TOO_LONG = ("interrupted", "statement timeout", "canceling statement")

VERSIONS = (
    select(func.count() + 1)
    .where(article_versions.c.article_id == articles.c.id)
    .scalar_subquery()
    .label("versions")
)
"""How many versions an article has (1: never changed), from the version index."""
COLUMNS = [c for c in articles.c if c.name not in ("raw_html", "minhash")] + [VERSIONS]
"""An article record's columns: the stored page and the signature are never part of one."""


def when() -> Any:
    """An article's time for filters and ordering (:data:`storage.types.ARTICLE_TIME`)."""
    return article_time()


def run(conn, stmt) -> Any:
    """Execute ``stmt``; a query the search engine rejects is the user's :class:`QueryError`,
    anything else a :class:`StorageError`."""
    try:
        return conn.execute(stmt)
    except OperationalError as exc:
        message = one_line(exc)
        if any(mark in message for mark in _TOO_LONG):
            raise too_long() from None
        if "fts5" in message or "syntax error" in message or "MATCH" in message:
            raise QueryError(f"search engine rejected the query: {message}") from None
        raise StorageError(f"search failed: {message}") from None


def too_long() -> QueryError:
    """The one-line error of a search stopped at its deadline."""
    return QueryError(f"search took too long (more than {SEARCH_DEADLINE_S:g} s): use fewer terms")
