"""Daemon soak and poll cost.

Runs the real daemon against the fixture sites on 127.0.0.1 with one-second intervals for a while
(hundreds of child runs), sampling the daemon's resident memory, then measures what one poll of an
unchanged feed costs (a conditional GET answered 304) as wall and CPU time of a `newswatch crawl`.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support import FixtureServer, write_sources_toml


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _record(name: str, value: float, unit: str, **detail: object) -> dict:
    return {"name": name, "value": round(value, 3), "unit": unit, "detail": detail}


def run(quick: bool = False) -> Iterator[dict]:
    duration = 20.0 if quick else float(os.environ.get("NEWSWATCH_SOAK_SECONDS", 600))
    env = {**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1"}
    with FixtureServer() as server, tempfile.TemporaryDirectory() as tmp:
        cfg = write_sources_toml(Path(tmp) / "s.toml", server.base_url)
        text = cfg.read_text(encoding="utf-8")
        cfg.write_text(text.replace('"10m"', '"1s"').replace('"15m"', '"1s"'), encoding="utf-8")
        db = Path(tmp) / "soak.sqlite"
        proc = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "daemon", "--config", str(cfg), "--db", str(db),
             "--log-level", "WARNING"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(3)
        start_rss = rss_mb(proc.pid)
        samples = [start_rss]
        started = time.monotonic()
        while time.monotonic() - started < duration and proc.poll() is None:
            time.sleep(2)
            samples.append(rss_mb(proc.pid))
        end_rss = rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        with sqlite3.connect(db) as conn:
            runs = dict(conn.execute("select outcome, count(*) from crawl_runs group by outcome"))
            articles = conn.execute("select count(*) from articles").fetchone()[0]
        yield _record("daemon_soak_runs", sum(runs.values()), "runs", outcomes=runs,
                      seconds=round(time.monotonic() - started, 1), articles=articles, exit_code=code)  # fmt: skip
        yield _record("daemon_rss_start_mb", start_rss, "MB")
        yield _record(
            "daemon_rss_end_mb", end_rss, "MB", max=round(max(samples), 1), samples=len(samples)
        )

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        polls = 3 if quick else 10
        for _ in range(polls):
            subprocess.run(
                [sys.executable, "-m", "scheduler.cli", "crawl", "tribuna", "--config", str(cfg),
                 "--db", str(db), "--format", "json"],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
        wall = (time.monotonic() - t0) / polls
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / polls
        feed_hits = [r.status for r in server.requests if r.path == "/tribuna/feed.xml"][-polls:]
        yield _record("unchanged_feed_poll_wall_s", wall, "s", statuses=sorted(set(feed_hits)))
        yield _record(
            "unchanged_feed_poll_cpu_s", cpu, "s", note="whole child process incl. start-up"
        )
