"""The run's accounting is a crawler extension fed by Scrapy's signals, and a dropped page is a
``DropItem`` whose reason reaches both Scrapy's stats and the run's notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.exceptions import DropItem

from crawler.config import load_config
from crawler.pipeline.pipelines import (
    ExtractionFailed,
    NavigationPageDropped,
    NotAnArticleDropped,
)
from crawler.pipeline.runs import CrawlContext, RunRecorder
from storage.store import Store

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
ARTICLE = (
    "<html><head><title>{t}</title></head><body><article><h1>{t}</h1>"
    + "<p>Párrafo sobre la cooperación en seguridad entre México y Estados Unidos. </p>" * 8
    + "</article></body></html>"
)


def _feed(base: str, links: list[str]) -> str:
    items = "".join(
        f"<item><title>n{i}</title><link>{base}{link}</link><guid>{link}</guid></item>"
        for i, link in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'
    )


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        "[defaults]\ndelay = 0\n\n[[sources]]\n"
        f'name = "uno"\nkind = "feed"\nurl = "{url}"\nlanguage = "es"\n'
        'timezone = "America/Mexico_City"\ninterval = "10m"\n',
        encoding="utf-8",
    )
    return cfg


def _crawl(cfg: Path, db: Path) -> list[dict]:
    env = {**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1", "NEWSWATCH_EXTRACT_WORKERS": "0"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scheduler.cli",
            "crawl",
            "--config",
            str(cfg),
            "--db",
            str(db),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_drop_reasons_are_exceptions_scrapy_counts_by_class() -> None:
    assert issubclass(NotAnArticleDropped, DropItem)
    assert issubclass(ExtractionFailed, DropItem)


@pytest.mark.slow
def test_a_page_that_is_not_an_article_is_dropped_with_its_reason(site, tmp_path: Path) -> None:
    site.override("/rr/ok.html", ARTICLE.format(t="Nota buena"))
    site.override("/rr/doc.pdf", b"%PDF-1.7 binary", headers={"Content-Type": "application/pdf"})
    site.override("/rr/feed.xml", _feed(site.base_url, ["/rr/ok.html", "/rr/doc.pdf"]), headers=RSS)
    [run] = _crawl(_config(tmp_path, f"{site.base_url}/rr/feed.xml"), tmp_path / "r.sqlite")
    assert run["new"] == 1 and run["errors"] == 1
    assert any(w.startswith("not an article:") and "doc.pdf" in w for w in run["warnings"])


class _Store:
    def __init__(self, runs: list[dict]) -> None:
        self.runs = runs

    def recent_runs(self, limit: int = 20, source: str | None = None) -> list[dict]:
        return self.runs[:limit]


def _recorder(runs: list[dict]) -> RunRecorder:
    source = SimpleNamespace(name="uno")
    return RunRecorder(CrawlContext(source, _Store(runs)))  # type: ignore[arg-type]


def _ok(entries: int) -> dict:
    return {"outcome": "ok", "counts": {"entries": entries}}


def test_a_run_that_finds_nothing_where_the_source_used_to_publish_is_noted() -> None:
    recorder = _recorder([_ok(12), _ok(15), _ok(20)])
    recorder.spider_closed(spider=None)
    assert recorder.warnings == ["found nothing; this source usually lists 12 entries"]
    assert recorder.error is None  # a note, not a failure


@pytest.mark.parametrize(
    "runs",
    [
        [],  # a new source
        [_ok(10)],  # one run is no habit
        [_ok(0), _ok(0), _ok(0)],  # a source that is often empty
        [{"outcome": "failed", "counts": {"entries": 9}}] * 3,
    ],
)
def test_no_note_without_a_habit_of_publishing(runs: list[dict]) -> None:
    recorder = _recorder(runs)
    recorder.spider_closed(spider=None)
    assert recorder.warnings == []


def test_no_note_when_the_run_saw_entries_or_the_feed_was_unchanged() -> None:
    recorder = _recorder([_ok(12), _ok(15)])
    recorder.counts.entries = 3
    recorder.spider_closed(spider=None)
    unchanged = _recorder([_ok(12), _ok(15)])
    unchanged.not_modified = True
    unchanged.spider_closed(spider=None)
    assert recorder.warnings == [] and unchanged.warnings == []


def test_dropped_item_counts_an_error_and_keeps_the_reason() -> None:
    recorder = _recorder([])
    recorder.item_dropped(item=None, exception=NotAnArticleDropped("not an article: x: no text"))
    assert recorder.counts.errors == 1
    assert recorder.warnings == ["not an article: x: no text"]


@pytest.mark.slow
def test_an_empty_feed_after_full_ones_says_so_in_the_run(site, tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite"
    store = Store(f"sqlite:///{db}")
    cfg = _config(tmp_path, f"{site.base_url}/rr2/feed.xml")
    store.sync_sources([s.info() for s in load_config(cfg).sources])
    now = datetime.now(UTC)
    for entries in (7, 9):
        run_id = store.start_run("uno", os.getpid())
        store.finish_run(run_id, "ok", {"entries": entries}, None)
    store.close()
    site.override("/rr2/feed.xml", _feed(site.base_url, []), headers=RSS)
    [run] = _crawl(cfg, db)
    assert run["ok"] and run["entries"] == 0
    assert "found nothing; this source usually lists 7 entries" in run["warnings"]
    assert now - timedelta(minutes=5) < datetime.fromisoformat(run["started_at"])


def test_a_navigation_page_is_skipped_not_an_error() -> None:
    recorder = _recorder([])
    drop = NavigationPageDropped("not an article: https://x.mx/prensa/: no headline/date/body")
    assert isinstance(drop, DropItem)
    recorder.item_dropped(item=None, exception=drop)
    assert (recorder.counts.skipped, recorder.counts.errors) == (1, 0)


def test_a_spider_exception_is_one_error_not_two() -> None:
    """Scrapy counts each callback exception under ``spider_exceptions/count`` and again under
    ``spider_exceptions/<Class>``; summing every such key counted it twice."""
    recorder = _recorder([])
    stats = {"spider_exceptions/count": 1, "spider_exceptions/KeyError": 1}
    result = recorder.result(stats, datetime.now(UTC))
    assert result.counts.errors == 1
