"""Reading the corpus: ``newswatch search``, ``story`` and ``export``.

The queries themselves live in :mod:`storage.search`; this module turns flags into their
arguments and their records into tables, json, jsonl or csv.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scheduler.cli.common import (
    ConfigOpt,
    DbOpt,
    LangOpt,
    SinceOpt,
    SourceOpt,
    UntilOpt,
    UsageError,
    check_format,
    db_url,
    emit_records,
    friendly_errors,
    local_time,
    parse_when,
    stderr,
    stdout,
)
from scheduler.cli.history import print_story_changes
from scheduler.filters import check_languages, check_sources, check_topics, resolve_entities
from scheduler.logs import plural
from storage.outfile import OutputRefused, write_output
from storage.search import Analysis, export, search, search_posts, story

MAX_ID = 2**63 - 1
"""The largest id a database can hold: a larger one cannot name anything (and SQLite's driver
raised OverflowError on it)."""
STORY_KEYS = (
    "id", "cluster_id", "representative", "source", "title", "published_at",
    "fetched_at", "url", "credited_source", "copies", "outlets", "versions",
)  # fmt: skip


def search_cmd(
    query: Annotated[
        str | None,
        typer.Argument(
            help='Words (accents optional), "a phrase", OR, prefix*. Optional with --topic, '
            "--entity, --min-score or --relevant."
        ),
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    lang: LangOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000)] = 20,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json, jsonl or csv.")
    ] = "table",
    all_copies: Annotated[
        bool,
        typer.Option("--all-copies", help="List every copy of a story, not one row per story."),
    ] = False,
    topic: Annotated[
        list[str] | None,
        typer.Option(
            "--topic", help="Only articles reporting this topic (repeatable: all of them)."
        ),
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", min=0.0, max=1.0, help="Only articles with relevance ≥ this."),
    ] = None,
    relevant: Annotated[
        bool,
        typer.Option("--relevant", help="Only articles at or above the profile's threshold."),
    ] = False,
    entity: Annotated[
        list[str] | None,
        typer.Option(
            "--entity",
            help="Only articles mentioning this entity: id, name or alias (repeatable: all).",
        ),
    ] = None,
    posts: Annotated[
        bool,
        typer.Option("--posts", help="Search embedded social posts instead of article bodies."),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Show why each article matched: topics and terms."),
    ] = False,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            help="Only articles edited (not just re-punctuated) since: an age like 24h, or a time.",
        ),
    ] = None,
) -> None:
    """Full-text search over titles and bodies, best matches first, one row per story."""
    with friendly_errors():
        check_format(fmt)
        if posts and not query:
            raise UsageError("--posts needs a query (words, a handle or a name)")
        url = db_url(db)
        window = _window(since, until, source, lang, limit)
        check_sources(source, url, config)
        if posts:
            _print_posts(search_posts(url, query, **window), fmt)
            return
        check_topics(topic)
        analysis = Analysis(
            topics=tuple(topic or ()),
            entities=tuple(resolve_entities(entity)),
            min_score=min_score,
            relevant=relevant,
            changed_since=parse_when(changed_since, "--changed-since"),
        )
        if not query and not analysis:
            raise UsageError(
                "give a query, or filter with --topic, --entity, --min-score, --relevant "
                "or --changed-since"
            )
        rows = search(
            url,
            query or None,
            **window,
            all_copies=all_copies,
            analysis=analysis,
            explain=explain,
            with_text=fmt != "table",
        )
    if fmt != "table":
        emit_records(rows, fmt)
    elif not rows:
        stderr.print("no matches")
    else:
        _print_articles(rows, all_copies, explain, with_relevance=bool(explain or analysis))


def _window(
    since: str | None,
    until: str | None,
    source: list[str] | None,
    lang: list[str] | None,
    limit: int,
) -> dict[str, Any]:
    """The filters search and post search share, as their keyword arguments."""
    check_languages(lang)
    return {
        "since": parse_when(since, "--since"),
        "until": parse_when(until, "--until"),
        "sources": source or None,
        "languages": lang or None,
        "limit": limit,
    }


def _print_articles(
    rows: list[dict[str, Any]], all_copies: bool, explain: bool, with_relevance: bool
) -> None:
    table = Table(show_lines=True)
    table.add_column("published", no_wrap=True)
    table.add_column("source")
    table.add_column("title / snippet", overflow="fold")
    if with_relevance:
        table.add_column("relevance / why" if explain else "relevance", overflow="fold")
    for row in rows:
        cell = Text(row.get("title") or "", style="bold")
        if row.get("snippet"):
            cell.append("\n" + row["snippet"], style="")
        cell.append("\n" + (row.get("canonical_url") or row.get("url") or ""), style="dim")
        extra = [Text(_why(row, explain))] if with_relevance else []
        outlets = row.get("source") or ""
        if (row.get("copies") or 1) > 1 and not all_copies:
            outlets += f"\n+{plural(row['copies'] - 1, 'copy', 'copies')}: " + ", ".join(
                o for o in row.get("outlets") or [] if o != row.get("source")
            )
        table.add_row(Text(local_time(row.get("published_at"))), Text(outlets), cell, *extra)
    stdout.print(table)


def _why(row: dict[str, Any], explain: bool) -> str:
    """Relevance, then (explaining) each topic's score and its matched terms with counts."""
    relevance = row.get("relevance")
    if relevance is None:
        return "not scored"
    verdict = "relevant" if row.get("relevant") else "not relevant"
    lines = [f"{relevance:.2f} {verdict}"]
    if explain:
        matched = row.get("matched") or {}
        for name, value in (row.get("topics") or {}).items():
            terms = ", ".join(f"{t} ×{n}" for t, n in (matched.get(name) or {}).items())
            lines.append(f"{name} {value:.2f}: {terms}")
        weak = [t for t in matched if t not in (row.get("topics") or {})]
        if weak:
            lines.append("below floor: " + ", ".join(weak))
        entities = ", ".join(e.get("name", "") for e in row.get("entities") or [])
        if entities:
            lines.append(f"entities: {entities}")
    return "\n".join(lines)


def _print_posts(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt != "table":
        emit_records(rows, fmt)
        return
    if not rows:
        stderr.print("no matches")
        return
    table = Table(show_lines=True)
    table.add_column("date", no_wrap=True)
    table.add_column("author")
    table.add_column("post / article", overflow="fold")
    for row in rows:
        who = Text(row.get("author") or "")
        if row.get("handle"):
            who.append(f"\n@{row['handle']}", style="dim")
        who.append(f"\n{row.get('platform') or ''}", style="dim")
        cell = Text(row.get("snippet") or row.get("text") or "")
        if row.get("url"):
            cell.append("\n" + row["url"], style="dim")
        cell.append(f"\nin: {row.get('article_title') or ''} ({row.get('source')})", style="")
        cell.append("\n" + (row.get("article_url") or ""), style="dim")
        table.add_row(Text(row.get("date") or ""), who, cell)
    stdout.print(table)


def story_cmd(
    ident: Annotated[int, typer.Argument(metavar="ID", help="A cluster id or any article id.")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """List the copies of one story: outlet, time, title, URL, credit, and the representative."""
    with friendly_errors():
        check_format(fmt, ("table", "json"))
        url = db_url(db)
        if not 1 <= ident <= MAX_ID:
            raise UsageError(f"no article or story with id {ident}")
        records = story(url, ident)
        if not records:
            raise UsageError(f"no article or story with id {ident}")
    if fmt == "json":
        print(
            json.dumps(
                [{k: r.get(k) for k in STORY_KEYS} for r in records], ensure_ascii=False, indent=2
            )
        )
        return
    table = Table(
        title=f"story {records[0]['cluster_id']}: {len(records)} copies", title_justify="left"
    )
    for col in ("", "id", "published", "outlet", "title", "credits", "url"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(
            "★" if r["representative"] else "",
            str(r["id"]),
            Text(local_time(r.get("published_at"))),
            Text(r.get("source") or ""),
            Text(r.get("title") or ""),
            Text(r.get("credited_source") or ""),
            Text(r.get("url") or "", style="dim"),
        )
    stdout.print(table)
    stdout.print("★ representative: the credited original, else the earliest published copy")
    print_story_changes(url, records)


def export_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Only articles matching this search.")
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    lang: LangOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1)] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="jsonl, json, csv or table.")
    ] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", dir_okay=False
        ),
    ] = None,
) -> None:
    """Write the corpus (or a filtered part of it) as jsonl, json, csv or a table."""
    with friendly_errors():
        check_format(fmt)
        url = db_url(db)
        check_sources(source, url, config)
        check_languages(lang)
        records = export(
            url,
            query=query,
            since=parse_when(since, "--since"),
            until=parse_when(until, "--until"),
            sources=source or None,
            languages=lang or None,
            limit=limit,
        )
        if output is not None:
            count = _write_file(records, fmt, output)
            stderr.print(f"wrote {count} articles to {output}")
        elif fmt == "table":
            _print_export_table(records, stdout)
        else:
            emit_records(records, fmt)


def _print_export_table(records: Any, console: Console) -> int:
    """The export as a table on ``console``; returns how many rows."""
    table = Table()
    for col in ("id", "published", "source", "title"):
        table.add_column(col)
    count = 0
    for r in records:
        table.add_row(
            str(r["id"]),
            Text(local_time(r.get("published_at"))),
            Text(r.get("source") or ""),
            Text(r.get("title") or ""),
        )
        count += 1
    console.print(table)
    return count


def _table_to(stream: IO[str], records: Any) -> int:
    """A table in a file: plain text, as wide as its rows (no terminal to fit)."""
    console = Console(file=stream, width=10_000, color_system=None, highlight=False)
    return _print_export_table(records, console)


def _write_file(records: Any, fmt: str, output: Path) -> int:
    """Through :func:`storage.outfile.write_output`: a file is replaced whole or not at all."""
    try:
        if fmt == "table":
            return write_output(output, lambda fh: _table_to(fh, records))
        return write_output(output, lambda fh: emit_records(records, fmt, fh))
    except OutputRefused as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
