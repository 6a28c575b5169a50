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
        "--grace", "--max-children", "--cluster",
    ),
    "worker": (
        "--config", "--db", "--log-level", "--log-format", "--concurrency", "--queues",
        "--run-timeout",
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


FLAGS = {"search": ("--all-copies", "--relevant", "--posts", "--explain")}


@pytest.mark.parametrize("command", [(), *((c,) for c in COMMANDS), ("db",), ("db", "init")])
def test_help_shows_no_value_type_for_flags(command):
    """A flag takes no value: help must not print ``<bool>`` beside it (issue 17, item 13)."""
    text = _help(*command)
    assert "<bool>" not in text
    for line in text.splitlines():
        if "--help" in line:
            assert "<" not in line, line


@pytest.mark.parametrize(("command", "flags"), FLAGS.items(), ids=list(FLAGS))
def test_flags_take_no_value_as_help_says(command, flags, tmp_path):
    missing = str(tmp_path / "none.sqlite")
    for flag in flags:
        args = [command, *(["x"] if command == "search" else []), flag]
        given_a_value = CliRunner().invoke(app, [*args, "true", "--db", missing], env=WIDE)
        assert given_a_value.exit_code == 2
        assert "unexpected extra argument" in given_a_value.output
    plain = CliRunner().invoke(app, ["search", "x", "--all-copies", "--db", missing], env=WIDE)
    assert "no database at" in plain.output  # the flag parsed; the missing database stops it


def test_value_options_still_show_their_type():
    text = _help("search")
    assert "<int range>" in text and "<str>" in text
