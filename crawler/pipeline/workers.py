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
from typing import Any

from crawler import settings
from crawler.config import Source
from crawler.items import RawPage
from crawler.processes import die_with_parent
from storage.types import ArticleRecord

log = logging.getLogger(__name__)

PRELOAD = (
    "crawler.pipeline.process",
    "crawler.articles.extraction",
    "crawler.analysis.scoring",
    "crawler.identity.fingerprint",
)
"""Modules a worker imports when it starts, before its first page."""


def _worker_init() -> None:
    """In each worker: die with the crawl process, even if it is killed with SIGKILL (Linux),
    so no worker outlives its crawl; then load the extraction stack once."""
    if not die_with_parent(signal.SIGKILL):
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


def _extract_batch(
    jobs: list[tuple[RawPage, Source, datetime]],
) -> list[ArticleRecord | Exception]:
    """Extract several pages in one task; each page's outcome is its record or its error."""
    from crawler.pipeline.process import NotAnArticle, process_page

    out: list[ArticleRecord | Exception] = []
    for page, source, now in jobs:
        try:
            out.append(process_page(page, source, now))
        except NotAnArticle as exc:
            out.append(exc)
        except Exception as exc:
            out.append(WorkerError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    return out


BATCH_PAGES = 4
"""Pages per worker task. Each task costs the crawl process ~0.35 ms of hand-off (two threads,
pickling, pipe writes) whatever its size; four pages per task cut that to ~0.18 ms a page, and a
crawl keeps ~25 pages in flight, so both workers stay busy."""
BATCH_WAIT_S = 0.002
"""A partial batch is sent after this long: a slow trickle of pages is not held back."""


class ExtractionPool:
    """One lazily started process pool per crawl process, rebuilt if a worker dies."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.inline_left = settings.inline_first()
        self.expected = 0
        self.tasks = 0
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pending: list[tuple[RawPage, Source, datetime, asyncio.Future]] = []
        self._flush: asyncio.TimerHandle | None = None

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
        """Extract one page into a record: inline for the first pages, then in a worker, batched
        with the pages that arrive meanwhile (:data:`BATCH_PAGES`, :data:`BATCH_WAIT_S`)."""
        from crawler.pipeline.process import process_page

        now = datetime.now(UTC)
        if self.workers == 0 or self.inline_left > 0:
            self.inline_left -= 1
            return process_page(page, source, now)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future = loop.create_future()
        self._pending.append((page, source, now, waiter))
        if len(self._pending) >= BATCH_PAGES:
            self._submit(loop)
        elif self._flush is None:
            self._flush = loop.call_later(BATCH_WAIT_S, self._submit, loop)
        return await waiter

    def _submit(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        jobs = [(page, source, now) for page, source, now, _ in batch]
        pool = self._pool()
        try:
            with _plain_main():
                future: Future = pool.submit(_extract_batch, jobs)
        except (BrokenProcessPool, RuntimeError) as exc:
            if isinstance(exc, BrokenProcessPool):
                log.warning("an extraction worker died; restarting the pool")
                self._discard(pool)
            self._deliver(batch, None, exc)
            return
        self.tasks += 1

        def done(finished: Future) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody waits
                loop.call_soon_threadsafe(self._deliver, batch, pool, finished)

        future.add_done_callback(done)

    def _deliver(self, batch: list, pool: ProcessPoolExecutor | None, finished: Any) -> None:
        """Hand each waiting page its record or its error (on the reactor's thread)."""
        results: list[Any] | None = None
        if isinstance(finished, BaseException):
            failure = f"extraction not started: {finished}"
        else:
            try:
                results = finished.result()
                failure = "extraction worker returned a wrong batch"
            except BrokenProcessPool:
                log.warning("an extraction worker died; restarting the pool")
                self._discard(pool)
                failure = "extraction worker died"
            except BaseException as exc:  # cancelled at shutdown, or a result that failed to pickle
                failure = f"{type(exc).__name__}: {exc}"
        if not isinstance(results, list) or len(results) != len(batch):
            results = [WorkerError(f"{failure} on {page.final_url}") for page, *_ in batch]
        for (*_, waiter), result in zip(batch, results, strict=True):
            if waiter.done():
                continue
            if isinstance(result, BaseException):
                waiter.set_exception(result)
            else:
                waiter.set_result(result)

    def _discard(self, broken: ProcessPoolExecutor | None) -> None:
        """Drop the pool that broke (not a newer one started since)."""
        with self._lock:
            if broken is None or self._executor is not broken:
                return
            executor, self._executor = self._executor, None
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
        _shared = ExtractionPool(settings.extract_workers())
    return _shared


def shutdown_shared_pool() -> None:
    global _shared
    if _shared is not None:
        _shared.shutdown()
        _shared = None
