"""Source rows: the configured sources and their scheduling state after each fetch attempt.

When a source is due again and how long it backs off is decided in :mod:`storage.schedule`; this
part only writes and reads the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Integer, func, select, update

from storage import schedule
from storage.db import write_connection
from storage.models import articles, sources
from storage.records import clean_optional, clean_text, utcnow
from storage.store.base import StoreBase, aware, insert
from storage.types import SourceInfo

_STATE_KEYS = (
    "name", "title", "kind", "url", "language", "timezone", "enabled", "etag", "last_modified",
    "last_attempt", "last_success", "consecutive_failures", "last_error", "next_due",
    "backoff_until",
)  # fmt: skip


class SourceState(StoreBase):
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
                stmt = insert(conn, sources).values(
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
        source's ``interval`` (seconds) ``next_due`` moves on, and a failure sets
        ``backoff_until``, both by the rules of :mod:`storage.schedule` (which also weighs the
        server's ``Retry-After``, ``retry_after`` seconds); a success always ends any backoff.
        """
        now = utcnow()
        state: dict[str, Any] = {"last_attempt": now}
        next_due = schedule.next_due_after(now, interval)
        if next_due is not None:
            state["next_due"] = next_due
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
            stmt = insert(conn, sources).values(
                name=source,
                created_at=now,
                consecutive_failures=0 if ok else 1,
                **insert_values,
            )
            failures = conn.execute(
                stmt.on_conflict_do_update(index_elements=["name"], set_=state).returning(
                    sources.c.consecutive_failures
                )
            ).scalar_one()
            until = None if ok else schedule.backoff_until(now, interval, failures, retry_after)
            if until is not None:
                conn.execute(
                    update(sources).where(sources.c.name == source).values(backoff_until=until)
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


def _state(row: Mapping[str, Any]) -> dict[str, Any]:
    item = {k: row[k] for k in _STATE_KEYS}
    for k in ("last_attempt", "last_success", "next_due", "backoff_until"):
        item[k] = aware(item[k])
    item["enabled"] = bool(item["enabled"])
    return item
