"""The Scrapy item pipeline: each fetched page through the extraction pool, records to storage.

The only crawler component that writes articles: in short batched transactions, through the
store the crawl attached to the crawler (``crawler.pipeline.runs``). A page that does not become
an article raises :class:`~scrapy.exceptions.DropItem` with the reason, so Scrapy's stats count
the reasons and the run's recorder keeps them.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem

from crawler.items import RawPage
from crawler.pipeline.process import NoArticleEvidence, NotAnArticle
from crawler.pipeline.runs import context_of
from crawler.pipeline.workers import WorkerError, shared_pool
from storage.types import ArticleRecord

log = logging.getLogger(__name__)

BATCH_SIZE = 25


class NotAnArticleDropped(DropItem):
    """The page was fetched but holds no article (not HTML, no text): an error of the run."""


class NavigationPageDropped(DropItem):
    """A page a listing's heuristic reached that shows no article evidence (a section front, an
    agenda, a pager): expected, so the run counts it as skipped, not as an error."""

    counts_as = "skipped"

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="INFO")


class ExtractionFailed(DropItem):
    """Extraction crashed or its worker died on this page."""


class StorePipeline:
    """Extracts each page and writes records in batches through the crawl's store."""

    def __init__(self, crawler: Any) -> None:
        self.context = context_of(crawler)
        self.batch: list[ArticleRecord] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        source = self.context.source
        try:
            record = await shared_pool().process(item, source)
        except NoArticleEvidence as exc:
            raise NavigationPageDropped(f"not an article: {item.final_url}: {exc}") from None
        except NotAnArticle as exc:
            raise NotAnArticleDropped(f"not an article: {item.final_url}: {exc}") from None
        except WorkerError as exc:
            raise ExtractionFailed(f"extraction failed: {item.final_url}: {exc}") from None
        except Exception as exc:
            log.error(
                "source %s: extraction failed for %s: %s: %s",
                source.name,
                item.final_url,
                type(exc).__name__,
                exc,
                exc_info=log.isEnabledFor(logging.DEBUG),  # a traceback only when debugging
            )
            raise ExtractionFailed(f"extraction failed: {item.final_url}: {exc}") from None
        self.batch.append(record)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()
        return None

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        run, store = self.context.recorder, self.context.store
        batch, self.batch = self.batch, []
        try:
            results = store.store(batch)
        except Exception as exc:
            from storage.db import one_line

            run.counts.errors += len(batch)
            run.fail(f"storage error: {one_line(exc)}")
            log.error(
                "source %s: could not store %d articles: %s",
                run.source,
                len(batch),
                one_line(exc),
                exc_info=log.isEnabledFor(logging.DEBUG),  # one line per batch (a full disk)
            )
            return
        for result in results:
            run.count_stored(result.outcome)
