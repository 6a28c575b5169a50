"""The cluster's part of ``newswatch status`` as text (the facts: scheduler.cluster.state)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from scheduler.cli.common import stdout


def print_cluster(cluster: dict[str, Any]) -> None:
    """Nothing for a PostgreSQL database that has never run a cluster (no scheduler, worker,
    job or retry): its status stays the single machine's."""
    sched = cluster["scheduler"]
    queue = cluster["queue"]
    if not (
        sched["alive"]
        or cluster["workers"]
        or queue["queued"]
        or queue["running"]
        or cluster["retried_after_stall"]["total"]
    ):
        return
    stdout.print(f"cluster scheduler: {'held by ' + sched['holder'] if sched['alive'] else 'NONE'}")
    workers = cluster["workers"]
    stdout.print(f"workers: {len(workers)} alive")
    now = datetime.now(UTC)
    for w in workers:
        jobs = "; ".join(f"job {c['job']}: {_names(c['sources'])}" for c in w["current"])
        age = (now - w["heartbeat_at"]).total_seconds()
        stdout.print(
            Text(f"  {w['host']} pid {w['pid']}: heartbeat {age:.0f}s ago, {jobs or 'idle'}"),
            soft_wrap=True,
        )
    late = queue["oldest_lateness"]
    stdout.print(
        f"queue: {queue['queued']} queued, {queue['running']} running"
        + (f", oldest due {late:.1f}s ago" if late is not None else "")
    )
    retried = cluster["retried_after_stall"]
    stdout.print(
        f"retried after a stalled worker: {retried['last_24h']} in 24 h ({retried['total']} in all)"
    )


def _names(sources: list[str], shown: int = 3) -> str:
    """A job's sources for one line: a site's batch may hold hundreds."""
    if len(sources) <= shown:
        return ", ".join(sources)
    return f"{', '.join(sources[:shown])} and {len(sources) - shown} more"
