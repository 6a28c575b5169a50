"""A crawled corpus for the web page tests: the tribuna seed story and its credited copy, the
border feed, a source that always answers 500 (crawled until it counts as failing), and one
stored article whose title is a script tag."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from scheduler.daemon import FAILING_AFTER
from tests.support import FixtureServer, write_sources_toml

HOSTILE_TITLE = "<script>alert(1)</script>"
FAILING_PATH = "/caida/feed.xml"


def crawl_corpus(server: FixtureServer, base: Path) -> tuple[Path, Path]:
    """Crawl the fixture sites into ``base/news.sqlite``; returns (sources file, database)."""
    cfg = write_sources_toml(
        base / "sources.toml", server.base_url, ["tribuna", "sitemapsite", "borderreport"]
    )
    with cfg.open("a", encoding="utf-8") as fh:
        fh.write(
            '[[sources]]\nname = "caida"\ntitle = "Diario Caído (500)"\nkind = "feed"\n'
            f'url = "{server.base_url.rstrip("/")}{FAILING_PATH}"\nlanguage = "es"\n'
            'timezone = "America/Mexico_City"\ninterval = "10m"\n'
        )
    server.override(FAILING_PATH, status=500)
    db = base / "news.sqlite"
    runs = ["tribuna", "sitemapsite", "borderreport"] + ["caida"] * FAILING_AFTER
    env = {**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1", "NEWSWATCH_RETRY_BACKOFF": "0"}
    env.pop("NEWSWATCH_DB", None)
    for source in runs:
        subprocess.run(
            [sys.executable, "-m", "scheduler.cli", "crawl", source, "--config", str(cfg),
             "--db", str(db)],
            capture_output=True, text=True, timeout=180, env=env, check=False,
        )  # fmt: skip
    with sqlite3.connect(db) as conn:
        (ident,) = conn.execute(
            "SELECT min(id) FROM articles WHERE source = 'borderreport'"
        ).fetchone()
        conn.execute("UPDATE articles SET title = ? WHERE id = ?", (HOSTILE_TITLE, ident))
    return cfg, db
