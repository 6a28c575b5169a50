"""The shared robots.txt cache: every crawl process reads a site's rules from here, so a site is
asked for its robots.txt once per ``max_age`` instead of once per process."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.db import write_connection
from storage.models import robots_txt
from storage.records import utcnow
from storage.store.base import StoreBase, dialect_insert


class RobotsCache(StoreBase):
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
        stmt = dialect_insert(self.engine.dialect.name)(robots_txt).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[robots_txt.c.netloc],
            set_={k: stmt.excluded[k] for k in ("status", "body", "fetched_at")},
        )
        with write_connection(self.engine) as conn:
            conn.execute(stmt)
