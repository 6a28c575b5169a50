"""``newswatch alerts list|test|history``: the rules of the sources file, what they would send
now, and what they sent. Matching, rendering and sending are :mod:`scheduler.alerts`'s."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from scheduler.cli.common import (
    Command,
    ConfigOpt,
    DbOpt,
    Group,
    UsageError,
    check_format,
    db_url,
    emit_records,
    friendly_errors,
    stdout,
)

FORMATS = ("table", "json", "jsonl", "csv")
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or csv.")]

alerts_app = typer.Typer(
    name="alerts",
    cls=Group,
    help="Alert rules: list them, test one, show what was sent.",
    no_args_is_help=True,
    add_completion=False,
)


def _rules(config: str | None):
    from crawler.alerts import load_rules
    from crawler.config import load_config

    cfg = load_config(config)
    return cfg, load_rules(cfg)


def _emit(rows: list[dict[str, Any]], fmt: str, columns: tuple[str, ...]) -> None:
    if fmt != "table":
        emit_records([{k: _iso(v) for k, v in row.items()} for row in rows], fmt)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 2, 0, 0), caption="times in UTC")
    for column in columns:
        wrap = column in ("what", "channels", "mode")
        table.add_column(column, overflow="fold", no_wrap=not wrap)
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in columns))
    stdout.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


@alerts_app.command("list", cls=Command)
def list_cmd(config: ConfigOpt = None, db: DbOpt = None, fmt: FormatOpt = "table") -> None:
    """Each rule: mode, channels, last sent, pending and failing deliveries, the last error."""
    from storage.store import Store

    with friendly_errors():
        check_format(fmt, FORMATS)
        _, rules = _rules(config)
        store = Store(db_url(db))
        try:
            counts = store.delivery_counts()
        finally:
            store.close()
    rows = []
    for rule in rules:
        c = counts.get(rule.name, {})
        mode = "health" if rule.health else rule.mode
        if rule.schedule is not None:
            mode += f" {rule.schedule.text} {rule.timezone}"
        rows.append(
            {
                "rule": rule.name,
                "mode": mode,
                "channels": list(rule.channels),
                "last_sent": c.get("last_sent"),
                "sent": c.get("sent", 0),
                "pending": c.get("pending", 0),
                "failing": c.get("failing", 0),
                "last_error": c.get("last_error"),
            }
        )
    _emit(rows, fmt, ("rule", "mode", "channels", "last_sent", "pending", "failing"))
    if fmt == "table":
        for row in rows:
            if row["failing"] and row["last_error"]:
                stdout.print(Text(f"  {row['rule']}: {row['last_error']}"), soft_wrap=True)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@alerts_app.command("test", cls=Command)
def test_cmd(
    rule: Annotated[str, typer.Argument(help="The rule's name.", show_default=False)],
    config: ConfigOpt = None,
    db: DbOpt = None,
    send: Annotated[
        bool, typer.Option("--send", help="Also send it (a test, not recorded).")
    ] = False,
) -> None:
    """Render what RULE would send now (stories new since it last looked, else its latest
    matches as an example); nothing is sent unless --send."""
    from crawler.config import did_you_mean
    from scheduler.alerts.preview import preview

    with friendly_errors():
        cfg, rules = _rules(config)
        chosen = next((r for r in rules if r.name == rule), None)
        if chosen is None:
            names = [r.name for r in rules]
            raise UsageError(
                f"unknown rule {rule!r} (rules: {', '.join(names) or 'none'})"
                f"{did_you_mean(rule, names)}"
            )
        url = db_url(db)
        title, text, sent = preview(url, cfg, chosen, send=send)
    stdout.print(Text(title, style="bold"))
    stdout.print(Text(text), soft_wrap=True)
    if send:
        stdout.print(
            f"sent to {len(chosen.notify)} channel(s)" if sent else "NOT sent: see the log"
        )
        if not sent:
            raise typer.Exit(1)


@alerts_app.command("history", cls=Command)
def history_cmd(
    rule: Annotated[str | None, typer.Argument(help="Only this rule.", show_default=False)] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: FormatOpt = "table",
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 50,
) -> None:
    """Deliveries, newest first: rule, what, state, attempts, matched and sent times, error."""
    from storage.store import Store

    del config  # the history is the database's; --config is accepted like every command's
    with friendly_errors():
        check_format(fmt, FORMATS)
        if not 1 <= limit <= 100_000:
            raise UsageError("--limit must be from 1 to 100000")
        store = Store(db_url(db))
        try:
            rows = store.delivery_history(rule, limit)
        finally:
            store.close()
    out = [
        {
            "rule": r["rule"],
            "kind": r["kind"],
            "what": _what(r),
            "state": r["state"],
            "attempts": r["attempts"],
            "matched_at": r["matched_at"],
            "sent_at": r["sent_at"],
            "last_error": r["last_error"],
            "story_id": r["story_id"],
        }
        for r in rows
    ]
    _emit(out, fmt, ("rule", "what", "state", "attempts", "sent_at"))


def _what(row: dict[str, Any]) -> str:
    payload = row.get("payload") or {}
    if row["kind"] == "health":
        return f"{payload.get('source')}: {payload.get('state')}"
    what = str(payload.get("title") or json.dumps(payload, ensure_ascii=False)[:80])
    return (
        f"changed (v{payload.get('version')}): {what}"
        if payload.get("event") == "changed"
        else what
    )


@alerts_app.command("backfill", cls=Command)
def backfill_cmd(
    rule: Annotated[str, typer.Argument(help="The rule's name.", show_default=False)],
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Start a new RULE from the first stored article instead of from now: the daemon's next
    pass alerts on every matching story already stored (once each). A rule already started
    keeps its history; give it a new name to start it again."""
    from storage.store import Store

    with friendly_errors():
        _, rules = _rules(config)
        if rule not in {r.name for r in rules}:
            raise UsageError(f"unknown rule {rule!r} (rules: {', '.join(r.name for r in rules)})")
        store = Store(db_url(db))
        try:
            known = rule in store.alert_rules_state()
            state = store.alert_rule(rule, datetime.now(UTC), backfill=True)
        finally:
            store.close()
    if known:
        raise typer.Exit(_already(rule, state))
    stdout.print(f"rule {rule} starts from the first stored article: the next pass sends it")


def _already(rule: str, state: dict[str, Any]) -> int:
    stdout.print(
        Text(f"rule {rule} already started on {_cell(state['created_at'])}: nothing changed")
    )
    return 1
