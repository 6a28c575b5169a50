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
title weighted 5× the body. On PostgreSQL a fallback without extensions is used: accent-folded
word-boundary regular expressions, ranked by title matches then date (slower, no index).

Records are dicts with the stable keys of :data:`storage.records.RECORD_FIELDS`; times are
ISO 8601 strings in the offset the source published them in (``2025-12-11T09:15:00-07:00``).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import (
    Engine,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
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
from storage.models import articles
from storage.records import RECORD_FIELDS, row_to_record, to_utc

MAX_QUERY_LENGTH = 1000
SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS = "«", "»", "…"
SNIPPET_WORDS = 24
TITLE_WEIGHT, TEXT_WEIGHT = 5.0, 1.0
FORMATS = ("json", "jsonl", "csv")

_FTS = table("articles_fts", column("rowid"))
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
    return "".join(_fold_char(c) for c in value)


def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFKD", char)[:1] or char
    lowered = base.lower()
    return lowered[:1] if lowered else base


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


def search(
    url: str,
    query: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: list[str] | None = None,
    languages: list[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    all_copies: bool = False,
) -> list[dict[str, Any]]:
    """Best matches first, each record with a plain-text ``snippet`` (matches in «…»).

    By default one record per story cluster (see :func:`storage.clusters.collapse`: the
    representative when it matches, with the best-matching copy's snippet), ranked by the
    cluster's best hit; ``all_copies=True`` lists every matching article. Every record carries
    ``copies`` and ``outlets`` of its whole cluster.
    """
    parsed = parse_query(query)
    if limit < 0 or offset < 0:
        raise QueryError("limit and offset must not be negative")
    engine = get_engine(url)
    filters = _filters(since, until, sources, languages)
    backend = _search_sqlite if is_sqlite(engine) else _search_fallback
    if all_copies:
        hits = backend(engine, parsed, filters, limit, offset)
        with engine.connect() as conn:
            return clusters.annotate(conn, hits)
    window = max(4 * (limit + offset), 50)
    while True:
        hits = backend(engine, parsed, filters, window, 0)
        with engine.connect() as conn:
            stories = clusters.collapse(conn, hits)
            if len(stories) >= limit + offset or len(hits) < window:
                return clusters.annotate(conn, stories[offset : offset + limit])
        window *= 4


def export(
    url: str,
    *,
    query: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: list[str] | None = None,
    languages: list[str] | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream matching records, newest first (``snippet`` is None); rows are fetched in batches."""
    parsed = parse_query(query) if query is not None else None
    engine = get_engine(url)
    stmt = select(*_COLUMNS).where(*_filters(since, until, sources, languages))
    if parsed is not None:
        if is_sqlite(engine):
            matching = text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :fts")
            stmt = stmt.where(articles.c.id.in_(matching.bindparams(fts=to_fts5(parsed))))
        else:
            stmt = stmt.where(_fallback_condition(parsed))
    stmt = stmt.order_by(_when().desc(), articles.c.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return clusters.annotate_stream(engine, _stream(engine, stmt))


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


def _run(conn, stmt):
    try:
        return conn.execute(stmt)
    except OperationalError as exc:
        message = one_line(exc)
        if "fts5" in message or "syntax error" in message or "MATCH" in message:
            raise QueryError(f"search engine rejected the query: {message}") from None
        raise StorageError(f"search failed: {message}") from None


def _search_sqlite(engine: Engine, parsed: ParsedQuery, filters, limit, offset) -> list[dict]:
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


_ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüñçýÿ"
_PLAIN = "aaaaaaeeeeiiiiooooouuuuncyy"


def _folded(column):
    return func.translate(func.lower(column), _ACCENTED, _PLAIN)


def _pattern(term: Term) -> str:
    """A PostgreSQL ARE on folded text; terms are reduced to ``\\w`` words, so nothing is syntax."""
    body = r"\m" + r"\W+".join(term.words())
    return body if term.prefix else body + r"\M"


def _fallback_condition(parsed: ParsedQuery):
    doc = _folded(func.concat(articles.c.title, " ", articles.c.text))
    groups = [or_(*(doc.op("~")(_pattern(t)) for t in g)) for g in parsed.groups]
    negatives = [~doc.op("~")(_pattern(t)) for t in parsed.negatives]
    return and_(*groups, *negatives)


def _search_fallback(engine: Engine, parsed: ParsedQuery, filters, limit, offset) -> list[dict]:
    """Portable search for PostgreSQL without FTS extensions: regex on accent-folded text."""
    title = _folded(articles.c.title)
    terms = [t for g in parsed.groups for t in g]
    title_hits = sum(
        (cast(title.op("~")(_pattern(t)), Integer) for t in terms), start=literal_column("0")
    )
    stmt = (
        select(*_COLUMNS)
        .where(_fallback_condition(parsed), *filters)
        .order_by(title_hits.desc(), _when().desc(), articles.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        rows = _run(conn, stmt).mappings().all()
    return [row_to_record(row, snippet=_py_snippet(row["text"], terms)) for row in rows]


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
