"""The real daemon as a subprocess, on a fixture site on 127.0.0.1, with intervals of seconds."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import write_sources_toml

pytestmark = pytest.mark.slow

NEW_ITEM = """<item>
<title>Decomisan armas en la garita de San Luis Río Colorado</title>
<link>{{BASE}}/tribuna/2025/12/12/decomisan-armas-garita/</link>
<guid>{{BASE}}/tribuna/2025/12/12/decomisan-armas-garita/</guid>
<pubDate>Fri, 12 Dec 2025 08:00:00 -0700</pubDate>
</item>
"""

NEW_PAGE = """<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<title>Decomisan armas en la garita de San Luis Río Colorado</title>
<meta property="article:published_time" content="2025-12-12T08:00:00-07:00"></head>
<body><article><h1>Decomisan armas en la garita de San Luis Río Colorado</h1>
<p>San Luis Río Colorado, Sonora.- Agentes aduanales aseguraron doce rifles de asalto ocultos en
una camioneta que intentaba cruzar hacia el sur por la garita internacional.</p>
<p>Las autoridades informaron que las armas fueron compradas en Arizona y que el caso se suma a las
investigaciones binacionales sobre tráfico de armas hacia México.</p>
<p>El conductor quedó a disposición de la Fiscalía General de la República.</p>
</article></body></html>
"""


def wait_until(check: Callable[[], object], timeout: float, step: float = 0.25) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def count(db: Path, sql: str = "select count(*) from articles", *args: object) -> int:
    rows = query(db, sql, *args)
    return rows[0][0] if rows else 0


class DaemonProcess:
    def __init__(self, cfg: Path, db: Path, log: Path, *extra: str) -> None:
        env = {**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1"}
        env.pop("NEWSWATCH_DB", None)
        self.log = log
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "scheduler.cli", "daemon", "--config", str(cfg),
                "--db", str(db), "--grace", "5", "--log-level", "INFO", *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=log.open("ab"),
            env=env,
            text=True,
        )  # fmt: skip

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def logtext(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture()
def daemons(tmp_path) -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(cfg: Path, db: Path, *extra: str) -> DaemonProcess:
        d = DaemonProcess(cfg, db, tmp_path / f"daemon{len(started)}.log", *extra)
        started.append(d)
        return d

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(10)


def fast_config(
    path: Path, base: str, interval: str = "3s", names: list[str] | None = None
) -> Path:
    cfg = write_sources_toml(path, base, names)
    text = cfg.read_text(encoding="utf-8")
    for old in ('interval = "10m"', 'interval = "15m"'):
        text = text.replace(old, f'interval = "{interval}"')
    cfg.write_text(text, encoding="utf-8")
    return cfg


def runs(db: Path, source: str) -> list[tuple]:
    return query(
        db, "select id, outcome, error from crawl_runs where source = ? order by id", source
    )


def test_new_item_stored_within_an_interval_and_unchanged_feed_costs_a_304(site, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "3s", ["tribuna"])
    d = daemons(cfg, db)
    wait_until(lambda: count(db) >= 6, 40)
    wait_until(lambda: len([r for r in runs(db, "tribuna") if r[1] == "ok"]) >= 1, 20)

    # Unchanged feed: the next polls are conditional, answered 304, and fetch no article.
    site.clear_log()
    wait_until(lambda: len([r for r in site.requests if r.path == "/tribuna/feed.xml"]) >= 2, 30)
    feed_polls = [r for r in site.requests if r.path == "/tribuna/feed.xml"]
    assert all(r.status == 304 for r in feed_polls), [r.status for r in feed_polls]
    assert all("If-None-Match" in r.headers or "if-none-match" in r.headers for r in feed_polls)
    assert not [r for r in site.requests if "/2025/" in r.path]

    # A new item appears: stored within one interval (plus the child's start-up).
    feed = site.fetch("/tribuna/feed.xml").decode("utf-8")
    site.override("/tribuna/2025/12/12/decomisan-armas-garita/", NEW_PAGE)
    site.override(
        "/tribuna/feed.xml",
        feed.replace("<item>", NEW_ITEM + "<item>", 1),
        headers={"Content-Type": "application/rss+xml; charset=utf-8"},
    )
    added = time.monotonic()
    wait_until(
        lambda: query(db, "select id from articles where url like '%decomisan-armas-garita%'"), 30
    )
    assert time.monotonic() - added < 3 + 10
    assert d.stop() == 0
    assert count(db) == 7


def test_failing_source_backs_off_while_the_other_keeps_its_schedule(site, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "2s")
    site.override("/borderreport/atom.xml", "<h1>Internal error</h1>", status=500)
    d = daemons(cfg, db)
    wait_until(lambda: len([r for r in runs(db, "tribuna") if r[1] == "ok"]) >= 5, 60)
    assert d.stop() == 0
    good = [r for r in runs(db, "tribuna") if r[1] == "ok"]
    bad = runs(db, "borderreport")
    # The run in flight when SIGTERM arrived may end as "shutdown"; every other one saw the 500.
    assert all(r[1] == "failed" and "500" in (r[2] or "") for r in bad[:-1])
    assert len(bad) >= 2
    # 2 s interval with backoff 2, 4, 8 s: the failing source runs far less often.
    assert len(good) >= 5
    assert len(bad) < len(good)
    ((failures, backoff, attempt),) = query(
        db,
        "select consecutive_failures, backoff_until, last_attempt from sources where name = ?",
        "borderreport",
    )
    assert failures in (len(bad) - 1, len(bad))
    assert backoff > attempt


def test_sigterm_exits_zero_quickly_and_status_sees_the_daemon(site, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "3s")
    d = daemons(cfg, db)
    wait_until(lambda: runs(db, "tribuna"), 30)
    status = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "status", "--config", str(cfg), "--db", str(db),
         "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["daemon"]["alive"] is True and report["daemon"]["pid"] == d.proc.pid
    started = time.monotonic()
    assert d.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 15
    assert not query(db, "select id from crawl_runs where outcome = 'running'")
    assert query(db, "pragma integrity_check") == [("ok",)]


def test_second_daemon_on_the_same_database_refuses(site, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "3s")
    first = daemons(cfg, db)
    wait_until(lambda: query(db, "select pid from daemon_lock"), 30)
    second = daemons(cfg, db)
    assert second.proc.wait(30) == 3
    assert "another newswatch daemon" in second.logtext()
    assert first.proc.poll() is None
    assert first.stop() == 0


def test_kill_9_then_restart_loses_and_duplicates_nothing(site, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "2s")
    # Slow article pages keep a run in flight when the daemon is killed.
    slow = "/tribuna/2025/12/08/capturan-en-cajeme-a-presunto-jefe-de-celula-delictiva/"
    site.override(slow, delay=4)
    first = daemons(cfg, db)
    wait_until(lambda: query(db, "select id from crawl_runs where outcome = 'running'"), 30)
    first.stop(signal.SIGKILL)
    time.sleep(1)
    site.reset_overrides()
    second = daemons(cfg, db)
    wait_until(lambda: count(db) >= 9, 60)
    wait_until(lambda: len([r for r in runs(db, "tribuna") if r[1] == "ok"]) >= 2, 30)
    assert second.stop() == 0
    outcomes = {r[1] for r in query(db, "select id, outcome from crawl_runs")}
    assert "running" not in outcomes
    assert "aborted" in outcomes or "failed" in outcomes
    ((n, distinct),) = query(db, "select count(*), count(distinct canonical_url) from articles")
    assert n == distinct == 9
    assert query(db, "pragma integrity_check") == [("ok",)]


def test_hanging_run_is_stopped_at_its_limit(site, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "30s")
    site.override("/borderreport/atom.xml", delay=60)
    d = daemons(cfg, db, "--run-timeout", "3")
    started = time.monotonic()
    wait_until(lambda: [r for r in runs(db, "borderreport") if r[1] in ("failed", "timeout")], 40)
    assert time.monotonic() - started < 25
    ((_outcome, error),) = query(
        db, "select outcome, error from crawl_runs where source = 'borderreport'"
    )
    assert "time" in (error or "").lower() or "closespider" in (error or "")
    # tribuna is on the same site, so it runs once the hanging run is stopped, not beside it.
    wait_until(lambda: [r for r in runs(db, "tribuna") if r[1] == "ok"], 30)
    assert d.stop() == 0


def test_sighup_reloads_added_and_removed_sources(site, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "2s", ["tribuna"])
    d = daemons(cfg, db)
    wait_until(lambda: runs(db, "tribuna"), 30)
    fast_config(cfg, site.base_url, "2s", ["borderreport"])
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: [r for r in runs(db, "borderreport") if r[1] == "ok"], 30)
    time.sleep(1)
    before = len(runs(db, "tribuna"))
    time.sleep(5)
    assert len(runs(db, "tribuna")) == before, "removed source still scheduled"
    assert d.stop() == 0
    assert "configuration reloaded" in d.logtext()
