"""The cluster as ``newswatch status`` shows it: who schedules, which workers live, the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from scheduler.cluster.schedule import LEADER_LOCK, STALLED_AFTER
from storage.db import get_engine
from storage.records import utcnow
from storage.store.base import aware


def cluster_status(db_url: str) -> dict[str, Any] | None:
    """None unless the database is PostgreSQL with the task queue applied; else ``scheduler``
    (``alive``, ``holder``), ``workers`` (alive ones), ``queue`` (``queued``, ``running``,
    ``oldest_lateness`` in seconds) and ``retried_after_stall`` (all time, last 24 h)."""
    engine = get_engine(db_url)
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            return None
        holder = conn.execute(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.objid = :key AND l.classid = 0"
            ),
            {"key": LEADER_LOCK},
        ).scalar()
        workers = conn.execute(
            text(
                "SELECT name, host, pid, heartbeat_at, current FROM cluster_workers "
                "WHERE heartbeat_at >= :since ORDER BY host, pid"
            ),
            {"since": utcnow() - timedelta(seconds=STALLED_AFTER)},
        ).mappings()
        workers = [
            {**w, "heartbeat_at": aware(w["heartbeat_at"]), "current": w["current"] or []}
            for w in workers
        ]
        queued, running, oldest = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE status = 'todo'), "
                "count(*) FILTER (WHERE status = 'doing'), "
                "min(args->>'due_at') FILTER (WHERE status = 'todo') FROM procrastinate_jobs"
            )
        ).one()
        retried, retried_24h = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE retried_at >= :day) FROM cluster_retries"
            ),
            {"day": utcnow() - timedelta(days=1)},
        ).one()
    lateness = None
    if oldest:
        lateness = max(0.0, (datetime.now(UTC) - datetime.fromisoformat(oldest)).total_seconds())
    return {
        "scheduler": {
            "alive": holder is not None,
            "holder": (holder or "").removeprefix("newswatch daemon ") or None,
        },
        "workers": workers,
        "queue": {"queued": queued, "running": running, "oldest_lateness": lateness},
        "retried_after_stall": {"total": retried, "last_24h": retried_24h},
    }
