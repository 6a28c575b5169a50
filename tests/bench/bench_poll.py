"""One polling cycle of 500 unchanged feeds: every feed answers 304, nothing else is fetched.

The feeds live on the generated site's local server. Two priming crawls come first and are not
measured: one feed alone stores the 50 articles all feeds list (so later crawls fetch no pages),
then all feeds once so every source has its ETag and Last-Modified stored. The measured crawl is
the third, a full ``newswatch crawl`` of all sources as the daemon's child would run it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.bench.bench_ingest import _check, _crawl_totals, bench_env, record, run_child
from tests.bench.sitegen import build_site, serve_site

FEED_ITEMS = 50


def sources_toml(base: str, paths: list[str]) -> str:
    lines = ["[defaults]", "delay = 0", "concurrency = 16", ""]
    for n, path in enumerate(paths):
        lines += [
            "[[sources]]",
            f'name = "poll-{n:04d}"',
            f'title = "Fuente de sondeo {n}"',
            'kind = "feed"',
            f'url = "{base}{path}"',
            'language = "es"',
            'timezone = "America/Mexico_City"',
            'interval = "10m"',
            "",
        ]
    return "\n".join(lines)


def _crawl(cfg: Path, db: Path, names: list[str] | None = None) -> list[str]:
    return [
        "-m", "scheduler.cli", "crawl", *(names or []), "--config", str(cfg), "--db", str(db),
        "--format", "json", "--log-level", "WARNING",
    ]  # fmt: skip


def _not_modified(stdout: str) -> int:
    import json

    try:
        return sum(1 for r in json.loads(stdout) if r.get("not_modified"))
    except json.JSONDecodeError:
        return 0


def run(quick: bool = False) -> Iterator[dict]:
    feeds = 20 if quick else int(os.environ.get("NEWSWATCH_BENCH_FEEDS", 500))
    site = build_site(FEED_ITEMS * 2, feeds=0, poll_feeds=feeds)
    env = bench_env()
    with serve_site(site) as server, tempfile.TemporaryDirectory(prefix="nw-poll-") as tmp_s:
        tmp = Path(tmp_s)
        cfg = tmp / "sources.toml"
        cfg.write_text(sources_toml(server.base_url, site.poll_feed_paths), encoding="utf-8")
        db = tmp / "poll.sqlite"
        first = run_child(_crawl(cfg, db, ["poll-0000"]), env=env)
        _check(first, "priming crawl (one feed)")
        second = run_child(_crawl(cfg, db), env=env)
        _check(second, "priming crawl (all feeds)")
        third = run_child(_crawl(cfg, db), env=env, server=server)
        _check(third, "poll crawl")
        totals = _crawl_totals(third.stdout)
        detail = {
            "server": server.kind,
            "sources": feeds,
            "not_modified": _not_modified(third.stdout),
            "pages_fetched": totals.get("pages", 0),
            "failed_sources": totals.get("failed_sources", 0),
            "exit_code": third.returncode,
            "priming_s": [round(first.wall_s, 2), round(second.wall_s, 2)],
            "priming_pages": _crawl_totals(first.stdout).get("pages", 0)
            + _crawl_totals(second.stdout).get("pages", 0),
            "server_cpu_s": third.server_cpu_s,
            "peak_rss_mb": round(third.peak_rss_mb, 1),
            "loadavg_1m": third.loadavg_1m,
            "quick": quick,
        }
        yield record("poll_cycle_s", third.wall_s, "s", target="<= 10 for 500 feeds", **detail)
        yield record(
            "poll_cycle_cpu_s", third.cpu_s, "s", sources=feeds,
            cpu_ms_per_source=round(third.cpu_s / feeds * 1000, 2),
            includes="interpreter start-up and every child process",
        )  # fmt: skip
