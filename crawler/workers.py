"""Extraction off the reactor thread, in a small process pool shared by every source of a crawl.

Scrapy runs on one thread and extraction is CPU-bound, so a crawl that extracts in its callbacks
uses one core. Here each fetched page is handed to a worker process (spawned, so no reactor
threads or database connections are inherited, and tied to the crawl so it dies with it) while
the reactor keeps downloading. Small runs — a poll that finds a handful of new articles — never
start the pool: the first pages of a process are extracted inline, and the pool starts only when
a crawl turns out to be big enough to repay it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import traceback
import types
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

from crawler.config import Source
from crawler.types import RawPage
from storage.types import ArticleRecord

log = logging.getLogger(__name__)

INLINE_FIRST = 12
"""Pages extracted in the crawl process before the pool starts (a poll rarely gets further);
``NEWSWATCH_INLINE_FIRST`` overrides it."""


def worker_count() -> int:
    """``NEWSWATCH_EXTRACT_WORKERS`` (0 = inline only), else one worker per core."""
    raw = os.environ.get("NEWSWATCH_EXTRACT_WORKERS", "").strip()
    if raw.isdigit():
        return int(raw)
    return max(1, os.cpu_count() or 1)


PRELOAD = ("crawler.pipelines", "crawler.extract", "crawler.analysis", "crawler.fingerprint")
"""Modules a worker imports when it starts, before its first page."""


def _worker_init() -> None:
    """In each worker: die with the crawl process, even if it is killed with SIGKILL (Linux),
    so no worker outlives its crawl; then load the extraction stack once."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
        if os.getppid() == 1:
            os._exit(0)
    for module in PRELOAD:
        importlib.import_module(module)


_WORKER_MAIN = types.ModuleType("__main__")


@contextlib.contextmanager
def _plain_main() -> Iterator[None]:
    """Hide the parent's ``__main__`` while a submit may spawn a worker.

    A spawned child re-imports the parent's main module before its first task: for
    ``newswatch crawl`` that is the whole CLI (typer, rich, Scrapy, SQLAlchemy), ~0.4 s of CPU
    per worker that the extraction never uses. The submit runs on the reactor thread and
    nothing pickled for a worker lives in ``__main__``, so a bare module stands in meanwhile.
    """
    modules = sys.modules
    main = modules.get("__main__")
    modules["__main__"] = _WORKER_MAIN
    try:
        yield
    finally:
        if main is not None:
            modules["__main__"] = main


class WorkerError(RuntimeError):
    """An unexpected failure inside a worker, carried back as one line plus the worker's trace."""


def _warm_up() -> None:
    """A no-op task: submitting one per worker makes the pool start them all at once."""


def _extract_in_worker(page: RawPage, source: Source, now: datetime) -> ArticleRecord:
    from crawler.pipelines import NotAnArticle, process_page

    try:
        return process_page(page, source, now)
    except NotAnArticle:
        raise
    except Exception as exc:
        raise WorkerError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}") from None


class ExtractionPool:
    """One lazily started process pool per crawl process, rebuilt if a worker dies."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        raw = os.environ.get("NEWSWATCH_INLINE_FIRST", "").strip()
        self.inline_left = int(raw) if raw.isdigit() else INLINE_FIRST
        self.expected = 0
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init,
                )
                log.debug("extraction pool started with %d workers", self.workers)
            return self._executor

    def expect(self, pages: int) -> None:
        """A spider is about to fetch ``pages`` article pages.

        When the run turns out bigger than the inline allowance, the workers are started now, so
        their start-up overlaps the downloads instead of stalling the first pages, and no page
        is extracted in the crawl process, which then never loads the extraction stack.
        """
        self.expected += pages
        if self.expected > self.inline_left:
            self.start()

    def start(self) -> None:
        """Start the workers now (each loads the extraction stack at once); every later page
        is extracted in a worker. A no-op without workers or when already started."""
        if self.workers == 0 or self._executor is not None:
            return
        self.inline_left = 0
        pool = self._pool()
        with _plain_main():
            for _ in range(self.workers):
                pool.submit(_warm_up)

    async def process(self, page: RawPage, source: Source) -> ArticleRecord:
        """Extract one page into a record: inline for the first pages, then in a worker."""
        from crawler.pipelines import process_page

        now = datetime.now(UTC)
        if self.workers == 0 or self.inline_left > 0:
            self.inline_left -= 1
            return process_page(page, source, now)
        pool = self._pool()
        with _plain_main():
            future: Future = pool.submit(_extract_in_worker, page, source, now)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.warning("an extraction worker died; restarting the pool")
            self._discard()
            raise WorkerError(f"extraction worker died on {page.final_url}") from None

    def _discard(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: ExtractionPool | None = None


def shared_pool() -> ExtractionPool:
    """The process's pool (every source's pipeline uses the same one)."""
    global _shared
    if _shared is None:
        _shared = ExtractionPool(worker_count())
    return _shared


def shutdown_shared_pool() -> None:
    global _shared
    if _shared is not None:
        _shared.shutdown()
        _shared = None
