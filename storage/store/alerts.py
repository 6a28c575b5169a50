"""Alert state: each rule's watermark, its deliveries (exactly once under the unique key on
(rule, key)), and the source health a health rule last reported.

A delivery is inserted if absent, so a story matched twice (a later copy, a restart before the
watermark moved) is queued once; it is marked sent only after every channel accepted it, each
channel recorded as it succeeds, so a crash resends only what was not yet accepted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from storage.models import alert_deliveries, alert_health, alert_rules, article_versions, articles
from storage.records import to_utc
from storage.store.base import aware, insert

d = alert_deliveries.c
r = alert_rules.c


def _naive(value: datetime) -> datetime:
    return to_utc(value).replace(tzinfo=None)


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = aware(value)
    return out


class AlertState:
    """The alerts' part of :class:`storage.store.Store`."""

    def alert_rule(self, name: str, now: datetime, backfill: bool = False) -> dict[str, Any]:
        """The rule's row, created on first sight: it starts from the newest stored article
        and article version (only later stories and edits are new to it) unless ``backfill``,
        which starts from the first."""
        with self.engine.begin() as conn:
            row = conn.execute(select(alert_rules).where(r.name == name)).first()
            if row is None:
                start = 0 if backfill else self._max_article_id(conn)
                versions = 0 if backfill else self._max_version_id(conn)
                conn.execute(
                    insert(conn, alert_rules)
                    .values(
                        name=name,
                        created_at=_naive(now),
                        start_id=start,
                        last_id=start,
                        last_version_id=versions,
                    )
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                row = conn.execute(select(alert_rules).where(r.name == name)).first()
        return _row(row)

    def alert_rules_state(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            return {row.name: _row(row) for row in conn.execute(select(alert_rules))}

    def max_article_id(self) -> int:
        with self.engine.connect() as conn:
            return self._max_article_id(conn)

    @staticmethod
    def _max_article_id(conn) -> int:
        return conn.execute(select(func.max(articles.c.id))).scalar() or 0

    def max_version_id(self) -> int:
        with self.engine.connect() as conn:
            return self._max_version_id(conn)

    @staticmethod
    def _max_version_id(conn) -> int:
        return conn.execute(select(func.max(article_versions.c.id))).scalar() or 0

    def alerted_stories(self, rule: str, story_ids: list[int]) -> set[int]:
        """The stories among ``story_ids`` whose "new story" message the rule has sent: only
        they may have a change alerted (a change of a story never told is not news to anyone)."""
        out: set[int] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(story_ids), 500):
                keys = [f"story:{sid}" for sid in story_ids[i : i + 500]]
                rows = conn.execute(
                    select(d.story_id).where(d.rule == rule, d.key.in_(keys), d.state == "sent")
                )
                out.update(sid for (sid,) in rows)
        return out

    def story_first_ids(self, story_ids: list[int]) -> dict[int, int]:
        """Per story (cluster id): the id of its first stored article, to tell new stories."""
        out: dict[int, int] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(story_ids), 500):
                chunk = story_ids[i : i + 500]
                rows = conn.execute(
                    select(articles.c.cluster_id, func.min(articles.c.id))
                    .where(articles.c.cluster_id.in_(chunk))
                    .group_by(articles.c.cluster_id)
                )
                out.update({cid: first for cid, first in rows})
        return out

    def queue_deliveries(
        self,
        rule: str,
        items: list[dict[str, Any]],
        now: datetime,
        last_id: int | None = None,
        last_version_id: int | None = None,
    ) -> int:
        """Insert each item (``key``, ``kind``, ``story_id``, ``payload``) unless the rule has
        it already, and move the rule's watermarks (articles, versions) in one transaction;
        returns how many are new."""
        added = 0
        with self.engine.begin() as conn:
            for item in items:
                result = conn.execute(
                    insert(conn, alert_deliveries)
                    .values(
                        rule=rule,
                        key=item["key"],
                        story_id=item.get("story_id"),
                        kind=item["kind"],
                        state="pending",
                        attempts=0,
                        matched_at=_naive(now),
                        channels_sent=[],
                        payload=item.get("payload"),
                    )
                    .on_conflict_do_nothing(index_elements=["rule", "key"])
                )
                added += result.rowcount or 0
            values: dict[str, Any] = {"last_evaluated_at": _naive(now)}
            if last_id is not None:
                values["last_id"] = last_id
            if last_version_id is not None:
                values["last_version_id"] = last_version_id
            conn.execute(update(alert_rules).where(r.name == rule).values(**values))
        return added

    def pending_deliveries(
        self, rule: str, kinds: tuple[str, ...], now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The rule's pending rows of these kinds, oldest first; with ``now``, only those whose
        retry time has come."""
        stmt = select(alert_deliveries).where(
            d.rule == rule, d.state == "pending", d.kind.in_(kinds)
        )
        if now is not None:
            stmt = stmt.where((d.next_attempt_at.is_(None)) | (d.next_attempt_at <= _naive(now)))
        with self.engine.connect() as conn:
            return [_row(row) for row in conn.execute(stmt.order_by(d.id))]

    def delivery_channel_sent(self, ids: list[int], channel: int) -> None:
        """Record that ``channel`` accepted these rows, at once: a crash now never resends there."""
        with self.engine.begin() as conn:
            for row in conn.execute(select(d.id, d.channels_sent).where(d.id.in_(ids))):
                done = sorted({*(row.channels_sent or []), channel})
                conn.execute(
                    update(alert_deliveries).where(d.id == row.id).values(channels_sent=done)
                )

    def deliveries_sent(self, ids: list[int], now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(alert_deliveries)
                .where(d.id.in_(ids))
                .values(state="sent", sent_at=_naive(now), last_error=None, attempts=d.attempts + 1)
            )

    def deliveries_failed(
        self, ids: list[int], error: str, now: datetime, backoff: float, give_up_after: int
    ) -> None:
        """One failed attempt: retry after ``backoff`` × 2^(attempts), at most a day; after
        ``give_up_after`` attempts the rows are ``failed`` for good."""
        with self.engine.begin() as conn:
            for row in conn.execute(select(d.id, d.attempts).where(d.id.in_(ids))):
                attempts = row.attempts + 1
                delay = min(backoff * 2 ** (attempts - 1), 86400.0)
                conn.execute(
                    update(alert_deliveries)
                    .where(d.id == row.id)
                    .values(
                        attempts=attempts,
                        last_error=error[:1000],
                        state="failed" if attempts >= give_up_after else "pending",
                        next_attempt_at=_naive(now + timedelta(seconds=delay)),
                    )
                )

    def sent_since(self, rule: str, since: datetime) -> int:
        """Messages (rows) of the rule sent since ``since``: what ``max_per_hour`` counts."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).where(
                    d.rule == rule, d.state == "sent", d.sent_at >= _naive(since)
                )
            ).scalar_one()

    def set_last_digest(self, rule: str, when: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(alert_rules).where(r.name == rule).values(last_digest_at=_naive(when))
            )

    def delivery_history(self, rule: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        stmt = select(alert_deliveries).order_by(d.id.desc()).limit(limit)
        if rule is not None:
            stmt = stmt.where(d.rule == rule)
        with self.engine.connect() as conn:
            return [_row(row) for row in conn.execute(stmt)]

    def delivery_counts(self) -> dict[str, dict[str, Any]]:
        """Per rule: ``pending``, ``failing`` (pending after a failed attempt, or failed),
        ``sent`` and ``last_sent``; plus ``last_error``."""
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(d.rule, d.state, d.attempts, d.sent_at, d.last_error).order_by(d.id)
            )
            for row in rows:
                item = out.setdefault(
                    row.rule,
                    {"pending": 0, "failing": 0, "sent": 0, "last_sent": None, "last_error": None},
                )
                if row.state == "sent":
                    item["sent"] += 1
                    sent = aware(row.sent_at)
                    item["last_sent"] = max(filter(None, (item["last_sent"], sent)))
                    continue
                item["pending"] += row.state == "pending"
                if row.state == "failed" or row.attempts:
                    item["failing"] += 1
                    item["last_error"] = row.last_error
        return out

    def health_states(self, rule: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alert_health).where(alert_health.c.rule == rule))
            return {row.source: _row(row) for row in rows}

    def set_health_state(self, rule: str, source: str, state: str, since: datetime) -> None:
        with self.engine.begin() as conn:
            stmt = insert(conn, alert_health).values(
                rule=rule, source=source, state=state, since=_naive(since)
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["rule", "source"],
                    set_={"state": state, "since": _naive(since)},
                )
            )

    def last_stored(self) -> dict[str, datetime]:
        """Per source, when its newest article was first stored: what "silent" is measured on."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(articles.c.source, func.max(articles.c.first_seen_at)).group_by(
                    articles.c.source
                )
            )
            return {source: aware(when) for source, when in rows}
