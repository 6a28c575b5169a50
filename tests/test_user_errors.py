"""Issue 17, items 7, 10, 11 and 13: the mistakes a user makes get one line and exit 2, values
that would crash later are refused up front, and small promises (help, status, logs) are kept.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from scheduler.cli import app
from scheduler.logs import plural

ROOT = Path(__file__).resolve().parent.parent
SOURCE = '[[sources]]\nname = "tribuna"\nurl = "https://www.tribuna.example/feed/"\n'


def run(*args: str, env: dict[str, str] | None = None):
    """The CLI in this process: fast, and its output is what a terminal would show."""
    full = {"NEWSWATCH_DB": "", "COLUMNS": "200", **(env or {})}
    return CliRunner().invoke(app, list(args), env=full)


def one_error_line(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(autouse=True)
def _keep_logging():
    """``crawl`` and ``daemon`` configure logging to the runner's stream: put it back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "news.sqlite"
    result = run("db", "init", "--db", str(path))
    assert result.exit_code == 0, result.output
    assert "schema" in result.stdout and path.exists()
    return path


# ---------------------------------------------------------------- 7: values that used to crash


@pytest.mark.parametrize(
    "line",
    ['interval = "99999999999999d"', "interval = 1e308", "interval = nan", "delay = 1e308"],
)
@pytest.mark.parametrize(
    "command", [("sources", "--check"), ("crawl",), ("daemon",)], ids=["check", "crawl", "daemon"]
)
def test_out_of_range_values_are_refused_by_every_command(tmp_path, line, command):
    cfg = tmp_path / "s.toml"
    cfg.write_text(SOURCE + line + "\n", encoding="utf-8")
    db = tmp_path / "db.sqlite"
    message = one_error_line(run(*command, "--config", str(cfg), "--db", str(db)))
    assert "config error" in message and "line 4" in message and "key '" in message
    assert not db.exists()


# ---------------------------------------------------------------- 10: no tracebacks


def test_a_database_from_a_newer_newswatch_is_one_line(db):
    from storage.db import dispose_engines

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    dispose_engines()  # this process opened it at the current schema a moment ago
    for command in (("search", "x"), ("status",), ("db", "upgrade")):
        message = one_error_line(run(*command, "--db", str(db)))
        assert message == (
            "newswatch: database error: this database was written by a newer newswatch "
            "(schema 0099); upgrade newswatch"
        )


def test_an_id_beyond_any_database_is_one_line(db):
    message = one_error_line(run("story", "99999999999999999999999", "--db", str(db)))
    assert "no article or story with id 99999999999999999999999" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("99999999999d", "too far back"), ("9999-12-31T23:00-05:00", "out of range")],
)
def test_a_since_beyond_any_date_is_one_line(db, value, expected):
    message = one_error_line(run("search", "x", "--since", value, "--db", str(db)))
    assert f"--since: {value!r} is {expected}" in message


def _robots_record(exc_info) -> logging.LogRecord:
    from crawler.fetching import middlewares  # noqa: F401 - installs the filter

    logger = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
    record = logger.makeRecord(
        logger.name, logging.ERROR, __file__, 1, "Error downloading %s", ("x",), exc_info
    )
    assert all(f.filter(record) for f in logger.filters)
    return record


def test_a_robots_txt_that_cannot_be_fetched_logs_no_traceback():
    try:
        raise OSError("DNS lookup failed")
    except OSError:
        exc_info = sys.exc_info()
    logging.getLogger().setLevel(logging.INFO)
    assert _robots_record(exc_info).exc_info is None
    logging.getLogger().setLevel(logging.DEBUG)
    assert _robots_record(exc_info).exc_info is not None  # --log-level debug keeps it


def test_a_full_disk_logs_one_line_per_batch(caplog):
    from crawler.pipeline.pipelines import StorePipeline

    def full(_batch):
        raise sqlite3.OperationalError("database or disk is full")

    from crawler.pipeline.runs import CrawlContext, RunRecorder

    context = CrawlContext(SimpleNamespace(name="tribuna"), SimpleNamespace(store=full))
    recorder = RunRecorder(context)
    context.recorder = recorder
    pipeline = StorePipeline(SimpleNamespace(newswatch=context))
    caplog.set_level(logging.INFO, logger="crawler.pipeline.pipelines")
    for _ in range(2):
        pipeline.batch = [object(), object()]
        pipeline.flush()
    records = [r for r in caplog.records if "could not store" in r.getMessage()]
    assert len(records) == 2 and not any(r.exc_info for r in records)
    assert records[0].getMessage() == (
        "source tribuna: could not store 2 articles: database or disk is full"
    )
    assert recorder.error == "storage error: database or disk is full"
    assert recorder.counts.errors == 4


# ---------------------------------------------------------------- 11: mistakes that looked fine


@pytest.mark.parametrize(
    "command",
    [
        ("search", "x"),
        ("story", "1"),
        ("export",),
        ("status",),
        ("sources",),
        ("recluster",),
        ("rescore",),
        ("db", "upgrade"),
    ],
    ids=lambda c: "-".join(c),
)
def test_reading_commands_never_create_a_database(tmp_path, command):
    missing = tmp_path / "no" / "such" / "dir" / "x.sqlite"
    message = one_error_line(run(*command, "--db", str(missing)))
    assert f"no database at {missing}" in message and "db init" in message
    assert not (tmp_path / "no").exists()


def test_a_typo_in_db_creates_nothing_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_error_line(run("search", "x", "--db", "typo"))
    assert list(tmp_path.iterdir()) == []


def test_an_empty_db_flag_is_an_error(tmp_path):
    message = one_error_line(run("search", "x", "--db", ""))
    assert "--db is empty" in message


def test_db_init_creates_directory_and_database(tmp_path):
    path = tmp_path / "new" / "dir" / "x.sqlite"
    assert run("db", "init", "--db", str(path)).exit_code == 0
    result = run("search", "x", "--db", str(path))
    assert result.exit_code == 0 and "no matches" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("search", "x", "--source", "tribuan"), "unknown source 'tribuan'"),
        (("export", "--source", "nosuch"), "--source: unknown source 'nosuch'"),
        (("search", "--topic", "arms_trafficing"), "did you mean 'arms_trafficking'?"),
        (("search", "x", "--lang", "spanish"), "did you mean 'es'?"),
        (("export", "--lang", "Español"), "did you mean 'es'?"),
        (("search", "--entity", "Secretaria de Relaciones Exterioress"), "did you mean 'sre'?"),
    ],
)
def test_unknown_names_are_errors_with_a_suggestion(tmp_path, db, args, expected):
    cfg = tmp_path / "s.toml"
    cfg.write_text(SOURCE, encoding="utf-8")
    message = one_error_line(run(*args, "--db", str(db), "--config", str(cfg)))
    assert expected in message


def test_known_names_still_filter(tmp_path, db):
    cfg = tmp_path / "s.toml"
    cfg.write_text(SOURCE, encoding="utf-8")
    args = ("--db", str(db), "--config", str(cfg), "--source", "tribuna", "--lang", "es")
    assert run("search", "x", *args).exit_code == 0
    assert run("search", "--topic", "arms_trafficking", "--entity", "SRE", *args).exit_code == 0


@pytest.mark.parametrize("variable", ["NEWSWATCH_TOPICS", "NEWSWATCH_ENTITIES"])
def test_a_missing_analysis_file_fails_the_crawl_at_start(tmp_path, variable):
    cfg = tmp_path / "s.toml"
    cfg.write_text(SOURCE, encoding="utf-8")
    db = tmp_path / "db.sqlite"
    result = run("crawl", "--config", str(cfg), "--db", str(db), env={variable: "/nonexistent"})
    assert "/nonexistent" in one_error_line(result) and not db.exists()


# ---------------------------------------------------------------- 13: small promises


def test_counts_in_messages_are_english():
    assert plural(1, "source") == "1 source" and plural(2, "source") == "2 sources"
    assert plural(1, "copy", "copies") == "1 copy" and plural(0, "entry", "entries") == "0 entries"


def test_sources_check_says_1_source(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(SOURCE, encoding="utf-8")
    result = run("sources", "--check", "--config", str(cfg))
    assert result.exit_code == 0 and "valid, 1 source" in result.stdout
    assert "1 sources" not in result.stdout


def test_status_fits_80_columns_enabled_first_and_names_whole(tmp_path, db):
    names = [f"fuente-{i:02d}-deshabilitada-larga" for i in range(4)] + ["zz-the-enabled-one"]
    body = "".join(
        f'[[sources]]\nname = "{n}"\nurl = "https://{n}.example/feed"\n'
        f"enabled = {'true' if n.startswith('zz') else 'false'}\n\n"
        for n in names
    )
    cfg = tmp_path / "s.toml"
    cfg.write_text(body, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    env.pop("NEWSWATCH_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "status", "--config", str(cfg), "--db", str(db)],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = done.stdout.splitlines()[2:]
    assert max(len(line) for line in table) <= 80, done.stdout
    rows = [line.split()[0] for line in table if line.split() and line.split()[0] in names]
    assert rows == [names[-1], *names[:-1]], done.stdout  # enabled first, every name whole
    assert " off" in done.stdout


def test_the_daemon_start_log_names_its_config_and_database(tmp_path, caplog, monkeypatch):
    from scheduler.daemon import Daemon, DaemonOptions

    cfg = tmp_path / "s.toml"
    cfg.write_text(SOURCE, encoding="utf-8")
    db = tmp_path / "d.sqlite"
    daemon = Daemon(DaemonOptions(config_path=cfg, db_url=f"sqlite:///{db}"))
    monkeypatch.setattr(daemon, "_install_signals", lambda: None)
    monkeypatch.setattr(daemon, "_loop", lambda: None)
    caplog.set_level(logging.INFO, logger="newswatch.daemon")
    daemon.run()
    started = [r.getMessage() for r in caplog.records if "daemon started" in r.getMessage()]
    assert len(started) == 1
    assert "1 source scheduled" in started[0]
    assert f"config {cfg}" in started[0] and f"database sqlite:///{db}" in started[0]


def test_since_help_says_a_date_is_utc_midnight():
    result = run("search", "--help")
    assert "00:00 UTC" in " ".join(result.stdout.split())
