"""What every source spider shares: per-source counters, the "already stored?" filter, article
requests and the article callback.

A spider kind (feed, sitemap, listing) only has to turn its start document into links plus
:class:`FeedEntry` hints and hand them to :meth:`SourceSpider.follow_articles`; everything after
that is the same for every kind, so dedupe, storage and search never see a difference.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import settings
from crawler.config import Source
from crawler.fetching.failures import describe_failure, parse_retry_after
from crawler.fetching.revisits import RevisitMixin
from crawler.identity.urls import canonicalize_url, is_http_url
from crawler.items import FeedEntry, RawPage
from crawler.pipeline.runs import CrawlContext, RunRecorder, context_of, recorder_of
from crawler.pipeline.workers import shared_pool

log = logging.getLogger(__name__)


def entry_changed_since(entry: FeedEntry, fetched: datetime) -> bool:
    """Whether a feed/sitemap entry claims a change after we last fetched its page."""
    stamps = [t for t in (entry.updated, entry.published) if t is not None]
    return bool(stamps) and max(stamps) > fetched


class SourceSpider(RevisitMixin, scrapy.Spider):
    """Base for one crawl of one configured source."""

    kind = ""

    def __init__(self, source: Source, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, name=f"{self.kind}:{source.name}", **kwargs)
        self.source = source
        self.requested = 0

    @property
    def context(self) -> CrawlContext:
        """The crawl's context on this spider's crawler (its store, the run's validators)."""
        return context_of(self.crawler)

    @property
    def run(self) -> RunRecorder:
        """The run's recorder: counts, notes and failure belong to it, not to the spider."""
        return recorder_of(self.crawler)

    def start_request(self, url: str, callback: Any) -> scrapy.Request:
        """The request for the source's start document, conditional when we have validators.

        A 304 answer means nothing changed since the last poll: no parsing, no article fetches.
        """
        headers = {}
        validators = self.run.validators
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.start_failed,
            headers=headers,
            dont_filter=True,
            priority=100,
            meta={"handle_httpstatus_list": [304]},
        )

    def start_changed(self, response: Response) -> bool:
        """False when the server said 304; otherwise remember the new validators."""
        if response.status == 304:
            self.run.not_modified = True
            return False
        for key, header in (("etag", b"ETag"), ("last_modified", b"Last-Modified")):
            value = response.headers.get(header)
            self.run.validators[key] = value.decode("latin-1") if value else None
        return True

    def start_failed(self, failure: Failure) -> None:
        """Errback of the start request: the source as a whole could not be read."""
        response = getattr(failure.value, "response", None)
        if response is not None:
            self.run.retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
        self.run.fail(describe_failure(failure))

    def follow_articles(self, entries: Iterable[FeedEntry]) -> Iterator[scrapy.Request]:
        """Request each entry's article page unless it is stored and has not changed since.

        Storage is asked once for the whole batch, by both the link as given and its canonical
        form, so a re-crawl of an unchanged feed fetches nothing; an entry whose date is newer
        than our last fetch of its page is fetched again, so edits reach the corpus.
        """
        pending: list[tuple[FeedEntry, str, str]] = []
        for entry in entries:
            self.run.counts.entries += 1
            if not entry.link or not is_http_url(entry.link):
                self.run.counts.skipped += 1
                continue
            pending.append((entry, entry.link, canonicalize_url(entry.link)))
        if not pending:
            return
        seen = self.context.store.seen_urls(
            {u for _, link, canon in pending for u in (link, canon)}
        )
        wanted: list[tuple[FeedEntry, str]] = []
        for entry, link, canon in pending:
            fetched = max((t for t in (seen.get(link), seen.get(canon)) if t), default=None)
            if fetched is not None and not entry_changed_since(entry, fetched):
                self.run.counts.duplicates += 1
                continue
            wanted.append((entry, link))
        cap = self.source.max_items or settings.MAX_ARTICLES_PER_RUN
        room = max(cap - self.requested, 0)
        if len(wanted) > room:
            self.run.counts.skipped += len(wanted) - room
            self.run.note(
                f"only {cap} article pages per run; {len(wanted) - room} left for the next run"
            )
            wanted = wanted[:room]
        shared_pool().expect(len(wanted))
        for entry, link in wanted:
            self.requested += 1
            yield scrapy.Request(
                link,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"hints": entry},
                headers=self.source.header_dict or None,
            )

    def parse_article(
        self, response: Response, hints: FeedEntry | None = None
    ) -> Iterator[RawPage]:
        self.run.counts.pages += 1
        original = response.request.meta.get("redirect_urls", [response.url])[0]
        yield RawPage(
            source=self.source.name,
            url=original,
            final_url=response.url,
            status=response.status,
            body=response.body,
            headers={
                k.decode("latin-1").lower(): v[0].decode("latin-1")
                for k, v in response.headers.items()
                if v
            },
            hints=hints,
        )

    def article_failed(self, failure: Failure) -> None:
        self.run.counts.errors += 1
        reason = describe_failure(failure)
        self.run.note(f"article not fetched: {reason}")
        log.warning("source %s: article not fetched: %s", self.source.name, reason)
