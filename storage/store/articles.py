"""Articles: upserts with dedupe, and which URLs are already stored.

Dedupe never does check-then-insert (two crawl processes would race). Each record is inserted with
``INSERT … ON CONFLICT DO NOTHING RETURNING id``; the unique indexes on ``(source, guid)``,
``canonical_url`` and ``(source, content_hash)`` decide. Only when nothing was inserted is the
existing row looked up, in that key order, and updated in place if its text changed. A batch is one
short write transaction with a SAVEPOINT per record, so one bad record cannot sink the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, select, union_all, update
from sqlalchemy.exc import DataError, IntegrityError

from storage import clusters, versions
from storage.db import write_connection
from storage.models import article_urls, articles, posts, skipped
from storage.neardup import estimate_shingles, pack_signature
from storage.records import (
    clean_json,
    clean_optional,
    clean_text,
    compress_html,
    decompress_html,
    split_offset,
    to_utc,
    utcnow,
)
from storage.schedule import next_revisit
from storage.store.base import StoreBase, aware, dialect_insert, insert
from storage.types import ArticleRecord, StoreResult

log = logging.getLogger("storage.store")

_URL_CHUNK = 300  # three IN lists per query stays under SQLite's old 999-variable limit


@lru_cache(maxsize=4)
def _upsert_statements(dialect: str) -> tuple[Any, Any]:
    """The two statements every new article runs, built once per dialect and executed with
    separate parameters, so SQLAlchemy reuses their compiled form instead of building and
    cache-keying a 30-column INSERT per article (that was most of the store's CPU time)."""
    build = dialect_insert(dialect)
    return (
        build(articles).on_conflict_do_nothing().returning(articles.c.id),
        build(article_urls).on_conflict_do_nothing(),
    )


class ArticleWrites(StoreBase):
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
                    when = aware(fetched)
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
            restored = existing["withdrawn_at"] is not None
            change = restored or _is_change(existing, values)
            previous = versions.previous_row(conn, existing["id"]) if change else None
            conn.execute(
                update(articles)
                .where(articles.c.id == existing["id"])
                .values(fetched_at=values["fetched_at"], **({} if change else _validators(values)))
            )
            if change:
                try:
                    with conn.begin_nested():
                        replacing = _update_values(existing, values, now) | {"withdrawn_at": None}
                        conn.execute(
                            update(articles)
                            .where(articles.c.id == existing["id"])
                            .values(**replacing)
                        )
                        page = _as_page(previous, replacing, values)
                        event = "restored" if restored else None
                        versions.record_version(conn, previous, page, now, event=event)
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

    def raw_html(self, article_id: int) -> bytes | None:
        """The page as fetched (decompressed), for re-extraction and debugging."""
        with self.engine.connect() as conn:
            blob = conn.execute(
                select(articles.c.raw_html).where(articles.c.id == article_id)
            ).scalar_one_or_none()
        return decompress_html(blob) if blob else None


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
        "date_source": clean_optional(record.date_source) if published_at else "none",
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
        "next_revisit_at": next_revisit(now, now),
        "etag": clean_optional(record.etag),
        "last_modified": clean_optional(record.last_modified),
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
    cols = (
        a.id, a.content_hash, a.updated_at, a.published_at, a.date_source, a.title,
        a.description, a.authors, a.withdrawn_at,
    )  # fmt: skip
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


_EDITABLE = ("title", "description", "authors")


def _is_change(existing: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Different text, headline, description or byline at the same key, unless the record is
    visibly older than what we have (each such change becomes a version: storage/versions.py)."""
    if existing["content_hash"] == values["content_hash"] and all(
        (existing[f] or None) == (values[f] or None) for f in _EDITABLE
    ):
        return False
    old, new = existing["updated_at"], values["updated_at"]
    return not (old is not None and new is not None and new < old)


_WEAK_DATE_SOURCES = frozenset({"url", "none"})


def _dates_better(existing: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """A stored publication date is kept, unless there was none or only the URL's day: the first
    date a page showed is the publication, a later fetch may show an update."""
    if existing["published_at"] is None:
        return True
    return existing["date_source"] == "url" and values["date_source"] not in _WEAK_DATE_SOURCES


def _update_values(existing: Mapping[str, Any], values: Mapping[str, Any], now) -> dict[str, Any]:
    changed = {
        k: values[k]
        for k in (
            "title", "text", "authors", "language", "section", "tags", "image",
            "description", "raw_html", "content_hash", "fetched_at", "posts",
            "minhash", "shingles", "credited_source", "relevance", "relevant", "topics",
            "matched", "entities", "etag", "last_modified",
        )
    }  # fmt: skip
    if values["updated_at"] is not None:
        changed.update(updated_at=values["updated_at"], updated_offset=values["updated_offset"])
    else:
        changed.update(updated_at=now, updated_offset=None)
    if values["published_at"] is not None and _dates_better(existing, values):
        changed.update(
            published_at=values["published_at"],
            published_offset=values["published_offset"],
            date_source=values["date_source"],
        )
    changed["last_changed_at"] = now
    return changed


def _validators(values: Mapping[str, Any]) -> dict[str, Any]:
    """The page's ETag/Last-Modified when this fetch had them (else the stored ones stay); a
    changed page's go with its new text, in the update that may yet be refused."""
    return {k: values[k] for k in ("etag", "last_modified") if values[k] is not None}


def _as_page(previous: Mapping[str, Any], replacing: Mapping[str, Any], values) -> dict:
    """The new version's fields as the page gave them: an ``updated_at`` we stamped ourselves
    (the page showed none) is not an edit of the page."""
    page = {**previous, **replacing}
    if values["updated_at"] is None:
        page["updated_at"] = previous["updated_at"]
    return page


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
    stmt = insert(conn, skipped).values(canonical_url=canonical, first_seen_at=now, **values)
    stmt = stmt.on_conflict_do_update(index_elements=["canonical_url"], set_=values)
    conn.execute(stmt)
    ident = conn.execute(
        select(skipped.c.id).where(skipped.c.canonical_url == canonical)
    ).scalar_one()
    return StoreResult("skipped", ident)
