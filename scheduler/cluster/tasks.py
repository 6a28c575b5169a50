"""The cluster's one task: crawl a batch of sources (one site's due sources) with its time limit.

By default a job's batch runs in the worker's long-lived crawl process
(:mod:`scheduler.cluster.service`), which records each run with the worker's host and pid.
``newswatch worker --process-per-job`` runs a child ``newswatch crawl SOURCE… --format json``
process per job instead, exactly as the daemon's child (the worker then stamps the runs with
its host and pid): about a second of CPU more per job, for complete isolation of each job.
Either way the job returns the per-source results as its outcome.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procrastinate import App, JobContext
from sqlalchemy import update

from crawler.processes import die_with_parent
from scheduler.child import Child, hard_limit
from scheduler.cluster.registry import WorkerRegistry
from scheduler.cluster.service import CrawlPool, close_missing
from storage.models import crawl_runs
from storage.store import Store

log = logging.getLogger("newswatch.worker")

TASK_NAME = "newswatch.crawl_batch"
QUEUE = "crawl"
KILL_AFTER = 5.0


@dataclass
class WorkerSettings:
    """What every job of this worker runs with: its own config file and database."""

    config_path: Path
    db_url: str
    run_timeout: float
    log_level: str = "INFO"
    delays: dict[str, float] = field(default_factory=dict)
    """Each source's delay between requests: a job keeps its site's lock that much longer."""
    extra_env: dict[str, str] = field(default_factory=dict)
    process_per_job: bool = False
    crawl_processes: int = 1


def register(
    app: App, settings: WorkerSettings, registry: WorkerRegistry | None = None
) -> CrawlPool | None:
    """Register the crawl task on ``app``, bound to this worker's settings; returns the crawl
    process the jobs share (None with ``process_per_job``), for the worker to close."""
    service = None
    if not settings.process_per_job:
        service = CrawlPool(
            settings.crawl_processes,
            str(settings.config_path),
            settings.db_url,
            settings.log_level,
            settings.extra_env,
        )

    @app.task(name=TASK_NAME, queue=QUEUE, pass_context=True)
    def crawl_batch(
        context: JobContext, sources: list[str], due_at: str | None = None
    ) -> dict[str, Any]:
        job_id = context.job.id or 0
        if registry is not None:
            registry.job_started(job_id, sources)
        try:
            if service is None:
                result = run_batch(settings, sources)
            else:
                result = run_in_service(service, settings, sources)
            # The next job of this site may start on another machine the moment this one
            # returns: hold the site's lock for its delay, so that no two requests to it
            # are ever closer, whichever workers run them.
            time.sleep(max((settings.delays.get(n, 0.0) for n in sources), default=0.0))
            return result
        finally:
            if registry is not None:
                registry.job_finished(job_id)

    return service


def run_in_service(
    service: CrawlPool, settings: WorkerSettings, sources: list[str]
) -> dict[str, Any]:
    """Run the batch in the worker's crawl process; the results by source."""
    started = time.monotonic()
    got, waiter = service.run(sources, settings.run_timeout)
    results = {r.get("source"): r for r in got}
    missing = [n for n in sources if n not in results]
    if missing:
        # an aborted run (its process killed) says nothing about the source
        charge = waiter.outcome != "aborted"
        close_missing(
            settings.db_url, waiter.pid, waiter.outcome, waiter.reason, missing, charge=charge
        )
        log.warning("sources %s: %s", ", ".join(missing), waiter.reason)
    log.info("run finished: %s in %.1fs", ", ".join(sources), time.monotonic() - started)
    return {
        "host": socket.gethostname(),
        "worker": os.getpid(),
        "results": {n: _brief(results.get(n)) for n in sources},
    }


def run_batch(settings: WorkerSettings, sources: list[str]) -> dict[str, Any]:
    """Run one child crawl of ``sources`` to its end or its time limit; the results by source."""
    cmd = [
        sys.executable,
        "-m",
        "scheduler.cli",
        "crawl",
        *sources,
        "--db",
        settings.db_url,
        "--config",
        str(settings.config_path),
        "--format",
        "json",
        "--run-timeout",
        str(int(settings.run_timeout)),
        "--log-level",
        settings.log_level,
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **settings.extra_env},
        start_new_session=True,
        preexec_fn=die_with_parent,  # a worker killed by -9 takes its crawl with it
        text=True,
    )
    started = time.monotonic()
    child = Child(proc, sources, started, started + hard_limit(settings.run_timeout))
    child.start_readers()
    log.info("run started: %s (pid %d)", ", ".join(sources), proc.pid)
    code = _wait(child)
    _stamp_runs(settings.db_url, proc.pid)
    out = child.collected()
    try:
        results = {r["source"]: r for r in json.loads(out)} if out.strip() else {}
    except (json.JSONDecodeError, TypeError, KeyError):
        results = {}
    missing = [n for n in sources if n not in results]
    if missing:
        reason = child.error_line() or f"crawl process exited with code {code} without a result"
        outcome = child.outcome or ("aborted" if code < 0 else "failed")
        close_missing(settings.db_url, proc.pid, outcome, reason, missing, charge=True)
        log.warning("sources %s: %s", ", ".join(missing), reason)
    log.info("run finished: %s in %.1fs", ", ".join(sources), time.monotonic() - started)
    return {
        "host": socket.gethostname(),
        "worker": os.getpid(),
        "results": {n: _brief(results.get(n)) for n in sources},
    }


def _wait(child: Child) -> int:
    """Wait for the child, stopping it (TERM, then KILL) past its hard limit."""
    while True:
        code = child.proc.poll()
        if code is not None:
            return code
        now = time.monotonic()
        if child.terminated_at is None and now > child.deadline:
            log.warning("run %s over its time limit: stopping it", ", ".join(child.sources))
            child.outcome = "timeout"
            _signal(child, signal.SIGTERM)
            child.terminated_at = now
        elif child.terminated_at is not None and now > child.terminated_at + KILL_AFTER:
            _signal(child, signal.SIGKILL)
        time.sleep(0.1)


def _signal(child: Child, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.proc.pid, sig)


def _stamp_runs(db_url: str, pid: int) -> None:
    """The crawl process records its runs by its own pid; say which machine and worker ran it."""
    store = Store(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                update(crawl_runs)
                .where(crawl_runs.c.pid == pid, crawl_runs.c.host.is_(None))
                .values(host=socket.gethostname(), worker=os.getpid())
            )
    finally:
        store.close()


def _brief(result: dict[str, Any] | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {k: result.get(k) for k in ("outcome", "ok", "new", "updated", "errors", "error")}
