"""Search on SQLite through the FTS5 index (``unicode61 remove_diacritics 2``), bm25-ranked with
the title weighted 5× the body.

A query is answered in stages so the cost follows the page size, not the number of matches:
FTS5 ranks matching rowids by bm25 (filters applied inside as ``rowid IN`` an index-only
subquery, a big archive's rowid range split over threads), stories are collapsed over those
light rows, and only the rows shown are read in full and get a snippet.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine, Select, bindparam, column, func, literal_column, select, table, text
from sqlalchemy.exc import OperationalError

from storage import tuning
from storage.db import StorageError, is_sqlite, one_line
from storage.models import articles
from storage.records import row_to_record
from storage.search import sql
from storage.search.query import ParsedQuery, to_fts5
from storage.search.snippets import SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_OPEN, SNIPPET_WORDS
from storage.search.sql import COLUMNS, run, when

TITLE_WEIGHT, TEXT_WEIGHT = 5.0, 1.0
PARALLEL_MIN_ROWS = 20_000

_FTS = table("articles_fts", column("rowid"))
_UNINDEXED_ROWID = literal_column("+articles_fts.rowid")
_TIE_MARGIN = 32
_LIGHT = ("id", "rank", "when", "cluster_id", "cluster_rep")
_POOL_LOCK = threading.Lock()
_POOL: list = []
_LOOKASIDE: dict[Any, bool] = {}
_SCRATCH = threading.local()
_PROGRESS_STEPS = 20_000
"""SQLite virtual-machine steps between two looks at the clock (a few ms of work)."""
_UNTIL = "newswatch_search_until"


@contextlib.contextmanager
def deadline(conn, until: float | None = None) -> Iterator[float]:
    """Stop every statement on ``conn`` once :data:`storage.search.sql.SEARCH_DEADLINE_S` have
    passed (or at the monotonic time ``until``), with the one-line "search took too long".

    SQLite has no statement timeout; a progress handler that answers "stop" makes the running
    statement fail with ``interrupted``. The end time is kept in the connection's ``info`` so the
    ranking threads (each on its own connection) stop at the same moment.
    """
    end = until if until is not None else time.monotonic() + sql.SEARCH_DEADLINE_S
    raw = conn.connection.dbapi_connection
    raw.set_progress_handler(lambda: time.monotonic() > end, _PROGRESS_STEPS)
    conn.info[_UNTIL] = end
    try:
        yield end
    except OperationalError as exc:
        if "interrupted" in one_line(exc):
            raise sql.too_long() from None
        raise
    finally:
        conn.info.pop(_UNTIL, None)
        raw.set_progress_handler(None, 0)


def search_page(
    conn, parsed: ParsedQuery, filters, limit: int, offset: int, all_copies: bool, with_text: bool
) -> list[dict]:
    """One page of hits (or stories), in the order of :func:`reference_search`, read in stages."""
    match = to_fts5(parsed)
    wanted = limit + offset
    if wanted == 0:
        return []
    if all_copies:
        chosen = [h["id"] for h in _ranked(conn, match, filters, wanted)[offset:]]
    else:
        window = max(4 * wanted, 50)
        while True:
            hits = _ranked(conn, match, filters, window)
            stories = _collapse_ranked(hits)
            if len(stories) >= wanted or len(hits) < window:
                break
            window *= 4
        chosen = stories[offset:wanted]
    if not chosen:
        return []
    rows = _full_rows(conn, chosen, with_text)
    snippets = _snippets(conn, match, chosen)
    return [row_to_record(rows[shown], snippet=snippets.get(shown)) for shown in chosen]


def _ranked(conn, match: str, filters, k: int) -> list[dict[str, Any]]:
    """The top ``k`` matches as light rows (``id, rank, when, cluster_id, cluster_rep``), ordered
    by bm25, then newest, then highest id: exactly the reference order.

    FTS5 ranks rowids alone (no join before ranking); filters are an index-only ``rowid IN``
    subquery. On a big archive the rowid range is split into parts ranked at once on their own
    connections (see :func:`_rank_parts`). Rows tied on rank at the cut are all fetched (the
    limit grows until the tie ends), so the date/id tie-break below sees every contender; a
    margin of :data:`_TIE_MARGIN` rows covers the usual ties (word-for-word copies rank equal)
    without a second ranking pass.
    """
    parts = _rank_parts(conn)
    n = k + _TIE_MARGIN
    while True:
        ranked, complete = _rank_top(conn, match, filters, n, parts)
        if k == 0 or len(ranked) < k or complete(ranked[k - 1][1]):
            break
        n *= 4
    ranked.sort(key=itemgetter(0), reverse=True)
    ranked.sort(key=itemgetter(2), reverse=True)
    ranked.sort(key=itemgetter(1))
    return [dict(zip(_LIGHT, row, strict=True)) for row in ranked[:k]]


def _rank_top(conn, match: str, filters, n: int, parts: list[tuple[int, int]]):
    """The best ``n`` light rows of every part (the whole table when there are no parts; the
    first part in this thread, the others in the pool), merged by rank; and a test telling whether
    every row ranked at or better than a given rank is among them (a part that filled its ``n``
    may have left out rows tied with its last one)."""
    first, *others = parts or [None]
    until = conn.info.get(_UNTIL)
    futures = [
        _pool().submit(_rank_range_own, conn.engine, match, filters, n, bounds, until)
        for bounds in others
    ]
    results = [_rank_range(conn, match, filters, n, first), *(f.result() for f in futures)]
    lasts = [rows[-1][1] for rows in results if len(rows) >= n]
    ranked = sorted(itertools.chain.from_iterable(results), key=itemgetter(1))
    return ranked, lambda rank: all(last > rank for last in lasts)


def _rank_range(conn, match: str, filters, n: int, bounds: tuple[int, int] | None) -> list:
    return run(conn, light_statement(match, filters, n, bounds)).all()


def _rank_range_own(engine: Engine, match, filters, n, bounds, until: float | None) -> list:
    with engine.connect() as conn:
        if until is None:
            return _rank_range(conn, match, filters, n, bounds)
        with deadline(conn, until):
            return _rank_range(conn, match, filters, n, bounds)


def light_statement(match: str, filters, n: int, bounds: tuple[int, int] | None) -> Select:
    """The best ``n`` matches in ``bounds`` as light rows (:data:`_LIGHT`) ordered by rank: the
    ranking is a subquery with its limit, so only those rows are looked up in ``articles``."""
    stmt, rank = rank_statement(match, filters, bounds)
    top = stmt.order_by(rank).limit(n).subquery("top")
    a = articles.c
    return (
        select(top.c.id, top.c.rank, when().label("when"), a.cluster_id, a.cluster_rep)
        .join_from(top, articles, a.id == top.c.id)
        .order_by(top.c.rank)
    )


def rank_statement(
    match: str, filters, bounds: tuple[int, int] | None = None
) -> tuple[Select, Any]:
    """``SELECT rowid, bm25 … WHERE MATCH [AND rowid in bounds] [AND +rowid IN (filtered
    ids)]``, unordered."""
    rank = func.bm25(literal_column("articles_fts"), TITLE_WEIGHT, TEXT_WEIGHT).label("rank")
    stmt = (
        select(_FTS.c.rowid.label("id"), rank)
        .select_from(_FTS)
        .where(text("articles_fts MATCH :fts").bindparams(bindparam("fts", match)))
    )
    ids = select(articles.c.id).where(*filters)
    if bounds is not None:
        lo, hi = bounds
        stmt = stmt.where(_FTS.c.rowid >= lo, _FTS.c.rowid < hi)
        # "+id": the range is checked on the date index's entries, not read off the primary key.
        unindexed_id = literal_column("+articles.id")
        ids = ids.where(unindexed_id >= lo, unindexed_id < hi)
    if filters:
        # "+rowid": FTS5 would otherwise take "rowid IN" as a constraint and re-run the MATCH
        # once per id of the subquery (seconds); this way the ids form one in-memory set.
        stmt = stmt.where(_UNINDEXED_ROWID.in_(ids))
    return stmt, rank


def search_threads() -> int:
    """Threads one search may use on SQLite: ``NEWSWATCH_SEARCH_THREADS`` (through
    :mod:`storage.tuning`), else one per core up to four (1 turns parallel ranking off)."""
    return tuning.current().ranking_threads()


def ranking_threads(engine: Engine) -> int:
    """Threads a search of a big archive (≥ :data:`PARALLEL_MIN_ROWS` rows) ranks with here."""
    if not is_sqlite(engine):
        return 1
    with engine.connect() as conn:
        return search_threads() if _parallel(conn) else 1


def _parallel(conn) -> bool:
    """Whether this search may rank in several threads: more than one is allowed, and the
    SQLite library has lookaside memory. Without it (``OMIT_LOOKASIDE``, as Debian builds
    it) FTS5 takes a process-wide malloc mutex for every row, and two threads ranking at once
    were slower than one (measured: 8.2 → 9.0 ms for a query matching 10 % of 100k)."""
    if search_threads() <= 1:
        return False
    dbapi = conn.engine.dialect.dbapi
    if dbapi not in _LOOKASIDE:
        options = {row[0] for row in conn.exec_driver_sql("PRAGMA compile_options")}
        _LOOKASIDE[dbapi] = "OMIT_LOOKASIDE" not in options
    return _LOOKASIDE[dbapi]


def _rank_parts(conn) -> list[tuple[int, int]]:
    """Rowid ranges ``[lo, hi)`` ranked at once, one per thread; none on a small archive.

    bm25 costs ~0.6–1.4 µs per matching row, so a query matching a third of 100k articles spent
    ~25 ms in it on one core. FTS5 takes a rowid range as a seek, and bm25's statistics (idf,
    average length) are the whole table's whatever the range, so each part's ranks are exactly
    those one statement gives, and the parts' best rows merge into the same top rows. Each part
    pays the idf passes over every phrase's doclist (a few ms for a phrase of common words).
    """
    if not _parallel(conn):
        return []
    first = select(func.min(articles.c.id)).scalar_subquery()
    last = select(func.max(articles.c.id)).scalar_subquery()
    lo, hi = conn.execute(select(first, last)).one()
    if lo is None or hi - lo < PARALLEL_MIN_ROWS:
        return []
    threads = search_threads()
    step = (hi - lo + threads) // threads
    return [(lo + i * step, min(lo + (i + 1) * step, hi + 1)) for i in range(threads)]


def _pool() -> ThreadPoolExecutor:
    """The process's search threads (made again in a forked child)."""
    with _POOL_LOCK:
        if not _POOL or _POOL[0][0] != os.getpid():
            _POOL[:] = [(os.getpid(), ThreadPoolExecutor(16, thread_name_prefix="nw-search"))]
        return _POOL[0][1]


def _collapse_ranked(hits: list[dict[str, Any]]) -> list[int]:
    """The id shown for each story, in the rank of each story's best hit.

    As :func:`storage.clusters.collapse`: the representative is shown when it is among the hits
    (so filters still hold), else the best-ranked member; its snippet is its own.
    """
    groups: dict[Any, list[dict[str, Any]]] = {}
    for hit in hits:
        key = hit["cluster_id"] if hit["cluster_id"] is not None else ("article", hit["id"])
        groups.setdefault(key, []).append(hit)
    return [
        next((m for m in members if m["cluster_rep"]), members[0])["id"]
        for members in groups.values()
    ]


def _full_rows(conn, ids: list[int], with_text: bool) -> dict[int, Any]:
    cols = COLUMNS if with_text else [c for c in COLUMNS if c.name != "text"]
    rows = conn.execute(select(*cols).where(articles.c.id.in_(ids))).mappings()
    return {row["id"]: row if with_text else {**row, "text": None} for row in rows}


def _snippets(conn, match: str, ids: list[int]) -> dict[int, str]:
    """FTS5 snippets of the body for these rows only, from a scratch in-memory FTS5 table.

    A snippet needs a MATCH cursor on its row. On the archive's index that means walking every
    match of the query again (``rowid IN`` is only checked after FTS5 returns a row): ~5 ms for a
    query matching 10–35 % of 100k articles, a fifth of its time. FTS5 picks a snippet's window
    from the row's own phrase instances (no corpus statistics), so indexing just the shown rows
    in a private in-memory table with the same tokenizer gives the same snippets (the staged
    search is tested against the one-query reference) for ~1.7 ms.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    a = articles.c
    rows = conn.execute(select(a.id, a.title, a.text).where(a.id.in_(wanted))).all()
    scratch = _scratch_fts(conn)
    try:
        scratch.execute("BEGIN")
        scratch.executemany("INSERT INTO docs(id, title, text) VALUES (?, ?, ?)", rows)
        scratch.execute("INSERT INTO snip(rowid, title, text) SELECT id, title, text FROM docs")
        found = scratch.execute(
            "SELECT rowid, snippet(snip, 1, ?, ?, ?, ?) FROM snip WHERE snip MATCH ?",
            (SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_WORDS, match),
        ).fetchall()
    except Exception as exc:
        raise StorageError(f"search snippets failed: {one_line(exc)}") from None
    finally:
        if scratch.in_transaction:
            scratch.execute("ROLLBACK")
    return dict(found)


def _scratch_fts(conn):
    """This thread's in-memory ``snip(title, text)`` FTS5 table, tokenised as ``articles_fts``
    and opened with the engine's own DB-API module (the same SQLite library tokenises both).

    It indexes a ``docs`` table (external content), so the rows are dropped with the rollback
    that ends each use instead of being re-tokenised by a delete.
    """
    dbapi = conn.engine.dialect.dbapi
    cached = getattr(_SCRATCH, "conn", None)
    if cached is not None and cached[0] is dbapi:
        return cached[1]
    scratch = dbapi.connect(":memory:", isolation_level=None, check_same_thread=False)
    scratch.executescript(
        "CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, text TEXT);"
        "CREATE VIRTUAL TABLE snip USING fts5(title, text, content='docs', content_rowid='id',"
        " tokenize='unicode61 remove_diacritics 2');"
    )
    _SCRATCH.conn = (dbapi, scratch)
    return scratch


def reference_search(engine: Engine, parsed: ParsedQuery, filters, limit, offset) -> list[dict]:
    """The straightforward query (join, filter, rank, snippet every match): the reference that
    :func:`search_page` must agree with, kept for tests."""
    fts = literal_column("articles_fts")
    snippet = func.snippet(
        fts, 1, SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_WORDS
    ).label("snippet")
    rank = func.bm25(fts, TITLE_WEIGHT, TEXT_WEIGHT).label("rank")
    stmt = (
        select(*COLUMNS, snippet, rank)
        .select_from(articles.join(_FTS, _FTS.c.rowid == articles.c.id))
        .where(text("articles_fts MATCH :fts").bindparams(bindparam("fts", to_fts5(parsed))))
        .where(*filters)
        .order_by(rank, when().desc(), articles.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        rows = run(conn, stmt).mappings().all()
    return [row_to_record(row, snippet=row["snippet"]) for row in rows]
