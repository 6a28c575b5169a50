"""Revisits of recent articles for ``revisit = "news"`` sources: silent edits and withdrawals.

A feed names a page again only when the site says it changed, and many sites never say. A revisit
source's crawl therefore also asks storage which of its recent articles are due
(:func:`storage.schedule.next_revisit` backs off with age) and re-requests them with conditional
GET, through the same Scrapy crawl (same politeness, robots.txt and throttling). The revisits take
at most :data:`REVISIT_SHARE` of the run's article budget and count against it.

Outcomes: 304 is no change (only the next revisit time moves); 404/410 marks the article withdrawn
(a version, never a delete); a 200 goes through the normal pipeline, where a changed page becomes
a version (``storage.versions``) and an unchanged one a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import settings
from crawler.items import RawPage

log = logging.getLogger(__name__)

REVISIT_SHARE = 0.3
"""The largest share of a run's article requests that revisits may take: new articles first."""
GONE = (404, 410)


class RevisitMixin:
    """For :class:`~crawler.fetching.spiders.base.SourceSpider`: ``revisit_requests`` is yielded
    from each kind's ``start`` after the start document's request."""

    def revisit_requests(self: Any) -> Iterator[scrapy.Request]:
        if self.source.revisit != "news":
            return
        cap = self.source.max_items or settings.MAX_ARTICLES_PER_RUN
        limit = max(int(cap * REVISIT_SHARE), 1)
        due = self.context.store.due_revisits(self.source.name, datetime.now(UTC), limit)
        for article in due:
            self.requested += 1
            headers = dict(self.source.header_dict or {})
            if article["etag"]:
                headers["If-None-Match"] = article["etag"]
            if article["last_modified"]:
                headers["If-Modified-Since"] = article["last_modified"]
            yield scrapy.Request(
                article["url"],
                callback=self.parse_revisit,
                errback=self.revisit_failed,
                cb_kwargs={"article_id": article["id"]},
                headers=headers or None,
                dont_filter=True,
                priority=-10,
                meta={"handle_httpstatus_list": [304, *GONE]},
            )
        if due:
            log.info("source %s: revisiting %d recent article(s)", self.source.name, len(due))

    def parse_revisit(self: Any, response: Response, article_id: int) -> Iterator[RawPage]:
        store, now = self.context.store, datetime.now(UTC)
        if response.status in GONE:
            if store.withdraw(article_id, now):
                self.run.note(
                    f"article {article_id} withdrawn: {response.url} answers {response.status}"
                )
            return
        store.schedule_revisit(article_id, now)
        if response.status == 304:
            self.run.counts.duplicates += 1
            return
        yield from self.parse_article(response)  # validators are stored with the new text

    def revisit_failed(self: Any, failure: Failure) -> None:
        """A revisit that could not be made is tried again at the next step of the schedule."""
        article_id = failure.request.cb_kwargs.get("article_id") if failure.request else None
        if article_id is not None:
            self.context.store.schedule_revisit(article_id, datetime.now(UTC))
        self.article_failed(failure)
