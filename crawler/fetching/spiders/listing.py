"""Listing sources: a section page (and its next pages) → article links.

``link_selector`` picks the article links (else the article-URL heuristic of
:mod:`crawler.documents.listing`), ``allow``/``deny`` keep navigation, tag and author pages out, and
``next_selector`` (else ``rel=next`` / "Siguiente") is followed up to ``max_pages`` pages in total
(default 3: the newest items of a section, without paging through its archive every run).
Each page's links go to ``follow_articles`` as they arrive, capped by ``max_items``; a link back to a
listing page already read (page 2 linking to page 1) is not an article. Without ``link_selector``
the article pages must show article evidence to be stored (see :mod:`crawler.pipeline.pipelines`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.articles.dates import dayfirst_for
from crawler.documents.listing import extract_links, link_dates, next_page
from crawler.fetching.failures import describe_failure
from crawler.fetching.spiders.base import SourceSpider
from crawler.items import FeedEntry


class ListingSpider(SourceSpider):
    kind = "listing"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.links_seen: set[str] = set()
        self.pages_seen: set[str] = set()

    async def start(self) -> AsyncIterator[Any]:
        self.pages_seen.add(self.source.url)
        yield self.start_request(self.source.url, self.parse_listing)
        for request in self.revisit_requests():
            yield request

    def no_links_reason(self) -> str:
        if self.source.link_selector:
            return f"no article links found with link_selector {self.source.link_selector!r}"
        return "no article links found on the page (set link_selector to pick them)"

    def parse_listing(self, response: Response, page: int = 1) -> Iterator[scrapy.Request]:
        if page == 1 and not self.start_changed(response):
            return
        source = self.source
        try:
            links = extract_links(
                response.body,
                response.url,
                link_selector=source.link_selector,
                allow=source.allow,
                deny=source.deny,
            )
        except ValueError as exc:
            self.run.fail(f"listing page {response.url} unusable: {exc}")
            return
        if not links:
            if page == 1:
                self.run.fail(self.no_links_reason())
                return
            self.run.warn(f"page {page} ({response.url}): {self.no_links_reason()}")
        known = self.links_seen | self.pages_seen
        fresh = [link for link in links if link not in known]
        room = None if source.max_items is None else source.max_items - len(self.links_seen)
        if room is not None:
            fresh = fresh[: max(room, 0)]
        self.links_seen.update(fresh)
        dates = link_dates(
            response.body,
            response.url,
            tz=source.tzinfo,
            dayfirst=dayfirst_for(source.language),
            now=datetime.now(UTC),
        )
        yield from self.follow_articles(
            FeedEntry(link=link, published=dates.get(link), origin="listing") for link in fresh
        )
        full = source.max_items is not None and len(self.links_seen) >= source.max_items
        if page >= source.max_pages or full:
            return
        following = next_page(response.body, response.url, source.next_selector)
        if following is None or following in self.pages_seen:
            return
        self.pages_seen.add(following)
        yield scrapy.Request(
            following,
            callback=self.parse_listing,
            errback=self.page_failed,
            cb_kwargs={"page": page + 1},
            priority=50,
        )

    def page_failed(self, failure: Failure) -> None:
        """A later page failing keeps what the first pages gave; it is reported, not fatal."""
        self.run.warn(f"listing page not read: {describe_failure(failure)}")
