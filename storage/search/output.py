"""Records out: streamed exports, one article, one story, and writing records as JSON, JSON
Lines or CSV."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine, Select, select, text

from storage import clusters
from storage.db import get_engine, is_sqlite
from storage.models import article_time, articles
from storage.records import RECORD_FIELDS, row_to_record
from storage.search.filters import (
    Analysis,
    analysis_filters,
    entity_ids,
    record_matches,
    row_filters,
)
from storage.search.postgres import pg_condition
from storage.search.query import parse_query, to_fts5
from storage.search.sql import COLUMNS, run, when

FORMATS = ("json", "jsonl", "csv")


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
    stmt = select(*COLUMNS).where(*row_filters(since, until, sources, languages))
    stmt = stmt.where(*analysis_filters(engine, analysis))
    if parsed is not None:
        if is_sqlite(engine):
            matching = text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :fts")
            stmt = stmt.where(articles.c.id.in_(matching.bindparams(fts=to_fts5(parsed))))
        else:
            stmt = stmt.where(pg_condition(parsed))
    stmt = stmt.order_by(when().desc(), articles.c.id.desc())
    records = _stream(engine, stmt)
    if not is_sqlite(engine) and analysis.needs_python:
        wanted = entity_ids(engine, analysis.entities)
        records = (r for r in records if record_matches(r, analysis.topics, wanted))
        if limit is not None:
            records = itertools.islice(records, limit)
    elif limit is not None:
        stmt = stmt.limit(limit)
        records = _stream(engine, stmt)
    return clusters.annotate_stream(engine, records)


def _stream(engine: Engine, stmt: Select) -> Iterator[dict[str, Any]]:
    with engine.connect() as conn:
        result = run(conn.execution_options(yield_per=500), stmt)
        for row in result.mappings():
            yield row_to_record(row)


def get_article(url: str, article_id: int) -> dict[str, Any] | None:
    """One stored article as a record, or None."""
    with get_engine(url).connect() as conn:
        row = conn.execute(select(*COLUMNS).where(articles.c.id == article_id)).mappings().first()
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
                select(*COLUMNS)
                .where(articles.c.cluster_id == cluster_id)
                .order_by(article_time())
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
    if fmt == "csv":
        return _write_csv(records, stream)
    count = 0
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


def _write_csv(records: Iterable[dict[str, Any]], stream: TextIO) -> int:
    """CSV with the first record's keys as the header (the record fields when there is none)."""
    count = 0
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
