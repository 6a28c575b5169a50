"""``newswatch daemon``: run the scheduler in the foreground (the Daemon is scheduler.daemon)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

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
    stderr,
)
from scheduler.filters import analysis_files
from scheduler.webchild import is_loopback, parse_address


def daemon_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    log_level: LogOpt = None,
    run_timeout: RunTimeoutOpt = DEFAULT_RUN_TIMEOUT,
    grace: Annotated[
        float,
        typer.Option(
            "--grace", min=0, max=3600, help="On SIGTERM, how long running crawls may finish (s)."
        ),
    ] = 30,
    max_children: Annotated[
        int, typer.Option("--max-children", min=1, max=16, help="Crawl processes at once.")
    ] = 2,
    log_format: LogFormatOpt = "text",
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file", help="Also log to this file (rotated at 10 MB, 5 kept).", dir_okay=False
        ),
    ] = None,
    lock_stale_after: Annotated[
        float,
        typer.Option(
            "--lock-stale-after",
            min=1,
            hidden=True,
            help="Seconds without a heartbeat after which another daemon's lock is taken over.",
        ),
    ] = 30,
    web: Annotated[
        str | None,
        typer.Option(
            "--web",
            metavar="HOST:PORT",
            help="Also serve the web app there (such as 127.0.0.1:8080), restarted if it dies.",
        ),
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Queue runs for `newswatch worker`s (PostgreSQL) instead of crawling here; "
            "also [cluster] enabled = true in the sources file.",
        ),
    ] = False,
    stalled_after: Annotated[
        float,
        typer.Option(
            "--stalled-after",
            min=1,
            hidden=True,
            help="Seconds without a worker heartbeat after which its jobs are retried.",
        ),
    ] = 30,
) -> None:
    """Run in the foreground and crawl every enabled source on its interval, until SIGTERM.

    SIGHUP reloads the sources file. Each run is a child `newswatch crawl` process.
    """
    from scheduler.daemon import Daemon, DaemonAlreadyRunning, DaemonOptions

    with friendly_errors():
        setup_logging(log_level, log_format, log_file)
        cfg = load_config(config)
        analysis_files()
        url = db_url(db, create=True)
        if cluster or cfg.cluster:
            from scheduler.cli.worker import require_postgres

            require_postgres(url)
        opts = DaemonOptions(
            config_path=cfg.path,
            db_url=url,
            run_timeout=run_timeout,
            grace=grace,
            max_children=max_children,
            log_level=settings.log_level(log_level),
            log_format=log_format,
            lock_stale_after=lock_stale_after,
            web=check_web(web),
            cluster=cluster or cfg.cluster,
            stalled_after=stalled_after,
        )
        try:
            code = Daemon(opts).run()
        except DaemonAlreadyRunning as exc:
            stderr.print(Text(f"newswatch: {exc}", style="red"))
            raise typer.Exit(3) from None
    raise typer.Exit(code)


def check_web(address: str | None) -> str | None:
    """``--web HOST:PORT``: well formed, and beyond loopback only with NEWSWATCH_WEB_TOKEN set
    (the same rule as ``newswatch serve``, checked before the daemon starts)."""
    if address is None:
        return None
    try:
        host, _ = parse_address(address)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not is_loopback(host) and not settings.env(settings.ENV_WEB_TOKEN):
        raise UsageError(f"--web {address} listens beyond this machine: set NEWSWATCH_WEB_TOKEN")
    return address.strip()
