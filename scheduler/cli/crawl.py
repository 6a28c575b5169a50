"""``newswatch crawl``: one crawl run now, with live progress on a terminal and a summary."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from crawler.config import Source, load_config
from scheduler.cli.common import (
    ConfigOpt,
    DbOpt,
    LogFormatOpt,
    LogOpt,
    UsageError,
    check_format,
    db_url,
    friendly_errors,
    setup_logging,
    stderr,
    stdout,
)
from scheduler.filters import analysis_files
from scheduler.logs import plural
from storage.store import Store


def crawl(
    source_names: Annotated[
        list[str] | None,
        typer.Argument(metavar="[SOURCE]...", help="Sources to crawl (default: all enabled)."),
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Summary as text or json.")] = "text",
    log_level: LogOpt = None,
    run_timeout: Annotated[
        float | None,
        typer.Option(
            "--run-timeout", min=1, max=7 * 86400, help="Stop the crawl after this many seconds."
        ),
    ] = None,
    log_format: LogFormatOpt = "text",
) -> None:
    """Crawl now: every enabled source, or the named ones, and print a summary per source."""
    from crawler.fetching.runner import run_crawl

    with friendly_errors():
        check_format(fmt, ("text", "json"))
        setup_logging(log_level, log_format)
        cfg = load_config(config)
        analysis_files()
        sources = cfg.select(source_names or [])
        if not sources:
            raise UsageError("no enabled sources to crawl (see `newswatch sources`)")
        url = db_url(db, create=True)
        Store(url).close()
        with _progress(sources, enabled=fmt == "text" and stderr.is_terminal) as hook:
            results = run_crawl(
                sources, url, on_progress=hook, run_timeout=run_timeout, on_notice=_notice
            )
    if fmt == "json":
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        _print_summary(results)
    if any(r.outcome == "aborted" for r in results):
        raise typer.Exit(INTERRUPTED)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


INTERRUPTED = 130
"""Exit code of a crawl stopped by a signal before it finished (the shells' 128 + SIGINT)."""


def _notice(message: str) -> None:
    """A stop's one-line message, for whoever is at the terminal (the daemon logs it)."""
    stderr.print(Text(f"newswatch: {message}", style="yellow"))


@contextmanager
def _progress(sources: list[Source], enabled: bool) -> Iterator[Callable[..., None] | None]:
    """A spinner line per source on stderr, fed by the runner's progress hook (terminals only)."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr
    ) as progress:
        tasks = {s.name: progress.add_task(s.name, total=None) for s in sources}

        def hook(name: str, counts: Any) -> None:
            progress.update(
                tasks[name],
                description=f"{name}: {plural(counts.entries, 'entry', 'entries')}, "
                f"{plural(counts.pages, 'page')}, {counts.new} new, "
                f"{plural(counts.errors, 'error')}",
            )

        yield hook


def _print_summary(results: list[Any]) -> None:
    table = Table(title="crawl summary", title_justify="left")
    for col in ("source", "entries", "pages", "new", "updated", "dupes", "errors"):
        table.add_column(col, justify="left" if col == "source" else "right")
    table.add_column("status")
    for r in results:
        c = r.counts
        if r.outcome == "aborted":
            status = Text(f"ABORTED: {r.error}", style="yellow")
        elif not r.ok:
            status = Text(f"FAILED: {r.error}", style="red")
        else:
            status = Text("ok, unchanged (304)" if r.not_modified else "ok", style="green")
        table.add_row(
            Text(r.source),
            *(str(v) for v in (c.entries, c.pages, c.new, c.updated, c.duplicates, c.errors)),
            status,
        )
    stdout.print(table)
