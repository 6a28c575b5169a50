"""Searching embedded posts (author, handle, text) instead of article bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, bindparam, column, func, literal_column, select, table, text

from storage.db import get_engine, is_sqlite
from storage.models import articles, posts
from storage.records import iso, join_offset
from storage.search.filters import row_filters
from storage.search.postgres import POSTS_TSV, pg_condition, pg_query
from storage.search.query import ParsedQuery, Term, check_page, parse_query, to_fts5
from storage.search.snippets import (
    SNIPPET_CLOSE,
    SNIPPET_ELLIPSIS,
    SNIPPET_OPEN,
    SNIPPET_WORDS,
    py_snippet,
)
from storage.search.sql import run, when

_POSTS_FTS = table("posts_fts", column("rowid"))


def search_posts(
    url: str,
    query: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: list[str] | None = None,
    languages: list[str] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Search embedded posts (author, handle, text) instead of article bodies, best first.

    Each record: ``platform, author, handle, date, url, text, snippet`` of the post, plus its
    article's ``article_id, article_url, article_title, source, published_at``. Date filters
    apply to the article. Same query language and accent folding as
    :func:`storage.search.search`.
    """
    parsed = parse_query(query)
    check_page(limit, offset)
    engine = get_engine(url)
    filters = row_filters(since, until, sources, languages)
    stmt = _posts_statement(engine, parsed).where(*filters).limit(limit).offset(offset)
    with engine.connect() as conn:
        rows = run(conn, stmt).mappings().all()
    terms = parsed.terms()
    return [_post_record(row, terms) for row in rows]


def _posts_statement(engine: Engine, parsed: ParsedQuery) -> Select:
    """Matching posts joined to their articles, best first: FTS5 (with its snippet) on SQLite,
    the posts' ``search_tsv`` on PostgreSQL."""
    p, a = posts.c, articles.c
    cols = [
        p.id.label("post_id"), p.platform, p.author, p.handle, p.date, p.url, p.text,
        a.id.label("article_id"), a.url.label("article_url"), a.title.label("article_title"),
        a.source, a.published_at, a.published_offset,
    ]  # fmt: skip
    joined = posts.join(articles, a.id == p.article_id)
    if not is_sqlite(engine):
        rank = func.ts_rank(POSTS_TSV, pg_query(parsed), 1)
        return (
            select(*cols)
            .select_from(joined)
            .where(pg_condition(parsed, POSTS_TSV))
            .order_by(rank.desc(), when().desc(), p.id)
        )
    fts = literal_column("posts_fts")
    snippet = func.snippet(fts, 2, SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_WORDS)
    return (
        select(*cols, snippet.label("snippet"))
        .select_from(joined.join(_POSTS_FTS, _POSTS_FTS.c.rowid == p.id))
        .where(text("posts_fts MATCH :fts").bindparams(bindparam("fts", to_fts5(parsed))))
        .order_by(func.bm25(fts), when().desc(), p.id)
    )


def _post_record(row: Any, terms: list[Term]) -> dict[str, Any]:
    """A post search result; the snippet is made in Python where the database gave none."""
    snip = row.get("snippet") if "snippet" in row else None
    return {
        "post_id": row["post_id"],
        "platform": row["platform"],
        "author": row["author"],
        "handle": row["handle"],
        "date": row["date"],
        "url": row["url"],
        "text": row["text"],
        "snippet": snip if snip is not None else py_snippet(row["text"] or "", terms),
        "article_id": row["article_id"],
        "article_url": row["article_url"],
        "article_title": row["article_title"],
        "source": row["source"],
        "published_at": iso(join_offset(row["published_at"], row["published_offset"])),
    }
