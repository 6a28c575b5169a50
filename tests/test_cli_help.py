"""The CLI's help pins its contract: every command and the flags scripts rely on stay listed.

Typer renders help through rich and wraps it to the terminal, so a wide terminal is asked for:
a flag folded over two lines would not be found.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from scheduler.cli import app

COMMANDS = {
    "crawl": ("--config", "--db", "--format", "--log-level", "--log-format", "--run-timeout"),
    "search": (
        "--since", "--until", "--source", "--lang", "--limit", "--format", "--all-copies",
        "--topic", "--min-score", "--relevant", "--entity", "--posts", "--explain",
    ),
    "story": ("--db", "--format"),
    "recluster": ("--db", "--threshold", "--format"),
    "rescore": ("--db", "--topics", "--entities", "--batch", "--format"),
    "export": (
        "--query", "--since", "--until", "--source", "--lang", "--limit", "--format", "--output",
    ),
    "sources": ("--config", "--format", "--all", "--enabled", "--check", "--online"),
    "status": ("--config", "--db", "--format"),
    "daemon": (
        "--config", "--db", "--log-level", "--log-format", "--log-file", "--run-timeout",
        "--grace", "--max-children",
    ),
}  # fmt: skip

WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200", "NO_COLOR": "1"}


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def test_top_level_help_lists_every_command_in_order():
    text = _help()
    assert "Usage:" in text and "COMMAND" in text
    positions = [text.find(f" {name} ") for name in COMMANDS]
    assert all(p >= 0 for p in positions), dict(zip(COMMANDS, positions, strict=True))
    assert positions == sorted(positions)


@pytest.mark.parametrize(("command", "flags"), COMMANDS.items(), ids=list(COMMANDS))
def test_command_help_lists_its_flags(command, flags):
    text = _help(command)
    assert f"{command} [OPTIONS]" in text
    missing = [flag for flag in flags if flag not in text]
    assert not missing, f"{command} --help lacks {missing}"


def test_short_help_option_works():
    result = CliRunner().invoke(app, ["search", "-h"], env=WIDE)
    assert result.exit_code == 0 and "--since" in result.output
