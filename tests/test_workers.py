"""The extraction pool: workers do the extraction and do not re-import the parent's program."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MAIN = textwrap.dedent(
    """
    import os, sys
    if __name__ != "__main__":
        # Only a spawned worker imports this file under another name (__mp_main__).
        with open(os.environ["MARK"], "a") as fh:
            fh.write(__name__ + "\\n")
    else:
        sys.path.insert(0, sys.argv[1])
        import asyncio
        from crawler.config import parse_config
        from crawler.items import RawPage
        from crawler.pipeline.workers import ExtractionPool

        source = parse_config(
            '[[sources]]\\nname = "t"\\nkind = "feed"\\nurl = "https://t.example/feed.xml"\\n'
            'language = "es"\\ntimezone = "America/Hermosillo"\\n'
        ).sources[0]
        text = "La Guardia Nacional reforzó la vigilancia en la garita de Nogales. " * 12
        html = f"<html><head><title>Garita</title></head><body><article><p>{text}</p>"
        page = RawPage(
            source="t", url="https://t.example/a", final_url="https://t.example/a", status=200,
            body=(html + "</article></body></html>").encode(),
            headers={"content-type": "text/html"},
        )
        pool = ExtractionPool(1)
        pool.inline_left = 0
        record = asyncio.run(pool.process(page, source))
        pool.shutdown()
        print(record.title, record.raw_html_z is not None)
    """
)


def test_worker_extracts_without_importing_the_parents_main_module(tmp_path: Path) -> None:
    script = tmp_path / "heavy_main.py"
    script.write_text(MAIN, encoding="utf-8")
    mark = tmp_path / "imports.txt"
    result = subprocess.run(
        [sys.executable, str(script), str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MARK": str(mark)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Garita", "True"]
    assert not mark.exists(), mark.read_text()


def test_pool_starts_early_for_a_big_run_and_never_for_a_small_one() -> None:
    from crawler.pipeline.workers import ExtractionPool

    pool = ExtractionPool(1)
    pool.inline_left = 12
    pool.expect(5)
    pool.expect(7)
    assert pool._executor is None and pool.inline_left == 12
    pool.expect(1)
    try:
        assert pool._executor is not None and pool.inline_left == 0
    finally:
        pool.shutdown()


def test_started_pool_takes_every_page_and_a_second_start_is_a_no_op() -> None:
    from crawler.pipeline.workers import ExtractionPool

    pool = ExtractionPool(1)
    pool.start()
    try:
        executor = pool._executor
        assert executor is not None and pool.inline_left == 0
        pool.start()
        pool.expect(100)
        assert pool._executor is executor
    finally:
        pool.shutdown()
    idle = ExtractionPool(0)
    idle.start()
    assert idle._executor is None


def test_workers_are_warmed_up_front_only_for_a_sources_first_run() -> None:
    from datetime import UTC, datetime

    from crawler.config import parse_config
    from crawler.fetching.runner import warm_pool_first

    config = parse_config(
        '[[sources]]\nname = "a"\nkind = "feed"\nurl = "https://a.example/feed.xml"\n'
        '[[sources]]\nname = "b"\nkind = "sitemap"\nurl = "https://b.example/"\n'
    )
    a, b = config.sources
    done = {"last_attempt": datetime(2026, 1, 1, tzinfo=UTC)}
    failed = {"last_attempt": datetime(2026, 1, 1, tzinfo=UTC), "last_success": None}
    assert warm_pool_first([a, b], {"a": done, "b": done}) is False
    assert warm_pool_first([a, b], {"a": done, "b": {"last_attempt": None}}) is True
    assert warm_pool_first([a], {}) is True  # never seen: sync_sources has just added it
    assert warm_pool_first([a], {"a": failed}) is False  # tried before: no workers per retry


def test_crawl_process_does_not_import_disabled_extensions() -> None:
    """RemoteControl (aiohttp) is left out of the base dict, so Scrapy never imports it; merely
    disabling it in EXTENSIONS (Scrapy's documented way) would still import it."""
    code = (
        "import sys, scrapy\n"
        "from scrapy.crawler import CrawlerProcess\n"
        "from crawler.fetching.runner import QUIET_EXTENSIONS, quiet_extensions_base\n"
        "from crawler.settings import scrapy_settings\n"
        "class Idle(scrapy.Spider):\n"
        "    name = 'idle'\n"
        "    start_urls = []\n"
        "if sys.argv[1] == 'scrapy':\n"
        "    settings = scrapy_settings(EXTENSIONS=dict.fromkeys(QUIET_EXTENSIONS))\n"
        "else:\n"
        "    settings = scrapy_settings(EXTENSIONS_BASE=quiet_extensions_base())\n"
        "p = CrawlerProcess(settings)\n"
        "crawler = p.create_crawler(Idle)\n"
        "p.crawl(crawler)\n"
        "p.start()\n"
        "names = {type(e).__name__ for e in crawler.extensions.middlewares}\n"
        "print('scrapy.extensions.remote_control' in sys.modules, 'CoreStats' in names)\n"
    )
    outputs = []
    for variant in ("scrapy", "ours"):
        result = subprocess.run(
            [sys.executable, "-c", code, variant],
            capture_output=True, text=True, timeout=120, cwd=REPO,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout.strip())
    assert outputs == ["True True", "False True"]


def test_worker_modules_do_not_load_sqlalchemy_or_scrapy() -> None:
    """A worker imports only the extraction stack: each one starts per crawl, and SQLAlchemy
    alone cost ~0.12 s of CPU per worker for a helper the workers never call."""
    code = (
        "import importlib, sys\n"
        "from crawler.pipeline.workers import PRELOAD\n"
        "for name in PRELOAD: importlib.import_module(name)\n"
        "print(sorted(m for m in ('sqlalchemy', 'scrapy', 'twisted') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _pages_and_source(n: int, bad: set[int]):
    from crawler.config import parse_config
    from crawler.items import RawPage

    source = parse_config(
        '[[sources]]\nname = "t"\nkind = "feed"\nurl = "https://t.example/feed.xml"\n'
        'language = "es"\ntimezone = "America/Hermosillo"\n'
    ).sources[0]
    pages = []
    for i in range(n):
        text = f"Nota {i}: la Guardia Nacional reforzó la vigilancia en Nogales. " * 12
        body = (
            "<html><body><p>menú</p></body></html>"
            if i in bad
            else (
                f"<html><head><title>Nota {i}</title></head><body><article><p>{text}</p>"
                "</article></body></html>"
            )
        )
        url = f"https://t.example/{i}"
        pages.append(
            RawPage(source="t", url=url, final_url=url, status=200, body=body.encode(),
                    headers={"content-type": "text/html"})
        )  # fmt: skip
    return pages, source


def test_pages_are_batched_per_worker_task_and_each_gets_its_own_outcome() -> None:
    import asyncio

    from crawler.pipeline.process import NotAnArticle
    from crawler.pipeline.workers import BATCH_PAGES, ExtractionPool

    pages, source = _pages_and_source(BATCH_PAGES + 3, bad={1, BATCH_PAGES + 1})
    pool = ExtractionPool(1)
    pool.start()

    async def run():
        return await asyncio.gather(
            *(pool.process(page, source) for page in pages), return_exceptions=True
        )

    try:
        results = asyncio.run(run())
    finally:
        pool.shutdown()
    assert pool.tasks == 2  # one full batch, then the rest after the short wait
    for i, result in enumerate(results):
        if i in (1, BATCH_PAGES + 1):
            assert isinstance(result, NotAnArticle), (i, result)
        else:
            assert result.title == f"Nota {i}", (i, result)


def test_a_dead_worker_fails_its_batch_and_the_next_batch_gets_a_new_pool() -> None:
    import asyncio
    import signal
    import time

    from crawler.pipeline.workers import ExtractionPool, WorkerError

    pages, source = _pages_and_source(2, bad=set())
    pool = ExtractionPool(1)
    pool.start()
    try:
        executor = pool._executor
        deadline = time.monotonic() + 60
        while not executor._processes and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in list(executor._processes):
            os.kill(pid, signal.SIGKILL)
        while not executor._broken and time.monotonic() < deadline:
            time.sleep(0.05)
        first = asyncio.run(asyncio.wait_for(pool.process(pages[0], source), 60))
    except WorkerError as exc:
        first = exc
    try:
        assert isinstance(first, WorkerError)
        second = asyncio.run(asyncio.wait_for(pool.process(pages[1], source), 60))
        assert second.title == "Nota 1" and pool._executor is not executor
    finally:
        pool.shutdown()


def test_crawl_settings_copy_is_a_deep_copy_like_scrapys() -> None:
    """Each crawler's settings copy (a pickle round trip) equals Scrapy's deep copy, shares no
    mutable value with the original, keeps the class, and falls back for unpicklable values."""
    import copy

    from scrapy.settings import Settings

    from crawler.fetching.runner import CrawlSettings, quiet_extensions_base
    from crawler.settings import scrapy_settings

    base = CrawlSettings(scrapy_settings(EXTENSIONS_BASE=quiet_extensions_base()))
    fast, slow = base.copy(), Settings.copy(base)
    assert type(fast) is CrawlSettings
    assert fast.copy_to_dict() == slow.copy_to_dict() == copy.deepcopy(base).copy_to_dict()
    fast.set("DOWNLOAD_DELAY", 9.0)
    fast["DEFAULT_REQUEST_HEADERS"]["X-Test"] = "1"
    fast["DOWNLOADER_MIDDLEWARES"]["crawler.fetching.middlewares.RetryAfterMiddleware"] = 1
    assert base.getfloat("DOWNLOAD_DELAY") != 9.0
    assert "X-Test" in fast["DEFAULT_REQUEST_HEADERS"]
    assert "X-Test" not in base["DEFAULT_REQUEST_HEADERS"]
    assert (
        base["DOWNLOADER_MIDDLEWARES"]["crawler.fetching.middlewares.RetryAfterMiddleware"] == 560
    )
    odd = CrawlSettings({"NEWSWATCH_HOOK": lambda: 1})
    assert odd.copy()["NEWSWATCH_HOOK"]() == 1
