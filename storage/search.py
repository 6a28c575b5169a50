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
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any, TextIO

from sqlalchemy import (
    Engine,
    Select,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.exc import OperationalError

from storage import clusters
from storage.db import StorageError, get_engine, is_sqlite, one_line
from storage.models import articles, posts
from storage.records import RECORD_FIELDS, iso, join_offset, row_to_record, to_utc

MAX_QUERY_LENGTH = 1000
SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS = "«", "»", "…"
SNIPPET_WORDS = 24
TITLE_WEIGHT, TEXT_WEIGHT = 5.0, 1.0
FORMATS = ("json", "jsonl", "csv")

_FTS = table("articles_fts", column("rowid"))
_POSTS_FTS = table("posts_fts", column("rowid"))
_UNINDEXED_ROWID = literal_column("+articles_fts.rowid")
_TIE_MARGIN = 32
_COLUMNS = [c for c in articles.c if c.name not in ("raw_html", "minhash")]
_OPERATORS = {"AND", "OR", "NOT"}
_TOKEN = re.compile(r'"([^"]*)"|([^\s"]+)')
_WORD = re.compile(r"\w+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class QueryError(ValueError):
    """A search query that cannot be run, explained in one line."""


@dataclass(frozen=True, slots=True)
class Term:
    """One searchable unit: a word, a phrase, or a prefix."""

    text: str
    phrase: bool = False
    prefix: bool = False

    def words(self) -> list[str]:
        return _WORD.findall(fold(self.text))


@dataclass(slots=True)
class ParsedQuery:
    """AND of ``groups`` (each an OR of terms), minus any article matching a ``negative`` term."""

    groups: list[list[Term]] = field(default_factory=list)
    negatives: list[Term] = field(default_factory=list)


def fold(value: str) -> str:
    """Lower-case and strip accents one character at a time (length-preserving)."""
    return value.translate(_FOLD_TABLE)


def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFKD", char)[:1] or char
    lowered = base.lower()
    return lowered[:1] if lowered else base


class _FoldTable(dict):
    """``str.translate`` table filled on first sight of each character: folding a 3 KB body
    character by character in Python took ~2.8 ms, a snippet per result row on PostgreSQL."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < 65536:
            self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def parse_query(query: str) -> ParsedQuery:
    """Parse user input into terms; raise :class:`QueryError` for anything malformed."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"query is too long ({len(query)} characters; at most {MAX_QUERY_LENGTH})")
    if _CONTROL.search(query):
        raise QueryError("query contains control characters")
    if not query.strip():
        raise QueryError('empty query: give one or more words, or a "quoted phrase"')
    if query.count('"') % 2:
        raise QueryError('unbalanced quote: close the phrase with a second "')
    parsed = ParsedQuery()
    pending: str | None = None
    for match in _TOKEN.finditer(query):
        phrase, word = match.group(1), match.group(2)
        if word in _OPERATORS:
            if pending is not None or (word in ("AND", "OR") and not parsed.groups):
                raise QueryError(f"{word} needs a word or phrase on each side")
            pending = word
            continue
        term = _term(phrase, word)
        if term is None:
            continue
        if pending == "NOT":
            parsed.negatives.append(term)
        elif pending == "OR":
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        pending = None
    if pending is not None:
        raise QueryError(f"query ends with {pending}: add a word or phrase after it")
    if not parsed.groups:
        if parsed.negatives:
            raise QueryError("NOT only excludes: add a word or phrase to search for")
        raise QueryError("query has no searchable words")
    return parsed


def _term(phrase: str | None, word: str | None) -> Term | None:
    if phrase is not None:
        if not _WORD.search(phrase):
            raise QueryError(f'phrase "{phrase}" has no searchable words')
        return Term(" ".join(phrase.split()), phrase=True)
    assert word is not None
    prefix = word.endswith("*")
    stem = word.rstrip("*")
    if not _WORD.search(stem):
        return None
    return Term(stem, prefix=prefix)


def to_fts5(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH expression; every term is a quoted string, so nothing in it is syntax."""

    def atom(term: Term) -> str:
        quoted = '"' + term.text.replace('"', '""') + '"'
        return quoted + "*" if term.prefix else quoted

    def group(terms: list[Term]) -> str:
        return atom(terms[0]) if len(terms) == 1 else "(" + " OR ".join(map(atom, terms)) + ")"

    positive = " AND ".join(group(g) for g in parsed.groups)
    if not parsed.negatives:
        return positive
    return f"({positive}) NOT ({' OR '.join(atom(t) for t in parsed.negatives)})"


@dataclass(frozen=True, slots=True)
class Analysis:
    """Filters on the analysis columns (see ``docs/analysis.md``); empty means no filter.

    ``topics``: the article reports every one of these topics (a reported topic scored at or
    above the profile's topic floor); ``entities``: it mentions every one of these (entity id
    or display name, accent- and case-insensitive); ``min_score``: relevance at least this;
    ``relevant``: only articles at or above the profile's threshold.
    """

    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    min_score: float | None = None
    relevant: bool = False

    def __bool__(self) -> bool:
        return bool(self.topics or self.entities or self.min_score is not None or self.relevant)


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
) -> list[dict[str, Any]]:
    """Best matches first, each record with a plain-text ``snippet`` (matches in «…»).

    By default one record per story cluster (see :func:`storage.clusters.collapse`: the
    representative when it matches, with the best-matching copy's snippet), ranked by the
    cluster's best hit; ``all_copies=True`` lists every matching article. Every record carries
    ``copies`` and ``outlets`` of its whole cluster.

    ``query`` may be None when ``analysis`` filters are given: the matching articles are then
    listed most relevant first. ``explain=True`` adds ``matched`` (per topic, the matched terms
    with counts) to each record. ``with_text=False`` leaves ``text`` None (a table of titles and
    snippets does not need the bodies).

    On SQLite a query is answered in stages so the cost follows the page size, not the number
    of matches: FTS5 ranks matching rowids by bm25 (filters applied inside as ``rowid IN`` an
    index-only subquery), stories are collapsed over those light rows, and only the rows shown
    are read in full and get a snippet.
    """
    analysis = analysis or Analysis()
    if query is None or (not query.strip() and analysis):
        if not analysis:
            raise QueryError('empty query: give one or more words, or a "quoted phrase"')
        parsed = None
    else:
        parsed = parse_query(query)
    if limit < 0 or offset < 0:
        raise QueryError("limit and offset must not be negative")
    engine = get_engine(url)
    filters = _filters(since, until, sources, languages)
    filters += _analysis_filters(engine, analysis)
    if parsed is None:
        backend = _browse
    else:
        backend = _search_sqlite if is_sqlite(engine) else _search_postgres
    if not is_sqlite(engine) and (analysis.topics or analysis.entities):
        backend = _python_filtered(backend, analysis)
    if parsed is not None and is_sqlite(engine):
        with engine.connect() as conn:
            page = _search_fts(conn, parsed, filters, limit, offset, all_copies, with_text)
            return _explained(conn, clusters.annotate(conn, page), explain)
    if all_copies:
        hits = backend(engine, parsed, filters, limit, offset)
        with engine.connect() as conn:
            return _explained(conn, _snippets_now(clusters.annotate(conn, hits)), explain)
    window = max(4 * (limit + offset), 50)
    while True:
        hits = backend(engine, parsed, filters, window, 0)
        with engine.connect() as conn:
            stories = clusters.collapse(conn, hits)
            if len(stories) >= limit + offset or len(hits) < window:
                page = clusters.annotate(conn, stories[offset : offset + limit])
                return _explained(conn, _snippets_now(page), explain)
        window *= 4


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
    apply to the article. Same query language and accent folding as :func:`search`.
    """
    parsed = parse_query(query)
    if limit < 0 or offset < 0:
        raise QueryError("limit and offset must not be negative")
    engine = get_engine(url)
    filters = _filters(since, until, sources, languages)
    p, a = posts.c, articles.c
    cols = [
        p.id.label("post_id"), p.platform, p.author, p.handle, p.date, p.url, p.text,
        a.id.label("article_id"), a.url.label("article_url"), a.title.label("article_title"),
        a.source, a.published_at, a.published_offset,
    ]  # fmt: skip
    joined = posts.join(articles, a.id == p.article_id)
    if is_sqlite(engine):
        fts = literal_column("posts_fts")
        snippet = func.snippet(fts, 2, SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_WORDS)
        rank = func.bm25(fts)
        stmt = (
            select(*cols, snippet.label("snippet"))
            .select_from(joined.join(_POSTS_FTS, _POSTS_FTS.c.rowid == p.id))
            .where(text("posts_fts MATCH :fts").bindparams(bindparam("fts", to_fts5(parsed))))
            .order_by(rank, _when().desc(), p.id)
        )
    else:
        rank = func.ts_rank(_POSTS_TSV, _pg_query(parsed), 1)
        stmt = (
            select(*cols)
            .select_from(joined)
            .where(_pg_condition(parsed, _POSTS_TSV))
            .order_by(rank.desc(), _when().desc(), p.id)
        )
    stmt = stmt.where(*filters).limit(limit).offset(offset)
    with engine.connect() as conn:
        rows = _run(conn, stmt).mappings().all()
    terms = [t for g in parsed.groups for t in g]
    out = []
    for row in rows:
        snip = row.get("snippet") if "snippet" in row else None
        out.append(
            {
                "post_id": row["post_id"],
                "platform": row["platform"],
                "author": row["author"],
                "handle": row["handle"],
                "date": row["date"],
                "url": row["url"],
                "text": row["text"],
                "snippet": snip if snip is not None else _py_snippet(row["text"] or "", terms),
                "article_id": row["article_id"],
                "article_url": row["article_url"],
                "article_title": row["article_title"],
                "source": row["source"],
                "published_at": iso(join_offset(row["published_at"], row["published_offset"])),
            }
        )
    return out


def export(
    url: str,
    *,
    query: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: list[str] | None = None,
    languages: list[str] | None = None,
    limit: int | None = None,
    analysis: Analysis | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream matching records, newest first (``snippet`` is None); rows are fetched in batches.

    ``analysis`` filters need SQLite's JSON functions for topics and entities; on other
    databases those two are applied to the streamed records instead.
    """
    parsed = parse_query(query) if query is not None else None
    analysis = analysis or Analysis()
    engine = get_engine(url)
    stmt = select(*_COLUMNS).where(*_filters(since, until, sources, languages))
    stmt = stmt.where(*_analysis_filters(engine, analysis))
    if parsed is not None:
        if is_sqlite(engine):
            matching = text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :fts")
            stmt = stmt.where(articles.c.id.in_(matching.bindparams(fts=to_fts5(parsed))))
        else:
            stmt = stmt.where(_pg_condition(parsed))
    stmt = stmt.order_by(_when().desc(), articles.c.id.desc())
    records = _stream(engine, stmt)
    if not is_sqlite(engine) and (analysis.topics or analysis.entities):
        wanted = _entity_ids(engine, analysis.entities)
        records = (r for r in records if _record_matches(r, analysis.topics, wanted))
        if limit is not None:
            records = itertools.islice(records, limit)
    elif limit is not None:
        stmt = stmt.limit(limit)
        records = _stream(engine, stmt)
    return clusters.annotate_stream(engine, records)


def _stream(engine: Engine, stmt: Select) -> Iterator[dict[str, Any]]:
    with engine.connect() as conn:
        result = _run(conn.execution_options(yield_per=500), stmt)
        for row in result.mappings():
            yield row_to_record(row)


def get_article(url: str, article_id: int) -> dict[str, Any] | None:
    """One stored article as a record, or None."""
    with get_engine(url).connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(articles.c.id == article_id)).mappings().first()
    if row is None:
        return None
    with get_engine(url).connect() as conn:
        return clusters.annotate(conn, [row_to_record(row)])[0]


def story(url: str, ident: int) -> list[dict[str, Any]]:
    """The copies of one story, earliest first; ``ident`` is a cluster id or any member's id.

    Each record has ``representative`` (bool) besides the usual fields; empty when unknown.
    """
    engine = get_engine(url)
    with engine.connect() as conn:
        cluster_id = clusters.resolve_cluster(conn, ident)
        if cluster_id is None:
            return []
        rows = (
            conn.execute(
                select(*_COLUMNS)
                .where(articles.c.cluster_id == cluster_id)
                .order_by(func.coalesce(articles.c.published_at, articles.c.first_seen_at))
                .order_by(articles.c.id)
            )
            .mappings()
            .all()
        )
        records = clusters.annotate(conn, [row_to_record(r) for r in rows])
    for row, record in zip(rows, records, strict=True):
        record["representative"] = bool(row["cluster_rep"])
    return records


def write_records(records: Iterable[dict[str, Any]], fmt: str, stream: TextIO) -> int:
    """Write records as ``json`` (one array), ``jsonl`` or ``csv``; returns how many were written.

    Output is streamed record by record. In CSV, lists of strings are joined with ``"; "`` and other
    structures (posts, entities) are JSON-encoded; booleans are ``true``/``false``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    count = 0
    if fmt == "csv":
        writer: csv.DictWriter | None = None
        for record in records:
            if writer is None:
                writer = csv.DictWriter(stream, fieldnames=list(record), extrasaction="ignore")
                writer.writeheader()
            writer.writerow({k: _csv_value(v) for k, v in record.items()})
            count += 1
        if writer is None:
            csv.writer(stream).writerow(RECORD_FIELDS)
        return count
    for record in records:
        line = json.dumps(record, ensure_ascii=False, default=str)
        if fmt == "jsonl":
            stream.write(line + "\n")
        else:
            stream.write(("[\n" if count == 0 else ",\n") + line)
        count += 1
    if fmt == "json":
        stream.write("[]\n" if count == 0 else "\n]\n")
    return count


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


# -- SQL -------------------------------------------------------------------------------------


def _when():
    return func.coalesce(articles.c.published_at, articles.c.fetched_at)


def _filters(since, until, sources, languages) -> list:
    where = []
    if since is not None:
        where.append(_when() >= to_utc(since))
    if until is not None:
        where.append(_when() < to_utc(until))
    if sources:
        where.append(articles.c.source.in_(list(sources)))
    if languages:
        lang = func.lower(articles.c.language)
        codes = [code.strip().lower() for code in languages if code.strip()]
        where.append(or_(*(or_(lang == c, lang.like(c + "-%")) for c in codes)))
    return where


def _analysis_filters(engine: Engine, analysis: Analysis) -> list:
    """SQL conditions for the analysis filters; topic/entity ones only on SQLite (JSON1)."""
    where: list = []
    a = articles.c
    if analysis.min_score is not None:
        where.append(a.relevance >= float(analysis.min_score))
    if analysis.relevant:
        where.append(a.relevant.is_(True))
    if not is_sqlite(engine):
        return where
    for i, topic in enumerate(analysis.topics):
        name = f"topic_{i}"
        where.append(
            text(
                f"EXISTS (SELECT 1 FROM json_each(articles.topics) AS jt WHERE jt.key = :{name})"
            ).bindparams(bindparam(name, topic.strip().lower()))
        )
    for i, ids in enumerate(_entity_ids(engine, analysis.entities)):
        if not ids:
            where.append(literal_column("0") == 1)
            continue
        name = f"entity_{i}"
        where.append(
            text(
                "EXISTS (SELECT 1 FROM json_each(articles.entities) AS je "
                f"WHERE json_extract(je.value, '$.id') IN :{name})"
            ).bindparams(bindparam(name, sorted(ids), expanding=True))
        )
    return where


def _entity_ids(engine: Engine, wanted: Iterable[str]) -> list[set[str]]:
    """For each ``--entity`` value, the stored entity ids it names (by id or display name).

    Names are compared accent- and case-folded, so "Secretaria de Relaciones Exteriores" finds
    the SRE. The stored (id, name) pairs are read once; there are only as many as the gazetteer.
    """
    wanted = [w for w in wanted if w and w.strip()]
    if not wanted:
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(articles.c.entities).where(articles.c.entities.is_not(None)))
        known: dict[str, set[str]] = {}
        for (entities,) in rows:
            for item in entities or []:
                if isinstance(item, dict) and item.get("id"):
                    ident = str(item["id"])
                    known.setdefault(_norm(ident), set()).add(ident)
                    if item.get("name"):
                        known.setdefault(_norm(str(item["name"])), set()).add(ident)
    return [known.get(_norm(w), set()) for w in wanted]


def _norm(value: str) -> str:
    return " ".join(fold(value).replace("_", " ").split())


def _record_matches(record: dict[str, Any], topics: Iterable[str], ids: list[set[str]]) -> bool:
    """Python-side topic/entity filter (databases without SQLite's JSON functions)."""
    have_topics = set((record.get("topics") or {}).keys())
    if any(t.strip().lower() not in have_topics for t in topics):
        return False
    have_ids = {str(e.get("id")) for e in record.get("entities") or [] if isinstance(e, dict)}
    return all(have_ids & wanted for wanted in ids)


def _python_filtered(backend, analysis: Analysis):
    """Wrap a search backend so topic/entity filters are applied to its records."""

    def run(engine: Engine, parsed, filters, limit, offset) -> list[dict]:
        ids = _entity_ids(engine, analysis.entities)
        hits = backend(engine, parsed, filters, (limit + offset) * 4 + 50, 0)
        kept = [h for h in hits if _record_matches(h, analysis.topics, ids)]
        return kept[offset : offset + limit]

    return run


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
        select(*_COLUMNS)
        .where(*filters)
        .order_by(a.relevance.is_(None), a.relevance.desc(), _when().desc(), a.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        rows = _run(conn, stmt).mappings().all()
    return [row_to_record(row, snippet=_py_snippet(row["text"] or "", [])) for row in rows]


def _run(conn, stmt):
    try:
        return conn.execute(stmt)
    except OperationalError as exc:
        message = one_line(exc)
        if "fts5" in message or "syntax error" in message or "MATCH" in message:
            raise QueryError(f"search engine rejected the query: {message}") from None
        raise StorageError(f"search failed: {message}") from None


def _search_fts(
    conn, parsed: ParsedQuery, filters, limit: int, offset: int, all_copies: bool, with_text: bool
) -> list[dict]:
    """One page of hits (or stories), in the order of :func:`_search_sqlite`, read in stages."""
    match = to_fts5(parsed)
    wanted = limit + offset
    if wanted == 0:
        return []
    if all_copies:
        chosen = [(h["id"], h["id"]) for h in _ranked(conn, match, filters, wanted)[offset:]]
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
    rows = _full_rows(conn, [shown for shown, _ in chosen], with_text)
    snippets = _snippets(conn, match, [best for _, best in chosen])
    return [row_to_record(rows[shown], snippet=snippets.get(best)) for shown, best in chosen]


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


_LIGHT = ("id", "rank", "when", "cluster_id", "cluster_rep")


def _rank_top(conn, match: str, filters, n: int, parts: list[tuple[int, int]]):
    """The best ``n`` light rows of every part (the whole table when there are no parts; the
    first part in this thread, the others in the pool), merged by rank; and a test telling whether
    every row ranked at or better than a given rank is among them (a part that filled its ``n``
    may have left out rows tied with its last one)."""
    first, *others = parts or [None]
    futures = [
        _pool().submit(_rank_range_own, conn.engine, match, filters, n, bounds) for bounds in others
    ]
    results = [_rank_range(conn, match, filters, n, first), *(f.result() for f in futures)]
    lasts = [rows[-1][1] for rows in results if len(rows) >= n]
    ranked = sorted(itertools.chain.from_iterable(results), key=itemgetter(1))
    return ranked, lambda rank: all(last > rank for last in lasts)


def _rank_range(conn, match: str, filters, n: int, bounds: tuple[int, int] | None) -> list:
    return _run(conn, _light_statement(match, filters, n, bounds)).all()


def _light_statement(match: str, filters, n: int, bounds: tuple[int, int] | None) -> Select:
    """The best ``n`` matches in ``bounds`` as light rows (:data:`_LIGHT`) ordered by rank: the
    ranking is a subquery with its limit, so only those rows are looked up in ``articles``."""
    stmt, rank = _rank_statement(match, filters, bounds)
    top = stmt.order_by(rank).limit(n).subquery("top")
    a = articles.c
    return (
        select(top.c.id, top.c.rank, _when().label("when"), a.cluster_id, a.cluster_rep)
        .join_from(top, articles, a.id == top.c.id)
        .order_by(top.c.rank)
    )


def _rank_range_own(engine: Engine, match, filters, n, bounds) -> list:
    with engine.connect() as conn:
        return _rank_range(conn, match, filters, n, bounds)


PARALLEL_MIN_ROWS = 20_000
ENV_SEARCH_THREADS = "NEWSWATCH_SEARCH_THREADS"
_POOL_LOCK = threading.Lock()
_POOL: list = []
_LOOKASIDE: dict[Any, bool] = {}


def search_threads() -> int:
    """Threads one search may use on SQLite: ``NEWSWATCH_SEARCH_THREADS``, else one per core
    up to four (1 turns parallel ranking off)."""
    raw = os.environ.get(ENV_SEARCH_THREADS, "").strip()
    if not raw:
        return min(os.cpu_count() or 1, 4)
    try:
        return max(1, min(int(raw), 16))
    except ValueError:
        raise StorageError(f"{ENV_SEARCH_THREADS}={raw!r}: expected a whole number") from None


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


def _rank_statement(
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


def _collapse_ranked(hits: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """``(shown id, best-ranked id)`` per story, in the rank of each story's best hit.

    As :func:`storage.clusters.collapse`: the representative is shown when it is among the hits
    (so filters still hold), else the best-ranked member; the snippet is the best member's.
    """
    groups: dict[Any, list[dict[str, Any]]] = {}
    for hit in hits:
        key = hit["cluster_id"] if hit["cluster_id"] is not None else ("article", hit["id"])
        groups.setdefault(key, []).append(hit)
    out = []
    for members in groups.values():
        best = members[0]
        shown = next((m for m in members if m["cluster_rep"]), best)
        out.append((shown["id"], best["id"]))
    return out


def _full_rows(conn, ids: list[int], with_text: bool) -> dict[int, Any]:
    cols = _COLUMNS if with_text else [c for c in _COLUMNS if c.name != "text"]
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


_SCRATCH = threading.local()


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


def _search_sqlite(engine: Engine, parsed: ParsedQuery, filters, limit, offset) -> list[dict]:
    """The straightforward query (join, filter, rank, snippet every match): the reference that
    :func:`_search_fts` must agree with, kept for tests."""
    fts = literal_column("articles_fts")
    snippet = func.snippet(
        fts, 1, SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_WORDS
    ).label("snippet")
    rank = func.bm25(fts, TITLE_WEIGHT, TEXT_WEIGHT).label("rank")
    stmt = (
        select(*_COLUMNS, snippet, rank)
        .select_from(articles.join(_FTS, _FTS.c.rowid == articles.c.id))
        .where(text("articles_fts MATCH :fts").bindparams(bindparam("fts", to_fts5(parsed))))
        .where(*filters)
        .order_by(rank, _when().desc(), articles.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        rows = _run(conn, stmt).mappings().all()
    return [row_to_record(row, snippet=row["snippet"]) for row in rows]


_ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüñçýÿÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇÝ"
_PLAIN = "aaaaaaeeeeiiiiooooouuuuncyyaaaaaaeeeeiiiiooooouuuuncy"
_TSV = literal_column("articles.search_tsv")
_POSTS_TSV = literal_column("posts.search_tsv")
_SIMPLE = literal_column("'simple'::regconfig")
_TS_WEIGHTS = literal_column("'{0.1, 0.2, 0.2, 1.0}'::float4[]")
"""ts_rank weights for D, C, B, A: the title (A) counts five times the body (B), as in FTS5."""
_PG_WORD = re.compile(r"[^\W_]+")


def _folded(column):
    return func.translate(func.lower(column), _ACCENTED, _PLAIN)


def _tsquery(term: Term):
    """One term as a PostgreSQL ``tsquery``, its words split by the parser that built
    ``articles.search_tsv`` (migration 0005) and folded by the same SQL. A prefix ends in
    ``:*``; its words are plain letters and digits, so nothing in the query text is syntax (no
    word at all gives an empty query, which matches nothing)."""
    if not term.prefix:
        return func.phraseto_tsquery(_SIMPLE, _folded(bindparam(None, term.text)))
    words = _PG_WORD.findall(term.text)
    expression = " <-> ".join([*words[:-1], words[-1] + ":*"]) if words else ""
    return func.to_tsquery(_SIMPLE, _folded(bindparam(None, expression)))


def _pg_query(parsed: ParsedQuery):
    """The positive part of the query: AND of groups, each an OR of terms."""
    combined = None
    for group in parsed.groups:
        either = _tsquery(group[0])
        for term in group[1:]:
            either = either.op("||")(_tsquery(term))
        combined = either if combined is None else combined.op("&&")(either)
    return combined


def _pg_condition(parsed: ParsedQuery, tsv=_TSV):
    """Matching on PostgreSQL: a GIN-indexed ``search_tsv`` (of articles, or of ``posts``),
    minus the negative terms."""
    negatives = [~tsv.op("@@")(_tsquery(t)) for t in parsed.negatives]
    return and_(tsv.op("@@")(_pg_query(parsed)), *negatives)


def _search_postgres(engine: Engine, parsed: ParsedQuery, filters, limit, offset) -> list[dict]:
    """Search on PostgreSQL: full-text match through the GIN index, ranked by ``ts_rank``
    (title weighted as in FTS5, length-normalised), newest first among equals."""
    terms = [t for g in parsed.groups for t in g]
    with engine.connect() as conn:
        _no_seq_scan(conn)
        rows = _run(conn, _pg_search_statement(parsed, filters, limit, offset)).mappings().all()
    return [row_to_record(row, snippet=_PendingSnippet(row["text"] or "", terms)) for row in rows]


def _pg_search_statement(parsed: ParsedQuery, filters, limit: int, offset: int) -> Select:
    rank = func.ts_rank(_TS_WEIGHTS, _TSV, _pg_query(parsed), 1)
    return (
        select(*_COLUMNS)
        .where(_pg_condition(parsed), *filters)
        .order_by(rank.desc(), _when().desc(), articles.c.id.desc())
        .limit(limit)
        .offset(offset)
    )


def _no_seq_scan(conn) -> None:
    """Keep PostgreSQL's planner off a sequential scan of ``articles`` for this transaction.

    Once ``ANALYZE`` has run (autovacuum does it on any real archive), a query matching a third
    of the table is costed cheaper as a sequential scan, but every row's ``search_tsv`` is then
    read out of TOAST to test ``@@``: 168 ms against 87 ms through the GIN index (20k articles,
    ``EXPLAIN ANALYZE``: 119k buffers against 33k). Index scans on the filters stay available.
    """
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")


@dataclass(frozen=True, slots=True)
class _PendingSnippet:
    """A snippet made only if its record is shown: story collapsing reads 4× the page size in
    hits, and a snippet of a 3 KB body costs ~0.25 ms."""

    body: str
    terms: list[Term]


def _snippets_now(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for record in records:
        pending = record.get("snippet")
        if isinstance(pending, _PendingSnippet):
            record["snippet"] = _py_snippet(pending.body, pending.terms)
    return records


def _py_snippet(body: str, terms: list[Term]) -> str:
    """A snippet like FTS5's: about SNIPPET_WORDS words around the first match, matches marked."""
    folded = fold(body)
    patterns = []
    for term in terms:
        words = [re.escape(w) for w in term.words()]
        tail = "" if term.prefix else r"\b"
        patterns.append(r"\b" + r"\W+".join(words) + (r"\w*" if term.prefix else tail))
    regex = re.compile("|".join(patterns)) if patterns else None
    spans = [m.span() for m in regex.finditer(folded)] if regex else []
    start = spans[0][0] if spans else 0
    words = list(re.finditer(r"\S+", body))
    index = next((i for i, w in enumerate(words) if w.end() > start), 0)
    first = max(0, index - SNIPPET_WORDS // 3)
    chosen = words[first : first + SNIPPET_WORDS]
    if not chosen:
        return ""
    lo, hi = chosen[0].start(), chosen[-1].end()
    out, pos = [], lo
    for s, e in spans:
        if s < lo or e > hi:
            continue
        out += [body[pos:s], SNIPPET_OPEN, body[s:e], SNIPPET_CLOSE]
        pos = e
    out.append(body[pos:hi])
    prefix = SNIPPET_ELLIPSIS if first > 0 else ""
    suffix = SNIPPET_ELLIPSIS if first + SNIPPET_WORDS < len(words) else ""
    return prefix + "".join(out) + suffix
