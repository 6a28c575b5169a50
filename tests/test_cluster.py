"""The cluster as real processes: a scheduling daemon (and a standby), two workers, PostgreSQL.

The fixture server stands for two sites: ``127.0.0.1`` and ``localhost`` (its feeds rewritten to
link there), two sources each; it logs the host and time of every request, which is how
politeness across workers is checked.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from scheduler.cluster.schedule import DUE_SLACK
from storage.db import dispose_engines
from tests.support.server import FIXTURES_DIR

PG_URL = os.environ.get("NEWSWATCH_TEST_PG_URL")
INTERVAL = 5
EARLIEST = INTERVAL - DUE_SLACK.total_seconds() - 0.05
"""The closest two runs of a source may start: a source is run when its trigger fires up to
``DUE_SLACK`` before its next due time, and a job now starts within milliseconds of it."""
DELAY = 1.0
SOURCES = {
    "tribuna-a": ("BASE", "/tribuna/feed.xml", "es", "America/Hermosillo"),
    "border-a": ("BASE", "/borderreport/atom.xml", "en", "America/Denver"),
    "tribuna-b": ("LOCAL", "/tribuna/feed.xml?via=local", "es", "America/Hermosillo"),
    "border-b": ("LOCAL", "/borderreport/atom.xml?via=local", "en", "America/Denver"),
}


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL emptied first (every cluster test needs one: CI must provide it)."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI is set but NEWSWATCH_TEST_PG_URL is not: run .ci/postgres.sh")
        pytest.skip("the cluster needs PostgreSQL: source .ci/postgres.sh first")
    dispose_engines()
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield PG_URL
    dispose_engines()


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1"},
    )


class Proc:
    def __init__(self, log: Path, *args: str) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", *args],
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
            env={**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1"},
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def procs(tmp_path) -> Iterator[Callable[..., Proc]]:
    started: list[Proc] = []

    def start(name: str, *args: str) -> Proc:
        p = Proc(tmp_path / f"{name}.log", *args)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
    for p in started:
        try:
            p.proc.wait(20)
        except subprocess.TimeoutExpired:
            p.proc.kill()
            p.proc.wait(10)


def cluster_config(path: Path, site, names: list[str] | None = None) -> Path:
    base = site.base_url
    local = base.replace("127.0.0.1", "localhost")
    for feed in ("tribuna/feed.xml", "borderreport/atom.xml"):
        raw = (FIXTURES_DIR / feed).read_bytes().replace(b"{{BASE}}", local.encode())
        site.override(f"/{feed}?via=local", raw, headers={"Content-Type": "application/xml"})
    lines = ["[defaults]", f"delay = {DELAY}", "concurrency = 4", "", "[cluster]", "enabled = true"]
    for name in names or list(SOURCES):
        where, feed, language, zone = SOURCES[name]
        url = (base if where == "BASE" else local) + feed
        lines += [
            "",
            "[[sources]]",
            f'name = "{name}"',
            'kind = "feed"',
            f'url = "{url}"',
            f'language = "{language}"',
            f'timezone = "{zone}"',
            f'interval = "{INTERVAL}s"',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def worker(procs, name: str, cfg: Path, url: str) -> Proc:
    """One job at a time, so that two sites busy means both workers busy."""
    return procs(
        name, "worker", "--config", str(cfg), "--db", url, "--heartbeat", "1", "--concurrency", "1"
    )


def daemon(procs, name: str, cfg: Path, url: str) -> Proc:
    return procs(
        name, "daemon", "--config", str(cfg), "--db", url, "--grace", "5", "--stalled-after", "4"
    )


def wait_until(check: Callable[[], object], timeout: float, step: float = 0.3) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


def rows(url: str, sql: str, **params: object) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    except ProgrammingError:  # the processes have not created the tables yet
        return []
    finally:
        engine.dispose()


def ok_runs(url: str) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = defaultdict(list)
    for source, started, host, worker_pid in rows(
        url,
        "select source, started_at, host, worker from crawl_runs where outcome = 'ok' "
        "order by started_at",
    ):
        found[source].append((started, host, worker_pid))
    return found


def smallest_gap_per_host(site) -> dict[str, float]:
    times: dict[str, list[float]] = defaultdict(list)
    for r in site.requests:
        host = {k.lower(): v for k, v in r.headers.items()}.get("host", "").split(":")[0]
        times[host].append(r.time)
    return {
        h: min((b - a for a, b in itertools.pairwise(sorted(ts))), default=99.0)
        for h, ts in times.items()
    }


def assert_articles_once(url: str) -> None:
    dupes = rows(url, "select url, count(*) from articles group by url having count(*) > 1")
    assert not dupes, dupes
    assert rows(url, "select count(*) from articles")[0][0] > 0


def test_worker_against_sqlite_is_a_one_line_error(tmp_path):
    result = cli("worker", "--db", str(tmp_path / "news.sqlite"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newswatch: error: the cluster needs PostgreSQL (--db postgresql://…)"
    ]
    result = cli("daemon", "--cluster", "--db", str(tmp_path / "news.sqlite"))
    assert result.returncode == 2
    assert "the cluster needs PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_two_workers_keep_one_schedule_and_each_site_s_delay(site, tmp_path, pg_url, procs):
    cfg = cluster_config(tmp_path / "s.toml", site)
    w1 = worker(procs, "w1", cfg, pg_url)
    w2 = worker(procs, "w2", cfg, pg_url)
    d = daemon(procs, "d", cfg, pg_url)
    wait_until(lambda: all(len(v) >= 3 for v in ok_runs(pg_url).values())
               and len(ok_runs(pg_url)) == len(SOURCES), 60)  # fmt: skip
    status = cli("status", "--config", str(cfg), "--db", pg_url, "--format", "json")
    assert status.returncode == 0, status.stderr
    cluster = json.loads(status.stdout)["cluster"]
    assert cluster["scheduler"]["alive"]
    assert len(cluster["workers"]) == 2
    table = cli("status", "--config", str(cfg), "--db", pg_url)
    assert "workers: 2 alive" in table.stdout, table.stdout
    for p in (d, w1, w2):
        p.proc.send_signal(signal.SIGTERM)
    for p in (d, w1, w2):
        assert p.proc.wait(30) == 0, p.text()[-2000:]

    runs = ok_runs(pg_url)
    for source, got in runs.items():
        starts = [s for s, _, _ in got]
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
        # one run per interval: never two within one, less the slack a trigger may fire early
        assert min(gaps) >= EARLIEST, (source, gaps)
        assert all(host and pid for _, host, pid in got), got
    assert len({pid for got in runs.values() for _, _, pid in got}) == 2, "both workers ran jobs"
    gaps = smallest_gap_per_host(site)
    assert set(gaps) == {"127.0.0.1", "localhost"}
    # The jitter only lengthens a delay; across workers the site lock plus the delay held
    # after each job keeps it.
    assert min(gaps.values()) >= DELAY - 0.05, gaps
    assert_articles_once(pg_url)


@pytest.mark.slow
def test_worker_killed_mid_run_is_retried_elsewhere(site, tmp_path, pg_url, procs):
    cfg = cluster_config(tmp_path / "s.toml", site, ["border-a"])
    # the run hangs on its feed long enough to be killed with its run recorded as running
    site.override("/borderreport/atom.xml", None, delay=8)
    w1 = worker(procs, "w1", cfg, pg_url)
    d = daemon(procs, "d", cfg, pg_url)
    wait_until(lambda: rows(pg_url, "select id from crawl_runs where outcome = 'running'"), 30)
    w2 = worker(procs, "w2", cfg, pg_url)
    w1.proc.kill()
    w1.proc.wait(10)
    site.reset_overrides()
    aborted = wait_until(
        lambda: rows(pg_url, "select error from crawl_runs where outcome = 'aborted'"), 40
    )
    # The crawl child dies with its worker (die_with_parent) and may record its own run as
    # interrupted before the scheduler finds the stalled job: aborted either way.
    assert any(why in aborted[0][0] for why in ("its worker stopped", "interrupted (SIGTERM)")), (
        aborted
    )
    wait_until(lambda: ok_runs(pg_url).get("border-a"), 40)
    assert "run started" in w2.text()
    assert rows(pg_url, "select count(*) from cluster_retries")[0][0] == 1
    assert "retried" in d.text()
    assert_articles_once(pg_url)


@pytest.mark.slow
def test_standby_daemon_takes_over_after_kill_9_without_duplicate_runs(
    site, tmp_path, pg_url, procs
):
    cfg = cluster_config(tmp_path / "s.toml", site, ["border-a", "border-b"])
    worker(procs, "w1", cfg, pg_url)
    worker(procs, "w2", cfg, pg_url)
    leader = daemon(procs, "d1", cfg, pg_url)
    wait_until(lambda: "this daemon schedules the cluster" in leader.text(), 30)
    standby = daemon(procs, "d2", cfg, pg_url)
    wait_until(lambda: "standing by" in standby.text(), 30)
    names = {"border-a", "border-b"}
    wait_until(lambda: ok_runs(pg_url).keys() == names
               and all(len(v) >= 2 for v in ok_runs(pg_url).values()), 40)  # fmt: skip
    leader.proc.kill()
    killed = time.monotonic()
    wait_until(lambda: "this daemon schedules the cluster" in standby.text(), 30)
    assert time.monotonic() - killed < 30
    before = {s: len(v) for s, v in ok_runs(pg_url).items()}
    wait_until(
        lambda: all(len(ok_runs(pg_url)[s]) >= before[s] + 2 for s in before), 4 * INTERVAL + 20
    )
    for source, got in ok_runs(pg_url).items():
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(s for s, _, _ in got)]
        assert min(gaps) >= EARLIEST, (source, gaps)
    assert_articles_once(pg_url)


def test_cluster_table_in_the_sources_file_is_validated():
    from crawler.config import ConfigError, parse_config

    assert parse_config("[cluster]\nenabled = true\n").cluster is True
    assert parse_config("").cluster is False
    with pytest.raises(ConfigError, match=r"\[cluster\].*must be true or false"):
        parse_config('[cluster]\nenabled = "yes"\n')
    with pytest.raises(ConfigError, match=r"unknown key \(valid: enabled\)"):
        parse_config("[cluster]\nenable = true\n")
    with pytest.raises(ConfigError, match="must be a table"):
        parse_config("cluster = 1\n")
