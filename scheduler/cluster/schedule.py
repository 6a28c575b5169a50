"""The daemon's side of the cluster: who schedules, deferring due sources, recovering stalls.

Several daemons may run for failover. The one holding a PostgreSQL advisory lock (on its own
connection, kept open) schedules; the others try again every few seconds. The lock dies with
its connection, so a daemon killed by -9 is replaced within seconds; the standby then rebuilds
its jobs from the sources' state in the database (next due, backoff), and leaves alone every
source of a job still queued or running, so the takeover causes no burst of duplicate runs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from procrastinate import sql
from procrastinate.jobs import Job
from sqlalchemy import insert

from scheduler.cluster.app import conninfo, ensure_schema, make_app
from scheduler.cluster.tasks import QUEUE, TASK_NAME
from storage.db import get_engine
from storage.models import cluster_retries, crawl_runs
from storage.records import utcnow
from storage.schedule import due_at
from storage.store import Store

log = logging.getLogger("newswatch.cluster")

LEADER_LOCK = 7201121
"""The advisory lock key the scheduling daemon holds."""
RETRY_LEADERSHIP_EVERY = 3.0
STALL_CHECK_EVERY = 5.0
DUE_SLACK = timedelta(seconds=1)
"""A trigger firing this close before the source's ``next_due`` runs it (APScheduler's jitter)."""
MAX_BATCH = 500
"""Most sources in one job: a site with more is split over jobs (run one after another)."""
STALLED_AFTER = 30.0
"""A worker silent this long is dead: its jobs are retried elsewhere (procrastinate's workers
beat every 10 s by default; ``newswatch worker --heartbeat`` lowers it)."""


class ClusterScheduler:
    def __init__(self, db_url: str, stalled_after: float = STALLED_AFTER) -> None:
        self.db_url = db_url
        self.stalled_after = stalled_after
        self.leader: psycopg.Connection | None = None
        self.app = make_app(db_url, sync=True)
        self.store = Store(db_url)
        self.last_stall_check = 0.0

    def wait_for_leadership(self, stopping: threading.Event) -> bool:
        """Block until this daemon holds the scheduling lock (True) or is asked to stop."""
        ensure_schema(self.db_url)
        waiting_said = False
        while not stopping.is_set():
            conn = psycopg.connect(
                conninfo(self.db_url),
                autocommit=True,
                application_name=f"newswatch daemon {socket.gethostname()}:{os.getpid()}",
            )
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()[0]
            if got:
                self.leader = conn
                self.app.open()
                log.info("this daemon schedules the cluster")
                return True
            conn.close()
            if not waiting_said:
                log.info("another daemon schedules the cluster: standing by")
                waiting_said = True
            stopping.wait(RETRY_LEADERSHIP_EVERY)
        return False

    def still_leader(self) -> bool:
        """The lock's connection is alive (a broken one lost the lock with it)."""
        if self.leader is None:
            return False
        try:
            self.leader.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def dispatch(
        self,
        names: list[str],
        host_of: Callable[[str], str],
        reschedule: Callable[[str, datetime], None],
    ) -> None:
        """The daemon's due sources, as its children would take them: a source whose job is
        still queued or running is left alone (no pile of copies, none after a takeover), and
        one whose last run ended later than its trigger knows waits for its ``next_due``."""
        busy = self._in_flight()
        states = self.store.source_states()
        now = datetime.now(UTC)
        ready: list[tuple[str, str]] = []
        for name in names:
            due = due_at(states.get(name))
            if name in busy:
                log.debug("source %s: a job is still queued or running", name)
            elif due is not None and due > now + DUE_SLACK:
                reschedule(name, due)
            else:
                ready.append((name, host_of(name)))
        self.defer(ready)

    def _in_flight(self) -> set[str]:
        """Every source of a job still queued or running (the daemon is the only one to queue,
        so reading this before queueing keeps one job per source, after a takeover too)."""
        rows = self.app.connector.execute_query_all(
            query="SELECT DISTINCT jsonb_array_elements_text(args -> 'sources') AS source "
            "FROM procrastinate_jobs WHERE status IN ('todo', 'doing') AND task_name = %(task)s",
            task=TASK_NAME,
        )
        return {r["source"] for r in rows}

    def defer(self, sources: list[tuple[str, str]]) -> list[int]:
        """One job per site (at most :data:`MAX_BATCH` sources each), locked by the site: its
        sources share one crawl, one robots.txt and one delay clock, and no two workers ever
        crawl the site at once. Returns the job ids."""
        due = datetime.now(UTC).isoformat()
        by_host: dict[str, list[str]] = {}
        for name, host in sources:
            by_host.setdefault(host, []).append(name)
        jobs: list[int] = []
        for host, names in by_host.items():
            deferrer = self.app.configure_task(TASK_NAME, lock=host, queue=QUEUE)
            for start in range(0, len(names), MAX_BATCH):
                batch = names[start : start + MAX_BATCH]
                job_id = deferrer.defer(sources=batch, due_at=due)
                jobs.append(job_id)
                log.info("queued: %s (job %d, site %s)", ", ".join(batch), job_id, host)
        return jobs

    def tick(self) -> None:
        """Every few seconds: retry the jobs of workers that stopped beating."""
        now = time.monotonic()
        if now - self.last_stall_check < STALL_CHECK_EVERY:
            return
        self.last_stall_check = now
        try:
            self.recover_stalled()
        except Exception as exc:  # a hiccup of the database must not stop the scheduler
            log.warning("stalled-job check failed: %s", exc)

    def recover_stalled(self) -> int:
        """Mark the dead worker's runs aborted, then retry its jobs (on any live worker)."""
        manager = self.app.job_manager
        connector = self.app.connector
        rows = connector.execute_query_all(
            query=sql.queries["select_stalled_jobs_by_heartbeat"],
            queue=None,
            task_name=None,
            seconds_since_heartbeat=self.stalled_after,
        )
        stalled = [Job.from_row(row) for row in rows]
        engine = get_engine(self.db_url)
        for job in stalled:
            names = list(job.task_kwargs.get("sources") or [])
            with engine.begin() as conn:
                conn.execute(
                    crawl_runs.update()
                    .where(crawl_runs.c.outcome == "running", crawl_runs.c.source.in_(names))
                    .values(
                        outcome="aborted",
                        finished_at=utcnow(),
                        error="its worker stopped (no heartbeat): retried on another worker",
                    )
                )
                conn.execute(
                    insert(cluster_retries).values(
                        job_id=job.id,
                        sources=names,
                        retried_at=utcnow(),
                    )
                )
            manager.retry_job_by_id(job.id, retry_at=datetime.now(UTC))
            log.warning("job %d (%s): its worker stopped; retried", job.id, ", ".join(names))
        if stalled:
            connector.execute_query_all(
                query=sql.queries["prune_stalled_workers"],
                seconds_since_heartbeat=self.stalled_after,
            )
        return len(stalled)

    def close(self) -> None:
        self.app.close()
        self.store.close()
        if self.leader is not None:
            self.leader.close()
            self.leader = None
