"""The write side: article upserts with dedupe, source state, and the crawl-run log.

Dedupe never does check-then-insert (two crawl processes would race). Each record is inserted with
``INSERT … ON CONFLICT DO NOTHING RETURNING id``; the unique indexes on ``(source, guid)``,
``canonical_url`` and ``(source, content_hash)`` decide. Only when nothing was inserted is the
existing row looked up, in that key order, and updated in place if its text changed. A batch is one
short write transaction with a SAVEPOINT per record, so one bad record cannot sink the others.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, func, select, union_all, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DataError, IntegrityError

from storage import clusters
from storage.db import get_engine, write_connection
from storage.models import (
    RUN_OUTCOMES,
    article_urls,
    articles,
    crawl_runs,
    daemon_lock,
    posts,
    robots_txt,
    skipped,
    sources,
)
from storage.neardup import (
    DEFAULT_THRESHOLD,
    estimate_shingles,
    pack_signature,
    unpack_signature,
)
from storage.records import (
    clean_json,
    clean_optional,
    clean_text,
    compress_html,
    decompress_html,
    join_offset,
    split_offset,
    to_utc,
    utcnow,
)
from storage.types import ArticleRecord, SourceInfo, StoreResult

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
_URL_CHUNK = 300  # three IN lists per query stays under SQLite's old 999-variable limit


def _dialect_insert(dialect: str):
    """The dialect's INSERT construct, so ``on_conflict_*`` is available on SQLite and PostgreSQL."""
    if dialect == "sqlite":
        return sqlite.insert
    from sqlalchemy.dialects import postgresql  # ~35 ms of imports a SQLite process never needs

    return postgresql.insert


def _insert(conn: Connection, table):
    return _dialect_insert(conn.dialect.name)(table)


@lru_cache(maxsize=4)
def _upsert_statements(dialect: str) -> tuple[Any, Any]:
    """The two statements every new article runs, built once per dialect and executed with
    separate parameters, so SQLAlchemy reuses their compiled form instead of building and
    cache-keying a 30-column INSERT per article (that was most of the store's CPU time)."""
    insert = _dialect_insert(dialect)
    return (
        insert(articles).on_conflict_do_nothing().returning(articles.c.id),
        insert(article_urls).on_conflict_do_nothing(),
    )


def _aware(value):
    return join_offset(value, 0)


class Store:
    """Storage handle for one database URL; cheap to create (engines are cached per URL)."""

    def __init__(self, url: str, near_dup_threshold: float | None = None):
        self.url = url
        self.engine = get_engine(url)
        self.near_dup_threshold = (
            DEFAULT_THRESHOLD if near_dup_threshold is None else float(near_dup_threshold)
        )
        if not 0.0 < self.near_dup_threshold <= 1.0:
            raise ValueError(
                f"near-duplicate threshold must be in (0, 1], not {near_dup_threshold}"
            )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections; the cached engine stays usable for later callers."""
        self.engine.dispose()

    # -- sources -----------------------------------------------------------------------------

    def sync_sources(self, infos: list[SourceInfo]) -> None:
        """Upsert the configured sources; scheduling state columns are left as they are.

        Sources missing from ``infos`` are not touched (a crawl may pass only a subset).
        """
        if not infos:
            return
        now = utcnow()
        with write_connection(self.engine) as conn:
            for info in infos:
                config = {
                    "kind": info.kind,
                    "url": info.url,
                    "title": info.title,
                    "language": info.language,
                    "timezone": info.timezone,
                    "enabled": info.enabled,
                    "fingerprint": info.fingerprint,
                }
                stmt = _insert(conn, sources).values(
                    name=info.name, created_at=now, consecutive_failures=0, **config
                )
                conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=config))

    def record_source_result(
        self,
        source: str,
        ok: bool,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        interval: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Record one fetch attempt: success resets the failure streak, failure extends it.

        ``etag``/``last_modified`` replace the stored validators only when given. With the
        source's ``interval`` (seconds), ``next_due`` becomes now + interval and a failure sets
        ``backoff_until`` by :func:`backoff_delay`, or later when the server's ``Retry-After``
        (``retry_after`` seconds, capped at 24 h) asks for more; a success always ends any backoff.
        """
        now = utcnow()
        state: dict[str, Any] = {"last_attempt": now}
        if interval is not None:
            state["next_due"] = now + timedelta(seconds=interval)
        if ok:
            state.update(
                last_success=now, consecutive_failures=0, last_error=None, backoff_until=None
            )
        else:
            state.update(
                consecutive_failures=sources.c.consecutive_failures + 1,
                last_error=clean_optional(error),
            )
        if etag is not None:
            state["etag"] = clean_text(etag)
        if last_modified is not None:
            state["last_modified"] = clean_text(last_modified)
        with write_connection(self.engine) as conn:
            insert_values = {k: v for k, v in state.items() if k != "consecutive_failures"}
            stmt = _insert(conn, sources).values(
                name=source,
                created_at=now,
                consecutive_failures=0 if ok else 1,
                **insert_values,
            )
            conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=state))
            if not ok and (interval is not None or retry_after):
                failures = conn.execute(
                    select(sources.c.consecutive_failures).where(sources.c.name == source)
                ).scalar_one()
                delay = backoff_delay(interval, failures) if interval is not None else timedelta()
                if retry_after:
                    delay = max(
                        delay, timedelta(seconds=min(retry_after, MAX_BACKOFF.total_seconds()))
                    )
                conn.execute(
                    update(sources)
                    .where(sources.c.name == source)
                    .values(backoff_until=now + delay)
                )

    def source_states(self) -> dict[str, dict[str, Any]]:
        """Scheduling state per source name (no article counts): one cheap read of ``sources``,
        for the daemon's every dispatch and the crawl's conditional-GET validators."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(sources).order_by(sources.c.name)).mappings().all()
        return {row["name"]: _state(row) for row in rows}

    def source_status(self) -> list[dict[str, Any]]:
        """One dict per known source with its state and article counts (by first-seen time)."""
        now = utcnow()
        day, week = now - timedelta(days=1), now - timedelta(days=7)
        a = articles.c
        stmt = (
            select(
                sources,
                func.count(a.id).label("articles_total"),
                func.coalesce(func.sum((a.first_seen_at >= day).cast(Integer)), 0).label(
                    "articles_24h"
                ),
                func.coalesce(func.sum((a.first_seen_at >= week).cast(Integer)), 0).label(
                    "articles_7d"
                ),
            )
            .select_from(sources.outerjoin(articles, a.source == sources.c.name))
            .group_by(sources.c.id)
            .order_by(sources.c.name)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        counts = ("articles_total", "articles_24h", "articles_7d")
        return [{**_state(row), **{k: row[k] for k in counts}} for row in rows]

    # -- articles ----------------------------------------------------------------------------

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """The subset of ``urls`` already stored (as fetched, canonical or alternate URL)."""
        return set(self.seen_urls(urls))

    def seen_urls(self, urls: Iterable[str]) -> dict[str, datetime]:
        """For each of ``urls`` already stored, when its article was last fetched (aware UTC).

        Off-topic articles a ``keep = "relevant"`` source did not keep (table ``skipped``) count
        as stored, so they are not fetched again either.

        Spiders ask this once per batch of links: a link is fetched again only when its feed or
        sitemap entry says it changed after that time.
        """
        wanted = list(dict.fromkeys(u for u in urls if u))
        found: dict[str, datetime] = {}
        if not wanted:
            return found
        a = articles.c
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), _URL_CHUNK):
                chunk = wanted[i : i + _URL_CHUNK]
                stmt = union_all(
                    select(article_urls.c.url, a.fetched_at)
                    .join(articles, a.id == article_urls.c.article_id)
                    .where(article_urls.c.url.in_(chunk)),
                    select(a.url, a.fetched_at).where(a.url.in_(chunk)),
                    select(a.canonical_url, a.fetched_at).where(a.canonical_url.in_(chunk)),
                    select(skipped.c.url, skipped.c.fetched_at).where(skipped.c.url.in_(chunk)),
                    select(skipped.c.canonical_url, skipped.c.fetched_at).where(
                        skipped.c.canonical_url.in_(chunk)
                    ),
                )
                for url, fetched in conn.execute(stmt):
                    when = _aware(fetched)
                    if url not in found or when > found[url]:
                        found[url] = when
        return found

    def store(self, records: list[ArticleRecord]) -> list[StoreResult]:
        """Upsert a batch in one write transaction; results align with ``records``.

        Outcomes: ``new``, ``updated`` (same key, different content hash), ``duplicate``, or
        ``error`` (article_id 0) for a record the database refused; the rest of the batch is kept.
        """
        if not records:
            return []
        now = utcnow()
        with write_connection(self.engine) as conn:
            try:
                with conn.begin_nested():
                    results = [self._store_record(conn, record, now) for record in records]
            except (IntegrityError, DataError, ValueError, TypeError):
                results = [self._store_guarded(conn, record, now) for record in records]
            _forget_skipped(conn, records, results)
        return results

    def _store_record(self, conn: Connection, record: ArticleRecord, now) -> StoreResult:
        """One record, no savepoint of its own: :meth:`store` first tries the whole batch under
        one savepoint (two statements fewer per article) and replays it record by record, each
        in its own savepoint, only when something in it was refused."""
        if not getattr(record, "kept", True):
            return _skip_one(conn, record, now)
        result = self._store_one(conn, record, now)
        if result.outcome in ("new", "updated"):
            _write_posts(conn, result.article_id, record.posts, replace=result.outcome != "new")
        return result

    def _store_guarded(self, conn: Connection, record: ArticleRecord, now) -> StoreResult:
        for attempt in (1, 2):
            try:
                with conn.begin_nested():
                    return self._store_record(conn, record, now)
            except IntegrityError as exc:
                if attempt == 2:
                    log.warning("could not store %s: %s", record.url, exc.orig)
            except (DataError, ValueError, TypeError) as exc:
                log.warning("could not store %s: %s", getattr(record, "url", record), exc)
                break
        return StoreResult("error", 0)

    def _store_one(self, conn: Connection, record: ArticleRecord, now) -> StoreResult:
        values = _article_values(record, now)
        insert_article, _ = _upsert_statements(conn.dialect.name)
        new_id = conn.execute(insert_article, values).scalar_one_or_none()
        if new_id is not None:
            result = StoreResult("new", new_id)
            clusters.assign(
                conn,
                new_id,
                record.minhash,
                values["source"],
                self.near_dup_threshold,
                shingles=values["shingles"],
                new=True,
            )
        else:
            existing = _find_existing(conn, values)
            if existing is None:
                raise IntegrityError("conflict without a matching row", None, Exception("race"))
            result = StoreResult("duplicate", existing["id"])
            conn.execute(
                update(articles)
                .where(articles.c.id == existing["id"])
                .values(fetched_at=values["fetched_at"])
            )
            if _is_change(existing, values):
                try:
                    with conn.begin_nested():
                        conn.execute(
                            update(articles)
                            .where(articles.c.id == existing["id"])
                            .values(**_update_values(existing, values, now))
                        )
                        clusters.assign(
                            conn,
                            existing["id"],
                            record.minhash,
                            values["source"],
                            self.near_dup_threshold,
                            shingles=values["shingles"],
                        )
                    result = StoreResult("updated", existing["id"])
                except IntegrityError:
                    pass  # new text equals another stored article of this source
        _record_urls(conn, result.article_id, record, values)
        return result

    def recluster(
        self,
        threshold: float | None = None,
        signer: Callable[[str], list[int] | None] | None = None,
        creditor: Callable[[str], str | None] | None = None,
        batch_size: int = 500,
        counter: Callable[[str], int | None] | None = None,
    ) -> dict[str, Any]:
        """Recompute story clusters from stored text, e.g. after a threshold change; no refetch.

        ``signer`` (the crawler's fingerprint function; storage cannot import it) re-signs every
        article and rewrites its LSH bands; without it the stored signatures are reused.
        ``creditor`` likewise re-reads ``credited_source``. Shingle counts (for containment) are
        recomputed with ``counter`` (the crawler's ``shingle_count``) when given, else estimated
        from the text for re-signed articles and for stored ones that have none. Articles are then
        re-assigned in id (arrival) order, each joining the best already re-assigned
        near-duplicate, as on ingest. Every step works in batches of ``batch_size`` in short write
        transactions.
        """
        if threshold is not None:
            self.near_dup_threshold = float(threshold)
        a = articles.c
        for batch in self._batches(select(a.id, a.text, a.minhash, a.shingles), batch_size):
            changes = []
            for row in batch:
                text = row.text or ""
                item: dict[str, Any] = {"id": row.id}
                signed = row.minhash is not None
                if signer is not None:
                    item["sig"] = signer(text)
                    signed = bool(item["sig"])
                if creditor is not None:
                    item["credited_source"] = creditor(text)
                if not signed:
                    if row.shingles is not None:
                        item["shingles"] = None
                elif counter is not None:
                    item["shingles"] = counter(text)
                elif signer is not None or row.shingles is None:
                    item["shingles"] = estimate_shingles(text)
                if len(item) > 1:
                    changes.append(item)
            if not changes:
                continue
            with write_connection(self.engine) as conn:
                for item in changes:
                    values: dict[str, Any] = {}
                    if "sig" in item:
                        values["minhash"] = pack_signature(item["sig"])
                        clusters.write_bands(conn, item["id"], item["sig"])
                    if "credited_source" in item:
                        values["credited_source"] = clean_optional(item["credited_source"])
                    if "shingles" in item:
                        values["shingles"] = item["shingles"]
                    conn.execute(update(articles).where(a.id == item["id"]).values(**values))
        with write_connection(self.engine) as conn:
            conn.execute(update(articles).values(cluster_id=None, cluster_rep=False))
        for batch in self._batches(select(a.id, a.source, a.minhash, a.shingles), batch_size):
            with write_connection(self.engine) as conn:
                for row in batch:
                    clusters.assign(
                        conn,
                        row.id,
                        unpack_signature(row.minhash),
                        row.source,
                        self.near_dup_threshold,
                        bands=False,
                        shingles=row.shingles,
                    )
        return self.cluster_summary() | {"threshold": self.near_dup_threshold}

    def _batches(self, stmt, size: int):
        """Rows of ``stmt`` by ascending article id, ``size`` at a time, each read on its own."""
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    stmt.where(articles.c.id > last).order_by(articles.c.id).limit(size)
                ).all()
            if not rows:
                return
            yield rows
            last = rows[-1].id

    def cluster_summary(self) -> dict[str, int]:
        """``articles``, ``clusters`` and ``multi_member_clusters`` (stories with copies)."""
        a = articles.c
        sizes = select(a.cluster_id, func.count().label("n")).group_by(a.cluster_id).subquery()
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(articles)).scalar_one()
            n_clusters, multi = conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum((sizes.c.n > 1).cast(Integer)), 0),
                ).select_from(sizes)
            ).one()
        return {"articles": total, "clusters": n_clusters, "multi_member_clusters": int(multi)}

    # -- analysis ----------------------------------------------------------------------------

    def iter_texts(self, batch: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Stored articles as ``{"id", "title", "text", "posts", "relevant"}``, ``batch`` at a time.

        Each batch is read in its own short transaction, so a rescore never holds a read
        snapshot open across the whole corpus and writers are not starved.
        """
        a = articles.c
        stmt = select(a.id, a.title, a.text, a.posts, a.relevant)
        for rows in self._batches(stmt, batch):
            yield [
                {
                    "id": r.id,
                    "title": r.title or "",
                    "text": r.text or "",
                    "posts": list(r.posts or []),
                    "relevant": None if r.relevant is None else bool(r.relevant),
                }
                for r in rows
            ]

    def update_analysis(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write ``relevance, relevant, topics, matched, entities`` of articles by ``id``.

        One write transaction for the given rows (pass one batch at a time); returns how many
        articles were updated. Text is untouched, so the full-text index is not rewritten.
        """
        count = 0
        with write_connection(self.engine) as conn:
            for row in rows:
                values = {
                    "relevance": row.get("relevance"),
                    "relevant": row.get("relevant"),
                    "topics": clean_json(dict(row.get("topics") or {})),
                    "matched": clean_json(dict(row.get("matched") or {})),
                    "entities": clean_json(list(row.get("entities") or [])),
                }
                result = conn.execute(
                    update(articles).where(articles.c.id == row["id"]).values(**values)
                )
                count += result.rowcount
        return count

    def analysis_summary(self) -> dict[str, int]:
        """``articles``, ``relevant``, ``unscored`` (kept articles) and ``skipped`` (not kept)."""
        a = articles.c
        with self.engine.connect() as conn:
            total, relevant, unscored = conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(a.relevant.cast(Integer)), 0),
                    func.coalesce(func.sum(a.relevance.is_(None).cast(Integer)), 0),
                )
            ).one()
            n_skipped = conn.execute(select(func.count()).select_from(skipped)).scalar_one()
        return {
            "articles": int(total),
            "relevant": int(relevant),
            "unscored": int(unscored),
            "skipped": int(n_skipped),
        }

    def raw_html(self, article_id: int) -> bytes | None:
        """The page as fetched (decompressed), for re-extraction and debugging."""
        with self.engine.connect() as conn:
            blob = conn.execute(
                select(articles.c.raw_html).where(articles.c.id == article_id)
            ).scalar_one_or_none()
        return decompress_html(blob) if blob else None

    # -- daemon lock -------------------------------------------------------------------------

    def acquire_daemon_lock(self, pid: int, host: str, stale_after: float) -> dict[str, Any] | None:
        """Become the database's one daemon: None on success, else the live holder.

        A holder whose heartbeat is older than ``stale_after`` seconds, or whose process is gone
        (same host), is taken over.
        """
        now = utcnow()
        with write_connection(self.engine) as conn:
            row = conn.execute(select(daemon_lock).where(daemon_lock.c.id == 1)).mappings().first()
            if row is not None and row["pid"] != pid and _holder_alive(row, now, stale_after, host):
                return _holder(row)
            values = {"pid": pid, "host": host, "started_at": now, "heartbeat_at": now}
            stmt = _insert(conn, daemon_lock).values(id=1, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))
        return None

    def daemon_heartbeat(self, pid: int) -> None:
        with write_connection(self.engine) as conn:
            conn.execute(
                update(daemon_lock).where(daemon_lock.c.pid == pid).values(heartbeat_at=utcnow())
            )

    def daemon_info(self, stale_after: float, host: str) -> dict[str, Any] | None:
        """The daemon registered on this database, with ``alive`` by the same rule the lock uses."""
        with self.engine.connect() as conn:
            row = conn.execute(select(daemon_lock).where(daemon_lock.c.id == 1)).mappings().first()
        if row is None:
            return None
        return {**_holder(row), "alive": _holder_alive(row, utcnow(), stale_after, host)}

    def release_daemon_lock(self, pid: int) -> None:
        """Drop the lock if ``pid`` holds it (a no-op otherwise)."""
        with write_connection(self.engine) as conn:
            conn.execute(daemon_lock.delete().where(daemon_lock.c.pid == pid))

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, source: str, pid: int) -> int:
        with write_connection(self.engine) as conn:
            stmt = (
                _insert(conn, crawl_runs)
                .values(source=source, started_at=utcnow(), outcome="running", pid=pid)
                .returning(crawl_runs.c.id)
            )
            return conn.execute(stmt).scalar_one()

    def cached_robots(self, netloc: str, max_age: float) -> tuple[int, bytes] | None:
        """``(status, body)`` of the site's robots.txt if fetched less than ``max_age`` s ago."""
        if max_age <= 0:
            return None
        since = utcnow() - timedelta(seconds=max_age)
        r = robots_txt.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(r.status, r.body).where(r.netloc == netloc, r.fetched_at > since)
            ).first()
        return None if row is None else (int(row.status), bytes(row.body))

    def save_robots(self, netloc: str, status: int, body: bytes) -> None:
        """Keep a site's robots.txt as just fetched (the newest fetch replaces the old one)."""
        values = {
            "netloc": netloc,
            "status": int(status),
            "body": bytes(body),
            "fetched_at": utcnow(),
        }
        stmt = _dialect_insert(self.engine.dialect.name)(robots_txt).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[robots_txt.c.netloc],
            set_={k: stmt.excluded[k] for k in ("status", "body", "fetched_at")},
        )
        with write_connection(self.engine) as conn:
            conn.execute(stmt)

    def finish_run(
        self, run_id: int, outcome: str, counts: Mapping[str, Any], error: str | None
    ) -> None:
        if outcome not in RUN_OUTCOMES:
            raise ValueError(f"unknown run outcome {outcome!r}; expected one of {RUN_OUTCOMES}")
        with write_connection(self.engine) as conn:
            conn.execute(
                update(crawl_runs)
                .where(crawl_runs.c.id == run_id)
                .values(
                    finished_at=utcnow(),
                    outcome=outcome,
                    counts=clean_json(dict(counts)),
                    error=clean_optional(error),
                )
            )

    def close_open_runs(self, source: str, pid: int, outcome: str, error: str | None) -> int:
        """Finish the runs a (dead) crawl process left ``running`` for ``source``; returns how many."""
        return self._close_runs(
            outcome, error, (crawl_runs.c.source == source) & (crawl_runs.c.pid == pid)
        )

    def abort_running_runs(self, error: str) -> int:
        """Mark every run still ``running`` as ``aborted`` (a daemon start: nobody owns them)."""
        return self._close_runs("aborted", error)

    def _close_runs(self, outcome: str, error: str | None, *where) -> int:
        if outcome not in RUN_OUTCOMES:
            raise ValueError(f"unknown run outcome {outcome!r}; expected one of {RUN_OUTCOMES}")
        with write_connection(self.engine) as conn:
            result = conn.execute(
                update(crawl_runs)
                .where(crawl_runs.c.outcome == "running", *where)
                .values(finished_at=utcnow(), outcome=outcome, error=clean_optional(error))
            )
            return result.rowcount

    def recent_runs(self, limit: int = 20, source: str | None = None) -> list[dict[str, Any]]:
        """Latest runs first, times as aware UTC datetimes."""
        stmt = select(crawl_runs).order_by(crawl_runs.c.id.desc()).limit(limit)
        if source is not None:
            stmt = stmt.where(crawl_runs.c.source == source)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [
            {
                **row,
                "started_at": _aware(row["started_at"]),
                "finished_at": _aware(row["finished_at"]),
            }
            for row in rows
        ]


def backoff_delay(interval: float, failures: int) -> timedelta:
    """Exponential backoff after ``failures`` failures in a row: interval × 2^(n-1), ≤ 24 h.

    Never shorter than the interval itself, so a flapping source is not polled more often.
    """
    factor = 2 ** min(max(failures - 1, 0), 16)
    return timedelta(seconds=max(interval, min(interval * factor, MAX_BACKOFF.total_seconds())))


_STATE_KEYS = (
    "name", "title", "kind", "url", "language", "timezone", "enabled", "etag", "last_modified",
    "last_attempt", "last_success", "consecutive_failures", "last_error", "next_due",
    "backoff_until",
)  # fmt: skip


def _state(row: Mapping[str, Any]) -> dict[str, Any]:
    item = {k: row[k] for k in _STATE_KEYS}
    for k in ("last_attempt", "last_success", "next_due", "backoff_until"):
        item[k] = _aware(item[k])
    item["enabled"] = bool(item["enabled"])
    return item


def _holder(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "pid": row["pid"],
        "host": row["host"],
        "started_at": _aware(row["started_at"]),
        "heartbeat_at": _aware(row["heartbeat_at"]),
    }


def _holder_alive(row: Mapping[str, Any], now, stale_after: float, host: str) -> bool:
    """A daemon is alive while its heartbeat is fresh and, on this host, its process exists."""
    fresh = row["heartbeat_at"] >= now - timedelta(seconds=stale_after)
    return fresh and not (row["host"] == host and not _pid_alive(row["pid"]))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _article_values(record: ArticleRecord, now) -> dict[str, Any]:
    for name in ("source", "url", "content_hash"):
        if not isinstance(getattr(record, name), str) or not getattr(record, name):
            raise ValueError(f"record has no {name}")
    published_at, published_offset = split_offset(record.published_at)
    updated_at, updated_offset = split_offset(record.updated_at)
    return {
        "source": clean_text(record.source),
        "url": clean_text(record.url),
        "canonical_url": clean_text(record.canonical_url or record.url),
        "guid": clean_optional(record.guid) or None,
        "title": clean_text(record.title or ""),
        "text": clean_text(record.text or ""),
        "authors": clean_json(list(record.authors)),
        "published_at": published_at,
        "published_offset": published_offset,
        "updated_at": updated_at,
        "updated_offset": updated_offset,
        "language": clean_optional(record.language),
        "section": clean_optional(record.section),
        "tags": clean_json(list(record.tags)),
        "image": clean_optional(record.image),
        "description": clean_optional(record.description),
        "raw_html": _raw_html(record),
        "content_hash": clean_text(record.content_hash),
        "fetched_at": to_utc(record.fetched_at) or now,
        "first_seen_at": now,
        "posts": clean_json(list(record.posts)) or None,
        "relevance": record.relevance,
        "relevant": record.relevant,
        "topics": clean_json(dict(record.topics)) if record.relevance is not None else None,
        "matched": clean_json(dict(record.matched)) if record.relevance is not None else None,
        "entities": clean_json(list(record.entities)) if record.relevance is not None else None,
        "minhash": pack_signature(record.minhash),
        "shingles": _shingle_count(record),
        "credited_source": clean_optional(record.credited_source),
    }


def _raw_html(record: ArticleRecord) -> bytes | None:
    if record.raw_html_z is not None:
        return record.raw_html_z or None
    return compress_html(record.raw_html) if record.raw_html else None


def _shingle_count(record: ArticleRecord) -> int | None:
    """The signature's set size: the crawler's exact count, else an estimate from the text."""
    if not record.minhash:
        return None
    count = getattr(record, "shingle_count", None)
    return int(count) if count else estimate_shingles(record.text)


def _find_existing(conn: Connection, values: Mapping[str, Any]):
    """The stored row this record collided with, by the fixed key order."""
    a = articles.c
    cols = (a.id, a.content_hash, a.updated_at, a.published_at)
    keys = []
    if values["guid"] is not None:
        keys.append((a.source == values["source"]) & (a.guid == values["guid"]))
    keys.append(a.canonical_url == values["canonical_url"])
    keys.append((a.source == values["source"]) & (a.content_hash == values["content_hash"]))
    for key in keys:
        row = conn.execute(select(*cols).where(key)).mappings().first()
        if row is not None:
            return row
    return None


def _is_change(existing: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Different text at the same key, unless the record is visibly older than what we have."""
    if existing["content_hash"] == values["content_hash"]:
        return False
    old, new = existing["updated_at"], values["updated_at"]
    return not (old is not None and new is not None and new < old)


def _update_values(existing: Mapping[str, Any], values: Mapping[str, Any], now) -> dict[str, Any]:
    changed = {
        k: values[k]
        for k in (
            "title", "text", "authors", "language", "section", "tags", "image",
            "description", "raw_html", "content_hash", "fetched_at", "posts",
            "minhash", "shingles", "credited_source", "relevance", "relevant", "topics",
            "matched", "entities",
        )
    }  # fmt: skip
    if values["updated_at"] is not None:
        changed.update(updated_at=values["updated_at"], updated_offset=values["updated_offset"])
    else:
        changed.update(updated_at=now, updated_offset=None)
    if existing["published_at"] is None and values["published_at"] is not None:
        changed.update(
            published_at=values["published_at"], published_offset=values["published_offset"]
        )
    changed["last_changed_at"] = now
    return changed


def _record_urls(
    conn: Connection, article_id: int, record: ArticleRecord, values: Mapping[str, Any]
) -> None:
    urls = [values["url"], *(clean_text(u) for u in record.alt_urls), values["canonical_url"]]
    rows = [{"url": u, "article_id": article_id} for u in dict.fromkeys(u for u in urls if u)]
    if rows:
        conn.execute(_upsert_statements(conn.dialect.name)[1], rows)


def _forget_skipped(
    conn: Connection, records: list[ArticleRecord], results: list[StoreResult]
) -> None:
    """Forget earlier off-topic skips of the URLs now stored whole (one statement per batch)."""
    urls = {
        clean_text(u)
        for record, result in zip(records, results, strict=True)
        if result.outcome in ("new", "updated")
        for u in (record.canonical_url, record.url)
        if u
    }
    ordered = sorted(urls)
    for i in range(0, len(ordered), _URL_CHUNK):
        conn.execute(_FORGET_SKIPPED, {"urls": ordered[i : i + _URL_CHUNK]})


_FORGET_SKIPPED = skipped.delete().where(
    skipped.c.canonical_url.in_(bindparam("urls", expanding=True))
)


def _write_posts(
    conn: Connection, article_id: int, items: Iterable[Mapping[str, Any]], *, replace: bool = True
) -> None:
    """The article's embedded posts; ``replace=False`` for an article inserted just now."""
    if replace:
        conn.execute(posts.delete().where(posts.c.article_id == article_id))
    rows = [
        {
            "article_id": article_id,
            "position": i,
            "platform": clean_text(str(p.get("platform") or "unknown")),
            "author": clean_optional(p.get("author")),
            "handle": clean_optional(p.get("handle")),
            "date": clean_optional(p.get("date")),
            "url": clean_optional(p.get("url")),
            "text": clean_optional(p.get("text")),
        }
        for i, p in enumerate(items)
    ]
    if rows:
        conn.execute(posts.insert(), rows)


def _skip_one(conn: Connection, record: ArticleRecord, now) -> StoreResult:
    """Remember an off-topic article without its text: upsert by canonical URL."""
    if not record.url or not record.content_hash:
        raise ValueError("record has no url or content_hash")
    published_at, published_offset = split_offset(record.published_at)
    canonical = clean_text(record.canonical_url or record.url)
    values = {
        "source": clean_text(record.source),
        "url": clean_text(record.url),
        "title": clean_text(record.title or ""),
        "published_at": published_at,
        "published_offset": published_offset,
        "relevance": record.relevance,
        "topics": clean_json(dict(record.topics)),
        "content_hash": clean_text(record.content_hash),
        "fetched_at": to_utc(record.fetched_at) or now,
    }
    stmt = _insert(conn, skipped).values(canonical_url=canonical, first_seen_at=now, **values)
    stmt = stmt.on_conflict_do_update(index_elements=["canonical_url"], set_=values)
    conn.execute(stmt)
    ident = conn.execute(
        select(skipped.c.id).where(skipped.c.canonical_url == canonical)
    ).scalar_one()
    return StoreResult("skipped", ident)
