"""Full-text search and export over stored articles — the read side used by the CLI and notebooks.

Usage from Python (e.g. a notebook)::

    from storage.search import search, export, get_article, write_records
    db = "sqlite:////home/me/.local/share/newswatch/newswatch.sqlite"   # or a bare file path
    hits = search(db, 'mision cortafuegos', since=datetime(2025, 12, 1, tzinfo=UTC), limit=10)
    for hit in hits:
        print(hit["published_at"], hit["source"], hit["title"], hit["snippet"])
    import pandas as pd
    df = pd.DataFrame(export(db, sources=["elimparcial"], languages=["es"]))
    with open("out.csv", "w", newline="") as fh:
        write_records(export(db, query='"Misión Cortafuegos"'), "csv", fh)

Query language (user input is untrusted; it is parsed here and only ever *bound* as a parameter):

- ``mision cortafuegos`` — all words must occur (AND), case- and accent-insensitive;
- ``"misión cortafuegos"`` — the exact phrase;
- ``fentanilo OR fentanyl`` — either word (``OR`` binds tighter than the implicit AND);
- ``NOT word`` — exclude articles containing ``word``;
- ``extradi*`` — prefix match (trailing ``*`` only).

Anything else (``-``, ``:``, ``^``, parentheses, column names) is plain text. A malformed query
raises :class:`QueryError` with a one-line message.

On SQLite, matching uses the FTS5 index (``unicode61 remove_diacritics 2``) with bm25 ranking, the
title weighted 5× the body. On PostgreSQL, the GIN-indexed ``search_tsv`` of migration 0005
(accent-folded, ``simple`` parser) with ``ts_rank``, the title weighted the same way.

Records are dicts with the stable keys of :data:`storage.records.RECORD_FIELDS`; times are
ISO 8601 strings in the offset the source published them in (``2025-12-11T09:15:00-07:00``).

Modules: :mod:`~storage.search.query` (the query language), :mod:`~storage.search.filters`,
:mod:`~storage.search.articles` (:func:`search`), :mod:`~storage.search.facets` (facet counts
and a date histogram for the web app), :mod:`~storage.search.sqlite` (FTS5) and
:mod:`~storage.search.postgres`, :mod:`~storage.search.posts`, :mod:`~storage.search.snippets`,
:mod:`~storage.search.output` (export, story, writing records). The accent fold is
:mod:`storage.textfold`.
"""

from storage.search.articles import search
from storage.search.facets import facets
from storage.search.filters import Analysis
from storage.search.output import FORMATS, export, get_article, story, write_records
from storage.search.posts import search_posts
from storage.search.query import (
    MAX_QUERY_LENGTH,
    ParsedQuery,
    QueryError,
    Term,
    parse_query,
    to_fts5,
)
from storage.search.sqlite import ranking_threads, search_threads

__all__ = [
    "FORMATS",
    "MAX_QUERY_LENGTH",
    "Analysis",
    "ParsedQuery",
    "QueryError",
    "Term",
    "export",
    "facets",
    "get_article",
    "parse_query",
    "ranking_threads",
    "search",
    "search_posts",
    "search_threads",
    "story",
    "to_fts5",
    "write_records",
]
