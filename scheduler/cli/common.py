"""What every ``newswatch`` command shares: the common options, the error contract, and output.

The error contract is the CLI's promise: a mistake the user can fix (a flag, the sources file, a
query, the database location) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperCommand, TyperGroup

from crawler import settings
from crawler.config import ConfigError
from scheduler import logs
from scheduler.filters import MAX_AGE_DAYS, UsageError, parse_when  # noqa: F401 (re-exported)
from storage.db import StorageError, database_exists, one_line, sqlite_errors, sqlite_file
from storage.search import QueryError, write_records

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
RunTimeoutOpt = Annotated[
    float,
    typer.Option("--run-timeout", min=1, max=7 * 86400, help="Time limit of one crawl run (s)."),
]
"""A scheduled run's time limit, the same for the daemon's children and a worker's jobs."""
DEFAULT_RUN_TIMEOUT = 15 * 60
LogFormatOpt = Annotated[
    str, typer.Option("--log-format", help="text, or json (one object per line).")
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Published at or after: a date (2025-12-01, from 00:00 UTC), an ISO time "
        "(2025-12-01T08:00-07:00; UTC without an offset), or an age (7d).",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="Published before: a date (at 00:00 UTC), an ISO time, or an age.",
    ),
]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")
]
LangOpt = Annotated[
    list[str] | None, typer.Option("--lang", "-l", help="Only this language, e.g. es (repeatable).")
]


def _hide_flag_types(params: list) -> list:
    """A flag (``--all-copies``, ``--help``) takes no value, so its help shows none: Typer
    printed ``<bool>`` beside it, and ``--all-copies true`` then failed as an extra argument."""
    for param in params:
        if getattr(param, "is_flag", False):
            param.metavar = ""
    return params


class Command(TyperCommand):
    """Every ``newswatch`` command: flags shown without a value type."""

    def get_params(self, ctx):
        return _hide_flag_types(super().get_params(ctx))


class Group(TyperGroup):
    """A command group (the program, ``db``): flags shown without a value type."""

    def get_params(self, ctx):
        return _hide_flag_types(super().get_params(ctx))


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
    """Configure logging from the flags, reporting a bad value as a usage error (exit 2)."""
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


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> str:
    """Reject a ``--format`` the command cannot write before any work is done."""
    if fmt not in allowed:
        raise UsageError(f"--format must be one of {', '.join(allowed)}, not {fmt!r}")
    return fmt


def db_url(db: str | None, *, create: bool = False) -> str:
    """The database the ``--db`` flag (else the environment, else the default) names.

    Only ``crawl``, ``daemon`` and ``db init`` pass ``create``: every other command reads an
    existing database, so a mistyped path is an error rather than a new, empty database that
    answers "no matches".
    """
    if db is not None and not db.strip():
        raise UsageError("--db is empty: give a SQLite file path or a database URL")
    url = settings.db_url(db)
    if not create and not database_exists(url):
        raise StorageError(
            f"no database at {sqlite_file(url)} (`newswatch crawl` or `newswatch db init` "
            "creates one; check --db or NEWSWATCH_DB)"
        )
    return url


def local_time(iso: str | None) -> str:
    """A stored ISO time as a table shows it; an unreadable value is shown as stored."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M %z")
    except ValueError:
        return iso


def emit_records(records: Any, fmt: str, out: IO[str] | None = None) -> int:
    """Write records as json, jsonl or csv (to stdout by default); returns how many."""
    return write_records(records, fmt, out or sys.stdout)
