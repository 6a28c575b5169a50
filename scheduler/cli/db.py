"""``newswatch db init`` and ``newswatch db upgrade``: create or migrate a database on purpose.

Reading commands never create a database (a typo in ``--db`` would become an empty one that
answers "no matches"); ``crawl``, ``daemon`` and ``db init`` do.
"""

from __future__ import annotations

import typer
from rich.text import Text

from scheduler.cli.common import Command, DbOpt, Group, db_url, friendly_errors, stdout
from storage.db import current_revision, get_engine

db_app = typer.Typer(
    name="db",
    cls=Group,
    help="Create (init) or migrate (upgrade) the database.",
    no_args_is_help=True,
    add_completion=False,
)


@db_app.command("init", cls=Command)
def init_cmd(db: DbOpt = None) -> None:
    """Create the database (and its directory) with the current schema; an existing one is
    upgraded."""
    with friendly_errors():
        _report(db_url(db, create=True))


@db_app.command("upgrade", cls=Command)
def upgrade_cmd(db: DbOpt = None) -> None:
    """Migrate an existing database to the current schema (every command also does this)."""
    with friendly_errors():
        _report(db_url(db))


def _report(url: str) -> None:
    engine = get_engine(url)
    where = engine.url.render_as_string(hide_password=True)
    queue = ""
    if engine.dialect.name == "postgresql":
        from scheduler.cluster.app import ensure_schema, schema_version

        ensure_schema(url)
        queue = f"; task queue: procrastinate {schema_version(url)}"
    stdout.print(Text(f"database ready: {where} (schema {current_revision(engine)}{queue})"))
