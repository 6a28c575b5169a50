"""Issue 17 §8–9: a crawl ends at its time limit whatever it waits on, and an interrupted crawl
is recorded as aborted (not as a success), with real processes and real signals."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.hostile import FAST_ENV, HostileServer, write_sources

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _crawl(cfg: Path, db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    full = {**os.environ, **FAST_ENV, **(env or {})}
    full.pop("NEWSWATCH_DB", None)
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "crawl", "--config", str(cfg), "--db", str(db),
         *args],
        cwd=ROOT, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")


def _row(db: Path, sql: str, *args: object) -> tuple:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchone()


def _feed(hostile: HostileServer, name: str, links: list[str]) -> str:
    items = "".join(
        f"<item><title>n {i}</title><link>{{{{BASE}}}}{link}</link><guid>{name}{i}</guid></item>"
        for i, link in enumerate(links)
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    return hostile.put(f"/{name}.xml", body, "application/rss+xml")


def test_run_timeout_cuts_a_download_in_flight(tmp_path):
    with HostileServer(max_wait=90) as hostile:
        cfg = write_sources(tmp_path / "s.toml", {"hangs": ("feed", hostile.url("/hang"))})
        db = tmp_path / "db.sqlite"
        started = time.monotonic()
        proc = _crawl(
            cfg,
            db,
            "--run-timeout",
            "3",
            "--format",
            "json",
            env={"NEWSWATCH_DOWNLOAD_TIMEOUT": "60"},
        )
        out, err = proc.communicate(timeout=120)
        elapsed = time.monotonic() - started
    assert proc.returncode == 1, err[-2000:]
    assert elapsed < 15, f"took {elapsed:.1f}s for a 3 s limit"
    assert "stopped at its time limit (3 s)" in out
    assert "closespider" not in out + err
    outcome, error = _row(db, "select outcome, error from crawl_runs where source = 'hangs'")
    assert outcome == "timeout" and error == "stopped at its time limit (3 s)"


def test_run_timeout_holds_against_a_long_per_host_delay(tmp_path):
    with HostileServer(max_wait=30) as hostile:
        url = _feed(hostile, "slow", [f"/article/slow-{i}" for i in range(3)])
        cfg = tmp_path / "s.toml"
        cfg.write_text(
            "[defaults]\ndelay = 3600\n\n[[sources]]\n"
            f'name = "slow"\nkind = "feed"\nurl = "{url}"\nlanguage = "es"\n',
            encoding="utf-8",
        )
        db = tmp_path / "db.sqlite"
        started = time.monotonic()
        proc = _crawl(cfg, db, "--run-timeout", "4", "--format", "json")
        _out, err = proc.communicate(timeout=120)
        elapsed = time.monotonic() - started
    assert proc.returncode == 1, err[-2000:]
    assert elapsed < 16, f"took {elapsed:.1f}s for a 4 s limit"
    (outcome,) = _row(db, "select outcome from crawl_runs where source = 'slow'")
    assert outcome == "timeout"


def test_ctrl_c_twice_aborts_the_run_and_records_no_success(tmp_path):
    with HostileServer(max_wait=90) as hostile:
        cfg = write_sources(tmp_path / "s.toml", {"silent": ("feed", hostile.url("/hang"))})
        db = tmp_path / "db.sqlite"
        proc = _crawl(cfg, db, env={"NEWSWATCH_DOWNLOAD_TIMEOUT": "60"})
        _wait_for(lambda: hostile.hits("/hang") >= 1, 60)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        time.sleep(1.5)
        assert proc.poll() is None, "one Ctrl-C waits for the request in flight"
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _out, err = proc.communicate(timeout=60)
        stopped_in = time.monotonic() - started
    assert "waiting for 1 request in flight; Ctrl-C again to stop now" in err
    assert proc.returncode == 130, err[-2000:]
    assert stopped_in < 8
    assert "Traceback" not in err
    outcome, error = _row(db, "select outcome, error from crawl_runs where source = 'silent'")
    assert outcome == "aborted" and "SIGINT" in error
    last_success, next_due, failures = _row(
        db, "select last_success, next_due, consecutive_failures from sources where name = ?",
        "silent",
    )  # fmt: skip
    assert last_success is None and next_due is None and failures == 0


def test_a_single_ctrl_c_says_what_it_waits_for_and_ends_when_the_request_does(tmp_path):
    with HostileServer(max_wait=4) as hostile:
        cfg = write_sources(tmp_path / "s.toml", {"slow": ("feed", hostile.url("/hang"))})
        db = tmp_path / "db.sqlite"
        proc = _crawl(
            cfg, db, env={"NEWSWATCH_DOWNLOAD_TIMEOUT": "60", "NEWSWATCH_RETRY_TIMES": "0"}
        )
        _wait_for(lambda: hostile.hits("/hang") >= 1, 60)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert "stopping: waiting for 1 request in flight" in err
    assert proc.returncode == 130
    (outcome,) = _row(db, "select outcome from crawl_runs where source = 'slow'")
    assert outcome == "aborted"
