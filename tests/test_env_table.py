"""The one table of ``NEWSWATCH_*`` variables: every row rejects bad values the same way, every
variable the program mentions is a row, and nothing outside ``crawler/settings.py`` reads one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler import settings
from crawler.settings import ENVIRONMENT, EnvVar, SettingsError
from tests.test_e2e_cli import run_cli

ROOT = Path(__file__).resolve().parents[1]

BAD_VALUES: dict[str, tuple[str, ...]] = {
    "whole": ("abc", "-1", "2.5", "1e3", "99999999999999999999", "0x10"),
    "number": ("abc", "nan", "inf", "-inf", "-1", "1e308", "1,5"),
    "choice": ("nonsense", "1"),
    "text": ("a\nb", "bad\x7fpath"),
    "allowance": ("maybe", "10.0.0.0/33", "127.0.0.1,nope"),
}

CASES = [(var, bad) for var in ENVIRONMENT for bad in BAD_VALUES[var.kind]]


@pytest.mark.parametrize(("var", "bad"), CASES, ids=[f"{v.name}={b!r}" for v, b in CASES])
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: EnvVar, bad: str
) -> None:
    monkeypatch.setenv(var.name, bad)
    with pytest.raises(SettingsError) as caught:
        settings.env(var.name)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{var.name}=") and ": expected " in message
    with pytest.raises(SettingsError, match=re.escape(var.name)):
        settings.check_environment()


@pytest.mark.parametrize("var", ENVIRONMENT, ids=[v.name for v in ENVIRONMENT])
def test_a_good_value_parses_and_blank_is_the_default(
    monkeypatch: pytest.MonkeyPatch, var: EnvVar
) -> None:
    monkeypatch.setenv(var.name, var.good)
    value = settings.env(var.name)
    assert value is not None and value != ""
    settings.check_environment()
    monkeypatch.setenv(var.name, "  ")
    assert settings.env(var.name) == var.default
    monkeypatch.delenv(var.name)
    assert settings.env(var.name) == var.default


@pytest.mark.parametrize("var", [v for v in ENVIRONMENT if v.kind in ("whole", "number")])
def test_every_number_has_bounds_and_they_are_inclusive(
    monkeypatch: pytest.MonkeyPatch, var: EnvVar
) -> None:
    assert var.minimum is not None and var.maximum is not None and var.minimum < var.maximum
    monkeypatch.setenv(var.name, str(var.maximum if var.kind == "number" else int(var.maximum)))
    assert settings.env(var.name) == var.maximum
    monkeypatch.setenv(var.name, str(var.maximum * 2 + 1))
    with pytest.raises(SettingsError):
        settings.env(var.name)


def test_the_message_says_what_is_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_EXTRACT_WORKERS", "abc")
    with pytest.raises(SettingsError) as caught:
        settings.extract_workers()
    assert str(caught.value) == (
        "NEWSWATCH_EXTRACT_WORKERS='abc': expected a whole number from 0 to 64"
    )
    monkeypatch.setenv("NEWSWATCH_DOWNLOAD_TIMEOUT", "nan")
    with pytest.raises(SettingsError, match=r"expected a number of seconds from 0\.1 to 3600"):
        settings.download_timeout()


def test_allow_private_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for word in ("1", "yes", "TRUE"):
        monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE", word)
        assert settings.private_allowance().everything
    for word in ("0", "no", "false"):
        monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE", word)
        assert settings.private_allowance() == settings.PrivateAllowance()
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE", "127.0.0.1, 10.0.0.0/8,")
    allowance = settings.private_allowance()
    assert not allowance.everything and [str(n) for n in allowance.networks] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
    ]


def test_scrapy_carried_values_go_through_the_table() -> None:
    assert settings.from_scrapy({"NEWSWATCH_RETRY_BACKOFF": 0.5}, "NEWSWATCH_RETRY_BACKOFF") == 0.5
    with pytest.raises(SettingsError, match="NEWSWATCH_ROBOTS_TTL='-5'"):
        settings.from_scrapy({"NEWSWATCH_ROBOTS_TTL": "-5"}, "NEWSWATCH_ROBOTS_TTL")


def test_every_command_checks_the_environment_first(tmp_path: Path) -> None:
    result = run_cli(
        "status", "--db", str(tmp_path / "db.sqlite"), env={"NEWSWATCH_INLINE_FIRST": "-3"}
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "newswatch: setting error: NEWSWATCH_INLINE_FIRST='-3': expected a whole number "
        "from 0 to 100000"
    ], lines


_READ = re.compile(r"(os\.environ|getenv)\b[^\n]*?(NEWSWATCH_|\bENV_)")


def _sources(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_no_environment_read_outside_the_settings_module() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources("crawler", "scheduler", "storage")
        if path != ROOT / "crawler" / "settings.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _READ.search(line)
    ]
    assert offenders == []


def test_every_variable_the_program_mentions_is_in_the_table() -> None:
    harness = ("NEWSWATCH_TEST", "NEWSWATCH_BENCH")
    files = [*_sources("crawler", "scheduler", "storage"), ROOT / "README.md"]
    files += sorted((ROOT / "docs").glob("*.md"))
    mentioned = {
        name
        for path in files
        for name in re.findall(r"NEWSWATCH_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8"))
        if not name.startswith(harness)
    }
    assert mentioned - {var.name for var in ENVIRONMENT} == set()


def test_readme_table_lists_every_variable_with_its_accepted_values() -> None:
    """The README's environment table is checked against the one table, so the two cannot drift."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("`")[1]: line for line in readme.splitlines() if line.startswith("| `NEWSWATCH_")
    }
    for var in ENVIRONMENT:
        assert var.name in rows, var.name
        if var.kind != "text":
            assert f"| {var.expected()} |" in rows[var.name], var.name
