"""``newswatch worker``: a cluster worker, running the crawl jobs the scheduling daemon queues."""

from __future__ import annotations

import logging
import os
import socket
from typing import Annotated

import typer

from crawler import settings
from crawler.config import load_config
from scheduler.cli.common import (
    DEFAULT_RUN_TIMEOUT,
    ConfigOpt,
    DbOpt,
    LogFormatOpt,
    LogOpt,
    RunTimeoutOpt,
    UsageError,
    db_url,
    friendly_errors,
    setup_logging,
)

log = logging.getLogger("newswatch.worker")


def require_postgres(url: str) -> str:
    """libpq's conninfo for ``url``; a SQLite database is the one-line usage error."""
    from scheduler.cluster.app import ClusterError, conninfo

    try:
        return conninfo(url)
    except ClusterError as exc:
        raise UsageError(str(exc)) from None


def default_processes() -> int:
    """One crawl process per core (a process crawls on one core; the benchmark's cluster, two
    workers on two cores, polled slower with two processes per core than with one)."""
    return max(1, min(8, os.cpu_count() or 1))


def worker_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    log_level: LogOpt = None,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", min=1, max=256, help="Jobs (one site's sources each) at once."
        ),
    ] = 32,
    queues: Annotated[
        list[str] | None,
        typer.Option("--queues", help="Queues to take jobs from (default: the crawl queue)."),
    ] = None,
    run_timeout: RunTimeoutOpt = DEFAULT_RUN_TIMEOUT,
    heartbeat: Annotated[
        float,
        typer.Option(
            "--heartbeat", min=0.5, max=300, hidden=True, help="Seconds between heartbeats."
        ),
    ] = 10,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            min=1,
            max=64,
            help="Long-lived crawl processes (default: one per CPU core, at most 8).",
        ),
    ] = None,
    process_per_job: Annotated[
        bool,
        typer.Option(
            "--process-per-job",
            help="Start a crawl process for every job (isolation; ~1 s of CPU more per job) "
            "instead of one long-lived crawl process per worker.",
        ),
    ] = False,
    log_format: LogFormatOpt = "text",
) -> None:
    """Run cluster jobs (crawl runs queued by `newswatch daemon --cluster`) until SIGTERM.

    Needs PostgreSQL. Each job is one site's due sources, crawled with the run time limit in
    the worker's crawl process; start any number of workers, on any number of machines,
    against the same --db.
    """
    from scheduler.cluster.app import ensure_schema, make_app
    from scheduler.cluster.registry import WorkerRegistry
    from scheduler.cluster.tasks import QUEUE, WorkerSettings, register

    with friendly_errors():
        setup_logging(log_level, log_format)
        url = db_url(db, create=True)
        require_postgres(url)
        cfg = load_config(config)
        ensure_schema(url)
        app = make_app(url)
        registry = WorkerRegistry(url, heartbeat)
        service = register(
            app,
            WorkerSettings(
                config_path=cfg.path,
                db_url=url,
                run_timeout=run_timeout,
                log_level=settings.log_level(log_level),
                delays={s.name: s.delay for s in cfg.sources},
                process_per_job=process_per_job,
                crawl_processes=processes or default_processes(),
            ),
            registry,
        )
        registry.start()
        log.info(
            "worker started (pid %d on %s): %d at once, queues %s",
            os.getpid(),
            socket.gethostname(),
            concurrency,
            ", ".join(queues or [QUEUE]),
        )
        try:
            app.run_worker(
                queues=list(queues or [QUEUE]),
                concurrency=concurrency,
                name=registry.name,
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=max(30.0, heartbeat * 3),
                delete_jobs="successful",
            )
        finally:
            if service is not None:
                service.close()
            registry.stop()
    log.info("worker stopped")
