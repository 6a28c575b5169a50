"""Facet counts and a date histogram over the matches of a search: what the web app's search page
shows beside the results (counts per source, language, topic, entity and relevance; matching
stories per day, week or month).

The matches are those of :func:`storage.search.search` with the same query and filters: the same
parser (:mod:`storage.search.query`), the same SQL filters (:mod:`storage.search.filters`) and
the same full-text condition (FTS5's ``MATCH`` on SQLite, ``search_tsv`` on PostgreSQL). Only
light columns are read for them and counted in Python, so the cost follows the number of matches
read, which is capped: a query matching a third of a 100k archive would otherwise read 35k rows
for every keystroke of a search-as-you-type page. Beyond :data:`MAX_SCANNED` matches the counts
are estimates and the result says ``"approximate": true``: on SQLite an even sample of the
matches (every k-th id) scaled up to all of them, on PostgreSQL the best :data:`MAX_SCANNED` by
rank; ``articles`` stays the exact number of matches.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    bindparam,
    func,
    literal_column,
    select,
    text,
)

from storage.db import get_engine, is_sqlite
from storage.models import articles
from storage.search import sqlite
from storage.search.filters import (
    Analysis,
    analysis_filters,
    entity_ids,
    record_matches,
    row_filters,
)
from storage.search.postgres import (
    ARTICLES_TSV,
    no_seq_scan,
    pg_condition,
    pg_query,
    statement_deadline,
)
from storage.search.query import ParsedQuery, parse_query, to_fts5
from storage.search.sql import run, when
from storage.types import article_time_of

MAX_SCANNED = 500
"""Matches read for the counts; past this many the counts are estimates (an even sample scaled
up on SQLite, the best-ranked on PostgreSQL).

Each match read costs an article row (~10 µs: the analysis columns sit after the body and the
stored page). Measured on 20k articles (2 busy cores), /api/v1/search p95 with facets was
32 / 50 / 66 ms with 500 / 1,000 / 2,000 against 12 ms for the CLI search."""
MAX_TOP = 100
_IDS = Table(
    "newswatch_facet_ids", MetaData(), Column("id", Integer, primary_key=True),
    prefixes=["TEMPORARY"],
)  # fmt: skip
_MATCHED = Table(
    "newswatch_facet_matches", MetaData(),
    Column("id", Integer, primary_key=True), Column("source", Text), Column("language", Text),
    Column("relevant", Integer), Column("story", Integer), Column("day", Text),
    Column("topics", Text), Column("entities", Text),
    prefixes=["TEMPORARY"],
)  # fmt: skip
"""The matches a facet count runs over (SQLite; created and dropped inside one read)."""
_FTS_ROWID = literal_column("rowid").label("id")
_LIGHT = ("id", "source", "language", "published_at", "first_seen_at", "cluster_id", "relevant")


def facets(
    url: str,
    query: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: list[str] | None = None,
    languages: list[str] | None = None,
    analysis: Analysis | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """Counts over every match of ``query`` and the filters (as :func:`storage.search.search`).

    ``articles`` counts matching articles; ``stories`` matching story clusters (an article
    without a cluster is its own story). ``sources``, ``languages``, ``topics`` and
    ``entities`` are the ``top`` values by number of matching stories (``{"value", "count"}``,
    an entity also has its display ``label``); ``relevant`` counts stories with a relevant
    match (``true``), else a judged one (``false``), else ``unknown``. ``histogram`` puts each
    story in the bucket of its earliest matching article's time (:data:`storage.types.
    ARTICLE_TIME`, UTC dates), a day, week or month wide depending on the span, bars from the
    first to the last bucket with empty ones included. A blank or absent query counts
    everything the filters let through. ``approximate`` is true when more than
    :data:`MAX_SCANNED` articles matched: every count but ``articles`` is then an estimate (see
    the module's docstring).
    """
    analysis = analysis or Analysis()
    parsed = parse_query(query) if query is not None and query.strip() else None
    top = max(1, min(int(top), MAX_TOP))
    engine = get_engine(url)
    filters = row_filters(since, until, sources, languages) + analysis_filters(engine, analysis)
    python_side = not is_sqlite(engine) and analysis.needs_python
    with engine.connect() as conn:
        if is_sqlite(engine):
            with sqlite.deadline(conn):
                try:
                    found = _facets_sqlite(conn, parsed, filters, top)
                finally:
                    conn.rollback()
            return {**found, "approximate": found["articles"] > MAX_SCANNED}
        else:
            no_seq_scan(conn)
            statement_deadline(conn)
            rows, total = _matches_postgres(conn, parsed, filters, python_side)
    if python_side:
        ids = entity_ids(engine, analysis.entities)
        rows = [r for r in rows if record_matches(r, analysis.topics, ids)]
        total = len(rows) if total <= MAX_SCANNED else total
    approximate = total > MAX_SCANNED
    return {**_count(rows[:MAX_SCANNED], top), "articles": total, "approximate": approximate}


def _light(ids: Select) -> Select:
    a = articles.c
    cols = [getattr(a, name) for name in _LIGHT]
    return select(*cols, a.topics, a.entities).where(a.id.in_(ids))


def _facets_sqlite(conn, parsed: ParsedQuery | None, filters: list, top: int) -> dict[str, Any]:
    """On SQLite the matches' ids go into a temporary table (rolled back with the read), and
    the counts are ``GROUP BY`` queries over it, JSON1 unpacking topics and entities: reading
    thousands of rows' JSON into Python cost ~25 µs a row, a hundred milliseconds a search.

    Every match's id goes into the table (ids only: no article row is read, no ranking), which
    gives the exact ``articles``; past :data:`MAX_SCANNED` an even sample of them (every k-th
    id) is kept and the counts are scaled up by the sampling factor. Ranking the best
    :data:`MAX_SCANNED` by bm25 instead cost as much as the search beside it (a page's facets
    took twice its results' time: 55 ms p95 at 100k articles against the CLI's 18 ms)."""
    a = articles.c
    if parsed is None:
        every = select(a.id).where(*filters)
    else:
        match = to_fts5(parsed)
        every = select(_FTS_ROWID).select_from(text("articles_fts"))
        every = every.where(text("articles_fts MATCH :fts").bindparams(bindparam("fts", match)))
        if filters:
            every = every.where(literal_column("+rowid").in_(select(a.id).where(*filters)))
    _IDS.create(conn)
    _MATCHED.create(conn)
    run(conn, _IDS.insert().from_select(["id"], every))
    total = conn.execute(select(func.count()).select_from(_IDS)).scalar_one()
    factor = 1.0
    if total > MAX_SCANNED:
        step = -(-total // MAX_SCANNED)
        conn.execute(_IDS.delete().where(_IDS.c.id % step != 0))
        kept = conn.execute(select(func.count()).select_from(_IDS)).scalar_one()
        factor = total / max(kept, 1)
    conn.execute(_fill(select(_IDS.c.id)))
    return {**_aggregate_sqlite(conn, top, factor), "articles": total}


def _fill(ids: Select):
    """Copy the light columns of these matches into the temporary table: the article rows
    (bodies, stored pages) are read once, the counts then scan only this small table."""
    a = articles.c
    light = select(
        a.id, a.source, a.language, a.relevant,
        func.coalesce(a.cluster_id, -a.id), func.substr(when(), 1, 10), a.topics, a.entities,
    ).where(a.id.in_(ids))  # fmt: skip
    return _MATCHED.insert().from_select([c.name for c in _MATCHED.c], light)


def _aggregate_sqlite(conn, top: int, factor: float = 1.0) -> dict[str, Any]:
    """The counts over the temporary table, each multiplied by ``factor`` (the sampling factor
    of :func:`_facets_sqlite`; 1 when every match is there)."""
    m = _MATCHED

    def scaled(n: int) -> int:
        return round(n * factor)

    def ranked(value, source=m) -> list[dict[str, Any]]:
        count = func.count(func.distinct(m.c.story))
        stmt = (
            select(value, count).select_from(source).where(value.is_not(None)).group_by(value)
            .order_by(count.desc(), value).limit(top)
        )  # fmt: skip
        return [{"value": str(v), "count": scaled(int(n))} for v, n in conn.execute(stmt)]

    jt = func.json_each(m.c.topics).table_valued("key", "value").alias("jt")
    je = func.json_each(m.c.entities).table_valued("key", "value").alias("je")
    entity_id = func.json_extract(je.c.value, "$.id")
    out: dict[str, Any] = {
        "stories": scaled(conn.execute(select(func.count(func.distinct(m.c.story)))).scalar_one()),
        "sources": ranked(m.c.source),
        "languages": ranked(m.c.language),
        "topics": ranked(jt.c.key, m.join(jt, literal_column("1") == 1)),
        "entities": ranked(entity_id, m.join(je, literal_column("1") == 1)),
    }
    wanted = [e["value"] for e in out["entities"]]
    names = dict(
        conn.execute(
            select(entity_id, func.max(func.json_extract(je.c.value, "$.name")))
            .select_from(m.join(je, literal_column("1") == 1))
            .where(entity_id.in_(wanted))
            .group_by(entity_id)
        ).all()
    ) if wanted else {}  # fmt: skip
    for item in out["entities"]:
        item["label"] = str(names.get(item["value"]) or item["value"])
    per_story = select(func.max(m.c.relevant).label("r"), func.min(m.c.day).label("day"))
    per_story = per_story.group_by(m.c.story).subquery()
    relevant = {"true": 0, "false": 0, "unknown": 0}
    days: list[datetime] = []
    for r, day in conn.execute(select(per_story.c.r, per_story.c.day)):
        relevant["unknown" if r is None else "true" if r else "false"] += 1
        if day:
            days.append(datetime.fromisoformat(day))
    out["relevant"] = {k: scaled(n) for k, n in relevant.items()}
    bars = histogram(days)
    bars["bars"] = [{**bar, "stories": scaled(bar["stories"])} for bar in bars["bars"]]
    out["histogram"] = bars
    return out


def _matches_postgres(
    conn, parsed: ParsedQuery | None, filters: list, python_side: bool
) -> tuple[list[dict], int]:
    """As :func:`_matches_sqlite` on PostgreSQL; with topic/entity filters to apply in Python
    (no JSON1 there), every match is read so the counts stay exact."""
    if parsed is None:
        return _matches_browse(conn, filters, cap=not python_side)
    a = articles.c
    rank = func.ts_rank(ARTICLES_TSV, pg_query(parsed))
    ids = select(a.id).where(pg_condition(parsed), *filters)
    limited = ids if python_side else ids.order_by(rank.desc()).limit(MAX_SCANNED)
    rows = [dict(r) for r in run(conn, _light(limited)).mappings()]
    total = len(rows)
    if total >= MAX_SCANNED and not python_side:
        total = run(conn, select(func.count()).select_from(ids.subquery())).scalar_one()
    return rows, total


def _matches_browse(conn, filters: list, cap: bool = True) -> tuple[list[dict], int]:
    """No query: the newest :data:`MAX_SCANNED` articles the filters let through."""
    a = articles.c
    ids = select(a.id).where(*filters)
    limited = ids.order_by(when().desc(), a.id.desc()).limit(MAX_SCANNED) if cap else ids
    rows = [dict(r) for r in run(conn, _light(limited)).mappings()]
    total = len(rows)
    if cap and total >= MAX_SCANNED:
        total = run(conn, select(func.count()).select_from(ids.subquery())).scalar_one()
    return rows, total


def _count(rows: list[dict], top: int) -> dict[str, Any]:
    """Per-story counts of the light rows (see :func:`facets`)."""
    stories: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        key = row["cluster_id"] if row["cluster_id"] is not None else ("article", row["id"])
        stories[key].append(row)
    by: dict[str, Counter] = {k: Counter() for k in ("sources", "languages", "topics", "entities")}
    labels: dict[str, str] = {}
    relevant = {"true": 0, "false": 0, "unknown": 0}
    first_seen: list[datetime] = []
    for members in stories.values():
        by["sources"].update({m["source"] for m in members if m["source"]})
        by["languages"].update({m["language"] for m in members if m["language"]})
        by["topics"].update({t for m in members for t in _topics(m)})
        by["entities"].update({e for m in members for e in _entities(m, labels)})
        judged = [m["relevant"] for m in members if m["relevant"] is not None]
        relevant["true" if any(judged) else "false" if judged else "unknown"] += 1
        times = [t for t in (article_time_of(m) for m in members) if t is not None]
        if times:
            first_seen.append(min(_naive_utc(t) for t in times))
    out: dict[str, Any] = {"stories": len(stories), "relevant": relevant}
    for name, counter in by.items():
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        out[name] = [{"value": value, "count": count} for value, count in ranked]
    for item in out["entities"]:
        item["label"] = labels.get(item["value"], item["value"])
    out["histogram"] = histogram(first_seen)
    return out


def _topics(row: dict) -> list[str]:
    topics = row.get("topics")
    return [str(t) for t in topics] if isinstance(topics, dict) else []


def _entities(row: dict, labels: dict[str, str]) -> list[str]:
    found = []
    for item in row.get("entities") or []:
        if isinstance(item, dict) and item.get("id"):
            ident = str(item["id"])
            labels.setdefault(ident, str(item.get("name") or ident))
            found.append(ident)
    return found


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def histogram(times: list[datetime]) -> dict[str, Any]:
    """Stories per bucket: days for a span up to 92 days, weeks (from Monday) up to about two
    years, months beyond; every bucket from the first to the last, empty ones included."""
    if not times:
        return {"bucket": "day", "bars": []}
    days = [t.date() for t in times]
    lo, hi = min(days), max(days)
    span = (hi - lo).days
    bucket = "day" if span <= 92 else "week" if span <= 730 else "month"
    counts = Counter(_bucket_start(d, bucket) for d in days)
    bars = []
    start = _bucket_start(lo, bucket)
    while start <= hi:
        end = _next_start(start, bucket)
        bars.append({"start": start.isoformat(), "end": end.isoformat(), "stories": counts[start]})
        start = end
    return {"bucket": bucket, "bars": bars}


def _bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next_start(start: date, bucket: str) -> date:
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)
