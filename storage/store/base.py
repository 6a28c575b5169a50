"""What every part of :class:`storage.store.Store` shares: the engine, dialect-aware upserts and
reading a table in id-ordered batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Self

from sqlalchemy import Connection, Row, Select
from sqlalchemy.dialects import sqlite

from storage.db import get_engine
from storage.models import articles
from storage.neardup import valid_threshold
from storage.records import join_offset


def dialect_insert(dialect: str):
    """The dialect's INSERT construct, so ``on_conflict_*`` is available on SQLite and PostgreSQL."""
    if dialect == "sqlite":
        return sqlite.insert
    from sqlalchemy.dialects import postgresql  # ~35 ms of imports a SQLite process never needs

    return postgresql.insert


def insert(conn: Connection, table):
    return dialect_insert(conn.dialect.name)(table)


def aware(value):
    """A stored naive UTC time as an aware one (None stays None)."""
    return join_offset(value, 0)


class StoreBase:
    """Storage handle for one database URL; cheap to create (engines are cached per URL)."""

    def __init__(self, url: str, near_dup_threshold: float | None = None):
        self.url = url
        self.engine = get_engine(url)
        self.near_dup_threshold = valid_threshold(near_dup_threshold)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections; the cached engine stays usable for later callers."""
        self.engine.dispose()

    def _batches(self, stmt: Select, size: int) -> Iterator[Sequence[Row]]:
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
