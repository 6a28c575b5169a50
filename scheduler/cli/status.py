"""``newswatch status``: the facts of :func:`scheduler.status.gather_status`, as json or tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from crawler.config import load_config
from scheduler.cli.common import ConfigOpt, DbOpt, check_format, db_url, friendly_errors, stdout
from storage.schedule import due_at

STATUS_COLUMNS = ("source", "last ok", "new 24h/7d/all", "fails", "next due")
"""The table's columns: narrow enough for 80 columns with the longest catalog name whole; the
last errors follow the table, one line per source, where they have the whole width."""


def status_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Whether a daemon runs on this database; per source: last success, articles in the last 24 h and 7 days, failures in a row, backoff, next due, last error."""
    from scheduler.status import gather_status

    with friendly_errors():
        check_format(fmt, ("table", "json"))
        cfg = load_config(config)
        status = gather_status(cfg, db_url(db))
    if fmt == "json":
        print(json.dumps(status, ensure_ascii=False, indent=2, default=_json_default))
        return
    _print_daemon(status["daemon"])
    if status.get("cluster"):
        from scheduler.cli.cluster_status import print_cluster

        print_cluster(status["cluster"])
    _print_database(status["database"])
    _print_sources(status["sources"])
    _print_alerts(status.get("alerts") or {})


def _print_alerts(alerts: dict[str, dict[str, Any]]) -> None:
    """Alert deliveries waiting or failing, one line per rule (nothing when all is sent)."""
    for rule, c in alerts.items():
        if not (c["pending"] or c["failing"]):
            continue
        line = f"alerts {rule}: {c['pending']} pending, {c['failing']} failing"
        if c["failing"] and c.get("last_error"):
            line += f" ({c['last_error']})"
        stdout.print(Text(line, style="red" if c["failing"] else ""), soft_wrap=True)


def _print_daemon(daemon: dict[str, Any] | None) -> None:
    if daemon and daemon["alive"]:
        stdout.print(
            f"daemon: running (pid {daemon['pid']} on {daemon['host']}, "
            f"last heartbeat {_fmt_time(daemon['heartbeat_at'])})"
        )
    else:
        stdout.print("daemon: not running")


def _print_database(database: dict[str, Any]) -> None:
    threads = database["search_threads"]
    ranking = (
        f"; search ranks big archives in {threads} thread{'s' if threads != 1 else ''}"
        if database["backend"] == "sqlite"
        else ""
    )
    stdout.print(
        Text(
            f"database: {database['url']} ({database['backend']} {database['version']} via "
            f"{database['driver']}{ranking})"
        ),
        soft_wrap=True,  # a path folded by the console could not be copied
    )


def _print_sources(records: list[dict[str, Any]]) -> None:
    """Enabled sources first (a disabled one is "off" where its next run would be), names never
    split, times in UTC without the year when it is this year's; then the last errors."""
    ordered = sorted(records, key=lambda r: (not r["enabled"], r["name"]))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 2, 0, 0), caption="times in UTC")
    table.add_column(STATUS_COLUMNS[0], no_wrap=True)
    for col in STATUS_COLUMNS[1:]:
        table.add_column(col, no_wrap=True)
    for r in ordered:
        counts = (
            f"{r.get('articles_24h', 0)}/{r.get('articles_7d', 0)}/{r.get('articles_total', 0)}"
        )
        fails = str(r.get("consecutive_failures") or 0)
        table.add_row(
            Text(r["name"], style="" if r["enabled"] else "dim"),
            _short_time(r.get("last_success")),
            counts,
            Text(fails + (" FAILING" if r["failing"] else ""), style="red" if r["failing"] else ""),
            _short_time(due_at(r)) if r["enabled"] else Text("off", style="dim"),
        )
    stdout.print(table)
    errors = [r for r in ordered if r.get("last_error")]
    if errors:
        stdout.print("last errors:")
        for r in errors:
            stdout.print(Text(f"  {r['name']}: {r['last_error']}"), soft_wrap=True)


def _short_time(value: Any) -> str:
    """``11-26 02:35`` this year, ``2025-11-26 02:35`` before; ``never`` for none."""
    if value is None:
        return "never"
    if not isinstance(value, datetime):
        return str(value)
    when = value.astimezone(UTC) if value.tzinfo else value
    if when.year == datetime.now(UTC).year:
        return when.strftime("%m-%d %H:%M")
    return when.strftime("%Y-%m-%d %H:%M")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _fmt_time(value: Any) -> str:
    if value is None:
        return "never"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z").strip()
    return str(value)
