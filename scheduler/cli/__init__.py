"""The ``newswatch`` command line: the product's contract.

Exit codes: 0 success; 1 a crawl in which some source failed (the others' articles are stored);
2 a usage, configuration, query or database-location error, always as one clear line on stderr.

Each command group is its own module and only parses flags, calls library code, and renders;
commands are registered here, in the order ``--help`` lists them.
"""

from __future__ import annotations

import typer

from scheduler.cli.alerts import alerts_app
from scheduler.cli.common import Command, Group
from scheduler.cli.corpus import recluster_cmd, rescore_cmd
from scheduler.cli.crawl import crawl
from scheduler.cli.daemon import daemon_cmd
from scheduler.cli.db import db_app
from scheduler.cli.history import history_cmd
from scheduler.cli.search import export_cmd, search_cmd, story_cmd
from scheduler.cli.sources import sources_cmd
from scheduler.cli.status import status_cmd
from scheduler.cli.web import serve_cmd
from scheduler.cli.worker import worker_cmd

__all__ = ["app", "main"]


app = typer.Typer(
    cls=Group,
    name="newswatch",
    help="Scheduled monitoring of Mexico–US bilateral-security news, in Spanish and English.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.command("crawl", cls=Command)(crawl)
app.command("search", cls=Command)(search_cmd)
app.command("story", cls=Command)(story_cmd)
app.command("history", cls=Command)(history_cmd)
app.command("recluster", cls=Command)(recluster_cmd)
app.command("rescore", cls=Command)(rescore_cmd)
app.command("export", cls=Command)(export_cmd)
app.command("sources", cls=Command)(sources_cmd)
app.command("status", cls=Command)(status_cmd)
app.command("daemon", cls=Command)(daemon_cmd)
app.command("serve", cls=Command)(serve_cmd)
app.command("worker", cls=Command)(worker_cmd)
app.add_typer(db_app, name="db")
app.add_typer(alerts_app, name="alerts")


def main() -> None:
    """The ``newswatch`` console script."""
    app()
