"""``newswatch sources``: list the configured sources, validate the file, or try each source.

Loading and validating is :func:`crawler.config.load_config`; the online check is
:func:`crawler.fetching.check.check_sources`. This module chooses between them and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from crawler.config import Source, format_duration, load_config
from scheduler.cli.common import (
    ConfigOpt,
    DbOpt,
    UsageError,
    check_format,
    db_url,
    friendly_errors,
    stdout,
)
from scheduler.logs import plural


def sources_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    all_: Annotated[bool, typer.Option("--all/--enabled", help="Include disabled sources.")] = True,
    check: Annotated[
        bool, typer.Option("--check", help="Validate the sources file and say so.")
    ] = False,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="With --check: fetch each source; report status, what it serves, item count "
            "and a suggested fix. Exit 1 if any source does not work.",
        ),
    ] = False,
    name: Annotated[list[str] | None, typer.Argument(help="Only these sources.")] = None,
) -> None:
    """List the configured sources; --check validates them, --check --online tries each one."""
    with friendly_errors():
        check_format(fmt, ("table", "json"))
        cfg = load_config(config)
        if db is not None:
            db_url(db)  # named but missing is a mistake; the listing itself reads no database
        chosen = cfg.select(name) if name else list(cfg.sources)
        if online and not check:
            raise UsageError("--online needs --check")
    items = [s for s in chosen if all_ or s.enabled]
    if check and online:
        _check_online(items, cfg.path, fmt)
    elif check:
        if fmt == "json":
            print(json.dumps({"config": str(cfg.path), "valid": True, "sources": len(items)}))
        else:
            stdout.print(Text(f"{cfg.path}: valid, {plural(len(items), 'source')}", style="green"))
    elif fmt == "json":
        print(json.dumps([_describe(s) for s in items], ensure_ascii=False, indent=2))
    else:
        _print_sources(items, cfg.path)


def _check_online(items: list[Source], path: Path | None, fmt: str) -> None:
    """Try each source and report; exit 1 when any does not work (a script's signal to look)."""
    from crawler.fetching.check import check_sources

    results = check_sources(items)
    if fmt == "json":
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        table = Table(title=f"online check of {path}", title_justify="left")
        for col in ("name", "kind", "ok", "status", "serves", "items", "problem / fix"):
            table.add_column(col, overflow="fold")
        for r in results:
            note = "" if r.ok else f"{r.problem}\n→ {r.suggestion}"
            table.add_row(
                Text(r.name),
                r.kind,
                Text("yes", style="green") if r.ok else Text("NO", style="red"),
                str(r.status or "—"),
                r.serves,
                str(r.items),
                Text(note),
            )
        stdout.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def _describe(s: Source) -> dict[str, Any]:
    """The fields of a source a user sets most, as ``sources --format json`` lists them."""
    return {
        "name": s.name,
        "title": s.title,
        "kind": s.kind,
        "url": s.url,
        "language": s.language,
        "timezone": s.timezone,
        "interval": format_duration(s.interval),
        "enabled": s.enabled,
        "verified": s.verified,
        "delay": s.delay,
        "concurrency": s.concurrency,
    }


def _print_sources(items: list[Source], path: Path | None) -> None:
    table = Table(title=f"sources from {path}", title_justify="left")
    for col in ("name", "kind", "lang", "tz", "every", "enabled", "verified", "url"):
        table.add_column(col, overflow="fold")
    for s in items:
        table.add_row(
            Text(s.name),
            s.kind,
            s.language or "",
            s.timezone,
            format_duration(s.interval),
            "yes" if s.enabled else "no",
            "yes" if s.verified else "no",
            Text(s.url),
        )
    stdout.print(table)
