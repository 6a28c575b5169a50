"""Per-source activity for the sources page (articles first seen per day), and what an article
page shows that the export record leaves out (first-seen time, the terms behind its topics)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from storage.db import get_engine
from storage.models import articles
from storage.records import iso, join_offset


def daily_counts(url: str, days: int = 30, *, today: date | None = None) -> dict[str, list[int]]:
    """Per source, articles first seen on each of the last ``days`` UTC days, oldest first
    (today last). Counted by first-seen time, like the 24 h / 7 d counts of the status: what
    the crawler found each day, not when the outlet dated it."""
    if days < 1:
        raise ValueError("days must be at least 1")
    last = today or datetime.now(UTC).date()
    first = last - timedelta(days=days - 1)
    a = articles.c
    day = func.date(a.first_seen_at)
    stmt = (
        select(a.source, day.label("day"), func.count().label("n"))
        .where(a.first_seen_at >= datetime(first.year, first.month, first.day))
        .group_by(a.source, day)
    )
    out: dict[str, list[int]] = {}
    with get_engine(url).connect() as conn:
        for source, when, n in conn.execute(stmt):
            index = (date.fromisoformat(str(when)[:10]) - first).days
            if 0 <= index < days:
                out.setdefault(source, [0] * days)[index] += n
    return out


def article_extra(url: str, article_id: int) -> dict[str, Any] | None:
    """What an article page shows beyond the record: ``first_seen_at`` and ``last_changed_at``
    (ISO, UTC) and ``matched`` (per topic, the terms that produced it, with counts), or None."""
    a = articles.c
    stmt = select(a.first_seen_at, a.last_changed_at, a.matched).where(a.id == article_id)
    with get_engine(url).connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return {
        "first_seen_at": iso(join_offset(row.first_seen_at, 0)),
        "last_changed_at": iso(join_offset(row.last_changed_at, 0)),
        "matched": row.matched or {},
    }
