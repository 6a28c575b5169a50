"""The ``newswatch`` command line: the product's contract.

Exit codes: 0 success; 1 a crawl in which some source failed (the others' articles are stored);
2 a usage, configuration, query or database-location error, always as one clear line on stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from crawler import settings
from crawler.config import ConfigError, Source, format_duration, load_config, parse_duration
from scheduler import logs
from storage.db import StorageError, database_info, one_line, sqlite_errors
from storage.search import (
    Analysis,
    QueryError,
    export,
    ranking_threads,
    search,
    search_posts,
    write_records,
)
from storage.store import Store

app = typer.Typer(
    name="newswatch",
    help="Scheduled monitoring of Mexico–US bilateral-security news, in Spanish and English.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

FORMATS = ("table", "json", "jsonl", "csv")

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Sources file (TOML). Default: ./sources.toml if present, else the packaged catalog.",
        dir_okay=False,
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL or SQLite path. Default: $NEWSWATCH_DB, else the user data dir."
    ),
]
LogOpt = Annotated[
    str | None,
    typer.Option(
        "--log-level", help="DEBUG, INFO, WARNING or ERROR (default $NEWSWATCH_LOG_LEVEL)."
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since", help="Published at or after: a date (2025-12-01), an ISO time, or an age (7d)."
    ),
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Published before: a date, an ISO time, or an age.")
]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")
]
LangOpt = Annotated[
    list[str] | None, typer.Option("--lang", "-l", help="Only this language, e.g. es (repeatable).")
]


class UsageError(Exception):
    """A bad flag value: reported like a config error, exit 2."""


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one line on stderr and exit code 2, never a traceback.

    Every command runs in here, so every command checks the whole environment first.
    """
    try:
        settings.check_environment()
        yield
    except (ConfigError, QueryError, StorageError, UsageError, settings.SettingsError) as exc:
        label = {
            ConfigError: "config error",
            settings.SettingsError: "setting error",
            QueryError: "bad query",
            StorageError: "database error",
        }.get(type(exc), "error")
        stderr.print(Text(f"newswatch: {label}: {exc}", style="red"))
        raise typer.Exit(2) from None
    except (SQLAlchemyError, *sqlite_errors()) as exc:
        stderr.print(Text(f"newswatch: database error: {one_line(exc)}", style="red"))
        raise typer.Exit(2) from None


def setup_logging(level: str | None, fmt: str = "text", log_file: Path | None = None) -> None:
    try:
        name = settings.log_level(level).upper()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if fmt not in ("text", "json"):
        raise UsageError(f"--log-format must be text or json, not {fmt!r}")
    try:
        logs.configure(logging.getLevelName(name), fmt, log_file)
    except OSError as exc:
        raise UsageError(f"cannot open log file {log_file}: {exc.strerror or exc}") from None


def parse_when(value: str | None, flag: str) -> datetime | None:
    """``--since``/``--until``: a date (local midnight in UTC), an ISO time, or an age like ``7d``."""
    if value is None:
        return None
    text = value.strip()
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{flag}: cannot read {value!r} (use 2025-12-01, 2025-12-01T08:00-07:00 or an age like 7d)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if fmt not in allowed:
        raise UsageError(f"--format must be one of {', '.join(allowed)}, not {fmt!r}")
    return fmt


def _db(db: str | None) -> str:
    return settings.db_url(db)


def _local_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M %z")
    except ValueError:
        return iso


def _emit_records(records: Any, fmt: str, out: Any = None) -> int:
    return write_records(records, fmt, out or sys.stdout)


# --------------------------------------------------------------------------- crawl


@app.command()
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
        typer.Option("--run-timeout", min=1, help="Stop the crawl after this many seconds."),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text, or json (one object per line).")
    ] = "text",
) -> None:
    """Crawl now: every enabled source, or the named ones, and print a summary per source."""
    from crawler.fetching.runner import run_crawl

    with friendly_errors():
        check_format(fmt, ("text", "json"))
        setup_logging(log_level, log_format)
        cfg = load_config(config)
        sources = cfg.select(source_names or [])
        if not sources:
            raise UsageError("no enabled sources to crawl (see `newswatch sources`)")
        url = _db(db)
        Store(url).close()
        with _progress(sources, enabled=fmt == "text" and stderr.is_terminal) as hook:
            results = run_crawl(sources, url, on_progress=hook, run_timeout=run_timeout)
    if fmt == "json":
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        _print_crawl_summary(results)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@contextmanager
def _progress(sources: list[Source], enabled: bool) -> Iterator[Callable[..., None] | None]:
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
                description=f"{name}: {counts.entries} entries, {counts.pages} pages, "
                f"{counts.new} new, {counts.errors} errors",
            )

        yield hook


def _print_crawl_summary(results: list[Any]) -> None:
    table = Table(title="crawl summary", title_justify="left")
    for col in ("source", "entries", "pages", "new", "updated", "dupes", "errors"):
        table.add_column(col, justify="left" if col == "source" else "right")
    table.add_column("status")
    for r in results:
        c = r.counts
        if not r.ok:
            status = Text(f"FAILED: {r.error}", style="red")
        else:
            status = Text("ok, unchanged (304)" if r.not_modified else "ok", style="green")
        table.add_row(
            Text(r.source),
            *(str(v) for v in (c.entries, c.pages, c.new, c.updated, c.duplicates, c.errors)),
            status,
        )
    stdout.print(table)


# --------------------------------------------------------------------------- search / export


@app.command("search")
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
) -> None:
    """Full-text search over titles and bodies, best matches first, one row per story."""
    with friendly_errors():
        check_format(fmt)
        if posts:
            if not query:
                raise UsageError("--posts needs a query (words, a handle or a name)")
            _print_posts(
                search_posts(
                    _db(db),
                    query,
                    since=parse_when(since, "--since"),
                    until=parse_when(until, "--until"),
                    sources=source or None,
                    languages=lang or None,
                    limit=limit,
                ),
                fmt,
            )
            return
        analysis = Analysis(
            topics=tuple(topic or ()),
            entities=tuple(_resolve_entities(entity or [])),
            min_score=min_score,
            relevant=relevant,
        )
        if not query and not analysis:
            raise UsageError(
                "give a query, or filter with --topic, --entity, --min-score or --relevant"
            )
        rows = search(
            _db(db),
            query or None,
            since=parse_when(since, "--since"),
            until=parse_when(until, "--until"),
            sources=source or None,
            languages=lang or None,
            limit=limit,
            all_copies=all_copies,
            analysis=analysis,
            explain=explain,
            with_text=fmt != "table",
        )
    if fmt != "table":
        _emit_records(rows, fmt)
        return
    if not rows:
        stderr.print("no matches")
        return
    table = Table(show_lines=True)
    table.add_column("published", no_wrap=True)
    table.add_column("source")
    table.add_column("title / snippet", overflow="fold")
    if explain or analysis:
        table.add_column("relevance / why" if explain else "relevance", overflow="fold")
    for row in rows:
        cell = Text(row.get("title") or "", style="bold")
        if row.get("snippet"):
            cell.append("\n" + row["snippet"], style="")
        cell.append("\n" + (row.get("canonical_url") or row.get("url") or ""), style="dim")
        extra = [Text(_why(row, explain))] if explain or analysis else []
        outlets = row.get("source") or ""
        if (row.get("copies") or 1) > 1 and not all_copies:
            outlets += f"\n+{row['copies'] - 1} copies: " + ", ".join(
                o for o in row.get("outlets") or [] if o != row.get("source")
            )
        table.add_row(Text(_local_time(row.get("published_at"))), Text(outlets), cell, *extra)
    stdout.print(table)


def _resolve_entities(values: list[str]) -> list[str]:
    """Map aliases ("Embajada de EU", "@SRE_mx") to gazetteer ids; other values pass through
    for storage to match against stored ids and names."""
    if not values:
        return []
    from crawler.analysis.entities import find_entities
    from crawler.analysis.scoring import configured

    try:
        _, gazetteer = configured()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out = []
    for value in values:
        found = find_entities(value, gazetteer)
        out.append(found[0]["id"] if len(found) == 1 else value)
    return out


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
        _emit_records(rows, fmt)
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


# --------------------------------------------------------------------------- stories


@app.command("story")
def story_cmd(
    ident: Annotated[int, typer.Argument(metavar="ID", help="A cluster id or any article id.")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """List the copies of one story: outlet, time, title, URL, credit, and the representative."""
    from storage.search import story

    with friendly_errors():
        check_format(fmt, ("table", "json"))
        records = story(_db(db), ident)
        if not records:
            raise UsageError(f"no article or story with id {ident}")
    if fmt == "json":
        keys = (
            "id", "cluster_id", "representative", "source", "title", "published_at",
            "fetched_at", "url", "credited_source", "copies", "outlets",
        )  # fmt: skip
        print(
            json.dumps([{k: r.get(k) for k in keys} for r in records], ensure_ascii=False, indent=2)
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
            Text(_local_time(r.get("published_at"))),
            Text(r.get("source") or ""),
            Text(r.get("title") or ""),
            Text(r.get("credited_source") or ""),
            Text(r.get("url") or "", style="dim"),
        )
    stdout.print(table)
    stdout.print("★ representative: the credited original, else the earliest published copy")


@app.command("recluster")
def recluster_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Similarity (0–1] above which articles are one story "
            "(default $NEWSWATCH_NEAR_DUP_THRESHOLD, else 0.8).",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Recompute fingerprints and story clusters from the stored text (nothing is refetched)."""
    from crawler.identity.credits import credited_source
    from crawler.identity.fingerprint import fingerprint, shingle_count

    with friendly_errors():
        check_format(fmt, ("text", "json"))
        try:
            value = settings.near_dup_threshold(threshold)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        store = Store(_db(db), near_dup_threshold=value)
        try:
            summary = store.recluster(
                value, signer=fingerprint, creditor=credited_source, counter=shingle_count
            )
        finally:
            store.close()
    if fmt == "json":
        print(json.dumps(summary))
        return
    stdout.print(
        f"reclustered {summary['articles']} articles at threshold {summary['threshold']}: "
        f"{summary['clusters']} stories, {summary['multi_member_clusters']} with copies"
    )


@app.command("rescore")
def rescore_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    topics: Annotated[
        Path | None,
        typer.Option(
            "--topics",
            help="Topic profile (TOML) replacing the packaged one (default $NEWSWATCH_TOPICS).",
            dir_okay=False,
        ),
    ] = None,
    entities: Annotated[
        Path | None,
        typer.Option(
            "--entities",
            help="Gazetteer (TOML) extending the packaged one (default $NEWSWATCH_ENTITIES).",
            dir_okay=False,
        ),
    ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=10000)] = 500,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Recompute relevance, topics and entities of stored articles (nothing is refetched)."""
    from crawler.analysis.scoring import analyze, configured

    with friendly_errors():
        check_format(fmt, ("text", "json"))
        try:
            profile, gazetteer = configured(topics, entities)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        store = Store(_db(db))
        try:
            before = store.analysis_summary()
            changed = 0
            for rows in store.iter_texts(batch):
                results = []
                for row in rows:
                    result = analyze(row["title"], row["text"], profile, gazetteer, row["posts"])
                    changed += result.relevant != row["relevant"]
                    results.append({"id": row["id"], **result.as_dict()})
                store.update_analysis(results)
            after = store.analysis_summary()
        finally:
            store.close()
    summary = {
        "articles": after["articles"],
        "relevant_before": before["relevant"],
        "relevant_after": after["relevant"],
        "changed": changed,
        "threshold": profile.threshold,
        "profile": profile.source,
    }
    if fmt == "json":
        print(json.dumps(summary, ensure_ascii=False))
        return
    stdout.print(
        f"rescored {summary['articles']} articles with {summary['profile']}: relevant "
        f"{summary['relevant_before']} → {summary['relevant_after']} "
        f"({summary['changed']} changed verdict; threshold {summary['threshold']:.2f})"
    )


@app.command("export")
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
        records = export(
            _db(db),
            query=query,
            since=parse_when(since, "--since"),
            until=parse_when(until, "--until"),
            sources=source or None,
            languages=lang or None,
            limit=limit,
        )
        if fmt == "table":
            table = Table()
            for col in ("id", "published", "source", "title"):
                table.add_column(col)
            for r in records:
                table.add_row(
                    str(r["id"]),
                    Text(_local_time(r.get("published_at"))),
                    Text(r.get("source") or ""),
                    Text(r.get("title") or ""),
                )
            stdout.print(table)
            return
        if output is None:
            _emit_records(records, fmt)
            return
        tmp = output.with_name(output.name + ".part")
        try:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                count = _emit_records(records, fmt, fh)
            tmp.replace(output)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    stderr.print(f"wrote {count} articles to {output}")


# --------------------------------------------------------------------------- sources / status


@app.command("sources")
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
        chosen = cfg.select(name) if name else list(cfg.sources)
        if online and not check:
            raise UsageError("--online needs --check")
    items = [s for s in chosen if all_ or s.enabled]
    if check and not online:
        if fmt == "json":
            print(json.dumps({"config": str(cfg.path), "valid": True, "sources": len(items)}))
        else:
            stdout.print(Text(f"{cfg.path}: valid, {len(items)} sources", style="green"))
        return
    if check:
        from crawler.fetching.check import check_sources

        results = check_sources(items)
        if fmt == "json":
            print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
        else:
            table = Table(title=f"online check of {cfg.path}", title_justify="left")
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
        return
    if fmt == "json":
        print(
            json.dumps(
                [
                    {
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
                    for s in items
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table(title=f"sources from {cfg.path}", title_justify="left")
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


@app.command("status")
def status_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Whether a daemon runs on this database; per source: last success, articles in the last
    24 h and 7 days, failures in a row, backoff, next due, last error."""
    import socket

    from scheduler.daemon import FAILING_AFTER, LOCK_STALE_AFTER

    with friendly_errors():
        check_format(fmt, ("table", "json"))
        cfg = load_config(config)
        store = Store(_db(db))
        try:
            rows = {r["name"]: r for r in store.source_status()}
            daemon = store.daemon_info(LOCK_STALE_AFTER, socket.gethostname())
            database = {
                **database_info(store.engine),
                "search_threads": ranking_threads(store.engine),
            }
        finally:
            store.close()
    configured = {s.name for s in cfg.sources}
    for s in cfg.sources:
        rows.setdefault(s.name, {"name": s.name, "title": s.title, "kind": s.kind})
    for name, r in rows.items():
        r["configured"] = name in configured
        r["enabled"] = next((s.enabled for s in cfg.sources if s.name == name), False)
        r["failing"] = (r.get("consecutive_failures") or 0) >= FAILING_AFTER
    records = [rows[k] for k in sorted(rows)]
    if fmt == "json":
        print(
            json.dumps(
                {"daemon": daemon, "database": database, "sources": records},
                ensure_ascii=False,
                indent=2,
                default=_json_default,
            )
        )
        return
    if daemon and daemon["alive"]:
        stdout.print(
            f"daemon: running (pid {daemon['pid']} on {daemon['host']}, "
            f"last heartbeat {_fmt_time(daemon['heartbeat_at'])})"
        )
    else:
        stdout.print("daemon: not running")
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
    table = Table()
    for col in (
        "source",
        "on",
        "last success",
        "24h",
        "7d",
        "total",
        "fails",
        "next due",
        "last error",
    ):
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
            _fmt_time(
                max((t for t in (r.get("next_due"), r.get("backoff_until")) if t), default=None)
            ),
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


@app.command("daemon")
def daemon_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    log_level: LogOpt = None,
    run_timeout: Annotated[
        float, typer.Option("--run-timeout", min=1, help="Time limit of one crawl run (s).")
    ] = 15 * 60,
    grace: Annotated[
        float,
        typer.Option("--grace", min=0, help="On SIGTERM, how long running crawls may finish (s)."),
    ] = 30,
    max_children: Annotated[
        int, typer.Option("--max-children", min=1, max=16, help="Crawl processes at once.")
    ] = 2,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text, or json (one object per line).")
    ] = "text",
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file", help="Also log to this file (rotated at 10 MB, 5 kept).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Run in the foreground and crawl every enabled source on its interval, until SIGTERM.

    SIGHUP reloads the sources file. Each run is a child `newswatch crawl` process.
    """
    from scheduler.daemon import Daemon, DaemonAlreadyRunning, DaemonOptions

    with friendly_errors():
        setup_logging(log_level, log_format, log_file)
        cfg = load_config(config)
        opts = DaemonOptions(
            config_path=cfg.path,
            db_url=_db(db),
            run_timeout=run_timeout,
            grace=grace,
            max_children=max_children,
            log_level=settings.log_level(log_level),
            log_format=log_format,
        )
        try:
            code = Daemon(opts).run()
        except DaemonAlreadyRunning as exc:
            stderr.print(Text(f"newswatch: {exc}", style="red"))
            raise typer.Exit(3) from None
    raise typer.Exit(code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
