"""``newswatch history ARTICLE_ID``: an article's versions and what changed between them.

The versions themselves (and the word diff) come from :mod:`storage.versions`; this module only
renders them: a table, json/jsonl/csv records, and ``--diff N`` as a word-level diff of version N
against version N+1, coloured on a terminal and in ``[-removed-]{+added+}`` markup otherwise.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from scheduler.cli.common import (
    ConfigOpt,
    DbOpt,
    UsageError,
    check_format,
    db_url,
    emit_records,
    friendly_errors,
    local_time,
    stdout,
)
from storage.db import get_engine
from storage.versions import (
    LISTED_FIELDS,
    change_summary,
    diff_record,
    field_text,
    history,
    plain_diff,
    word_diff,
)

MAX_ID = 2**63 - 1


def history_cmd(
    article_id: Annotated[int, typer.Argument(help="The article's id (from search or export).")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json, jsonl or csv.")
    ] = "table",
    diff: Annotated[
        int | None,
        typer.Option("--diff", min=1, help="Show what changed from version N to version N+1."),
    ] = None,
) -> None:
    """The versions of an article: when each was fetched, what changed, and a word diff."""
    del config  # every command takes --config; the history needs only the database
    with friendly_errors():
        check_format(fmt)
        if not 1 <= article_id <= MAX_ID:
            raise UsageError(f"no article with id {article_id}")
        versions = history(get_engine(db_url(db)), article_id)
        if versions is None:
            raise UsageError(f"no article with id {article_id}")
        if diff is not None:
            _show_diff(versions, diff, fmt)
        elif fmt == "table":
            _print_table(article_id, versions)
        else:
            emit_records([_listed(v) for v in versions], fmt)


def _listed(version: dict[str, Any]) -> dict[str, Any]:
    return {key: version.get(key) for key in LISTED_FIELDS}


def _print_table(article_id: int, versions: list[dict[str, Any]]) -> None:
    current = versions[-1]
    title = f"article {article_id}: {len(versions)} version(s) · {current['source']}"
    if current["withdrawn_at"]:
        title += f" · withdrawn {local_time(current['withdrawn_at'])}"
    table = Table(title=title, title_justify="left")
    for name in ("v", "fetched", "replaced", "changed", "+chars", "-chars", "title"):
        table.add_column(name, overflow="fold")
    for v in versions:
        changed = ", ".join(v["changed"]) + (" (minor)" if v["minor"] else "")
        table.add_row(
            str(v["version"]) + (" (current)" if v["current"] else ""),
            local_time(v["fetched_at"]),
            local_time(v["replaced_at"]),
            Text(changed, style="dim" if v["minor"] else ""),
            str(v["chars_added"] or ""),
            str(v["chars_removed"] or ""),
            Text(v["title"]),
        )
    stdout.print(table)


def _show_diff(versions: list[dict[str, Any]], n: int, fmt: str) -> None:
    try:
        record = diff_record(versions, n)
    except ValueError as exc:
        raise UsageError(f"--diff {exc}") from None
    old, new = versions[n - 1], versions[n]
    fields = list(record["diff"])
    if fmt != "table":
        if fmt == "json":
            sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        else:
            emit_records([record | {"diff": json.dumps(record["diff"], ensure_ascii=False)}], fmt)
        return
    minor = " (minor)" if old["minor"] else ""
    stdout.print(
        Text(
            f"version {n} → {n + 1} · {local_time(old['replaced_at'])} · "
            f"changed: {', '.join(old['changed'])}{minor}",
            style="bold",
        )
    )
    if "withdrawn" in old["changed"]:
        stdout.print(Text("the page is gone (404/410): the article was withdrawn"))
    if "restored" in old["changed"]:
        stdout.print(Text("the withdrawn page is back"))
    for field in fields:
        stdout.print(Text(f"{field}:", style="bold"))
        stdout.print(_rendered(word_diff(field_text(old[field]), field_text(new[field]))))


def _rendered(pieces: list[tuple[str, str]]) -> Text:
    """Coloured on a terminal (red struck-out removals, green additions); the plain markup
    when the output is a pipe or a file, so the diff survives without colour."""
    if not stdout.is_terminal:
        return Text(plain_diff(pieces, context=120))
    out = Text()
    for op, piece in pieces:
        if op == "-":
            out.append(piece, style="red strike")
        elif op == "+":
            out.append(piece, style="green underline")
        elif len(piece) > 245:
            out.append(f"{piece[:120]} … {piece[-120:]}", style="dim")
        else:
            out.append(piece)
    return out


def print_story_changes(url: str, records: list[dict[str, Any]]) -> None:
    """Below a story's table: which of its copies were edited after publication, and when."""
    summary = change_summary(get_engine(url), [r["id"] for r in records])
    for ident, info in sorted(summary.items()):
        kind = "only minor edits" if info["only_minor"] else "edited"
        if info["withdrawn_at"]:
            kind = f"withdrawn {local_time(info['withdrawn_at'])}" + (
                f", {kind}" if info["edits"] else ""
            )
        stdout.print(
            Text(
                f"article {ident}: {kind}, {info['versions']} versions, last change "
                f"{local_time(info['last_change'])} (newswatch history {ident} --diff 1)",
                style="yellow",
            )
        )
