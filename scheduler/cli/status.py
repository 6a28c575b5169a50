"""``newswatch status``: the facts of :func:`scheduler.status.gather_status`, as json or tables."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from crawler.config import load_config
from scheduler.cli.common import ConfigOpt, DbOpt, check_format, db_url, friendly_errors, stdout
from storage.schedule import due_at

STATUS_COLUMNS = (
    "source", "on", "last success", "24h", "7d", "total", "fails", "next due", "last error",
)  # fmt: skip


def status_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Whether a daemon runs on this database; per source: last success, articles in the last
    24 h and 7 days, failures in a row, backoff, next due, last error."""
    from scheduler.status import gather_status

    with friendly_errors():
        check_format(fmt, ("table", "json"))
        cfg = load_config(config)
        status = gather_status(cfg, db_url(db))
    if fmt == "json":
        print(json.dumps(status, ensure_ascii=False, indent=2, default=_json_default))
        return
    _print_daemon(status["daemon"])
    _print_database(status["database"])
    _print_sources(status["sources"])


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
    table = Table()
    for col in STATUS_COLUMNS:
        table.add_column(col, overflow="fold")
    for r in records:
        fails = str(r.get("consecutive_failures") or 0)
        table.add_row(
            Text(r["name"]),
            "yes" if r["enabled"] else "no",
            _fmt_time(r.get("last_success")),
            str(r.get("articles_24h", 0)),
            str(r.get("articles_7d", 0)),
            str(r.get("articles_total", 0)),
            Text(fails + (" FAILING" if r["failing"] else ""), style="red" if r["failing"] else ""),
            _fmt_time(due_at(r)),
            Text(r.get("last_error") or ""),
        )
    stdout.print(table)


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
