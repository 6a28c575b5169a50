"""RSS/Atom sources: fetch the feed, parse it with feedparser, follow each entry to its article."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler import settings
from crawler.articles.dates import dayfirst_for
from crawler.documents.feeds import parse_feed
from crawler.fetching.spiders.base import SourceSpider


class FeedSpider(SourceSpider):
    kind = "feed"

    async def start(self) -> AsyncIterator[Any]:
        yield self.start_request(self.source.url, self.parse_start)
        for request in self.revisit_requests():
            yield request

    def parse_start(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.start_changed(response):
            return
        parsed = parse_feed(
            response.body,
            response.url,
            tz=self.source.tzinfo,
            dayfirst=dayfirst_for(self.source.language),
            max_entries=settings.MAX_FEED_ENTRIES,
        )
        if parsed.error:
            self.run.fail(f"feed unusable: {parsed.error}")
            return
        if parsed.warning:
            self.run.warn(parsed.warning)
        yield from self.follow_articles(parsed.entries)
