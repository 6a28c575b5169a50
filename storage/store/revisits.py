"""Revisits of recent articles (``revisit = "news"`` sources): which are due, what a revisit
found (unchanged, or gone: withdrawn), and the page validators for conditional GET.

A revisit that finds a changed page goes through the normal pipeline and :meth:`store`; only the
outcomes that produce no record are written here. When an article is due is decided in
:func:`storage.schedule.next_revisit`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from storage import versions
from storage.db import write_connection
from storage.models import articles
from storage.records import to_utc
from storage.schedule import next_revisit
from storage.store.base import StoreBase, aware


class Revisits(StoreBase):
    def due_revisits(self, source: str, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` articles of ``source`` due for a revisit at ``now``, most overdue
        first, each with ``id``, ``url`` and the validators ``etag``/``last_modified``."""
        a = articles.c
        stmt = (
            select(a.id, a.url, a.etag, a.last_modified)
            .where(a.source == source, a.withdrawn_at.is_(None))
            .where(a.next_revisit_at.is_not(None), a.next_revisit_at <= to_utc(now))
            .order_by(a.next_revisit_at, a.id)
            .limit(max(limit, 0))
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(stmt).mappings()]

    def schedule_revisit(self, article_id: int, checked: datetime) -> datetime | None:
        """After a revisit of an article at ``checked``: store and return the next revisit time
        (None: no more revisits). The page's validators are stored with its text, by
        :meth:`store`, never here: a crash in between would pair them with the old text."""
        with write_connection(self.engine) as conn:
            first = conn.execute(
                select(articles.c.first_seen_at).where(articles.c.id == article_id)
            ).scalar_one_or_none()
            if first is None:
                return None
            due = next_revisit(aware(first), checked)
            conn.execute(
                update(articles)
                .where(articles.c.id == article_id)
                .values(next_revisit_at=to_utc(due))
            )
        return due

    def withdraw(self, article_id: int, now: datetime) -> bool:
        """The page now answers 404/410: mark the article withdrawn (a version too), never delete
        it. False when it was already withdrawn or does not exist."""
        with write_connection(self.engine) as conn:
            previous = versions.previous_row(conn, article_id)
            if previous is None:
                return False
            done = conn.execute(
                update(articles)
                .where(articles.c.id == article_id, articles.c.withdrawn_at.is_(None))
                .values(withdrawn_at=to_utc(now), next_revisit_at=None)
            ).rowcount
            if done:
                versions.record_version(conn, previous, previous, to_utc(now), event="withdrawn")
        return bool(done)
