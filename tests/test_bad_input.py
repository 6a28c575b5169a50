"""Issue 7 §3: bad local input — sources file, private targets, search queries, --db paths."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.support.hostile import HostileServer, cli, integrity, last_runs, write_sources

BAD_SOURCES = {
    "wrong_type": ('[[sources]]\nname = "a"\nkind = "feed"\nurl = 42\n', "url"),
    "unknown_kind": ('[[sources]]\nname = "a"\nkind = "podcast"\nurl = "https://e.com/"\n', "kind"),
    "file_scheme": ('[[sources]]\nname = "a"\nkind = "feed"\nurl = "file:///etc/passwd"\n', "http"),
    "ftp_scheme": ('[[sources]]\nname = "a"\nkind = "feed"\nurl = "ftp://e.com/f.xml"\n', "http"),
    "loopback": (
        '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://127.0.0.1/f"\n',
        "loopback",
    ),
    "localhost": (
        '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://localhost/f"\n',
        "loopback",
    ),
    "ipv6_loopback": (
        '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://[::1]/f"\n',
        "loopback",
    ),
    "metadata": (
        '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://169.254.169.254/latest/"\n',
        "link-local",
    ),
    "private_10": (
        '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://10.1.2.3/f"\n',
        "private",
    ),
    "private_192": (
        '[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://192.168.1.1/"\n',
        "private",
    ),
    "not_toml": ("[[sources]\nname = ", "TOML"),
}


@pytest.mark.parametrize("case", list(BAD_SOURCES))
def test_bad_sources_file_is_a_one_line_config_error(tmp_path, case):
    text, fragment = BAD_SOURCES[case]
    cfg = tmp_path / "sources.toml"
    cfg.write_text(text, encoding="utf-8")
    result = cli(
        "crawl",
        "--config",
        str(cfg),
        "--db",
        str(tmp_path / "db.sqlite"),
        unset=("NEWSWATCH_ALLOW_PRIVATE",),
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "config error" in lines[0] and fragment in lines[0], lines


def test_redirects_to_private_targets_are_refused_at_fetch_time(fixture_server, tmp_path):
    """Only 127.0.0.1 is allowed (so the fixture servers answer); redirects from there to a
    private or link-local address must be refused by the middleware before any connection."""
    with HostileServer(max_wait=10) as hostile:
        sources = {
            "good": ("feed", fixture_server.base_url + "/tribuna/feed.xml"),
            "to_metadata": ("feed", hostile.url("/redirect?to=http://169.254.169.254/latest/")),
            "to_private": ("feed", hostile.url("/redirect?to=http://10.255.255.1/feed.xml")),
            "to_ipv6": ("feed", hostile.url("/redirect?to=http://[::1]:9/feed.xml")),
        }
        cfg = write_sources(tmp_path / "sources.toml", sources)
        db = tmp_path / "db.sqlite"
        result = cli(
            "crawl",
            "--config",
            str(cfg),
            "--db",
            str(db),
            env={"NEWSWATCH_ALLOW_PRIVATE": "127.0.0.1", "NEWSWATCH_RETRY_TIMES": "0"},
        )
    assert result.returncode == 1, result.stderr[-2000:]
    runs = last_runs(db)
    assert runs["good"]["outcome"] == "ok"
    for name, kind in (
        ("to_metadata", "link-local"),
        ("to_private", "private"),
        ("to_ipv6", "loopback"),
    ):
        assert runs[name]["outcome"] == "failed"
        assert "refused" in runs[name]["error"] and kind in runs[name]["error"], runs[name]
    assert integrity(db) == "ok"


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("q") / "db.sqlite"
    result = cli("db", "init", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return db


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "NEAR(a b",
        "title:x AND OR",
        "a*b^c",
        "\x01\x02\x1b[31m",
        "x" * 10_000,
        "México " * 1500,
        "-",
        "()",
    ],
    ids=["quote", "near", "column", "operators", "control", "10kB", "10kB-words", "dash", "parens"],
)
def test_hostile_search_query_is_safe(small_db, query):
    result = cli("search", query, "--db", str(small_db), "--format", "json")
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert json.loads(result.stdout) == []
    else:
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [("status",), ("db", "init")])
def test_db_path_that_cannot_be_created_is_exit_2(tmp_path, command):
    result = cli(*command, "--db", "/etc/hostname/x.db")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "database error" in lines[0]


def test_db_file_that_is_not_a_database_is_exit_2(tmp_path):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_bytes(b"this is not a database\n" * 200)
    result = cli("search", "x", "--db", str(bogus))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a SQLite database" in lines[0]
    assert bogus.read_bytes() == b"this is not a database\n" * 200
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(bogus).execute("select 1 from sqlite_master").fetchall()
