"""Spider choice by source kind, in one place."""

from __future__ import annotations

from crawler.fetching.spiders.base import SourceSpider
from crawler.fetching.spiders.feed import FeedSpider
from crawler.fetching.spiders.listing import ListingSpider
from crawler.fetching.spiders.sitemap import SitemapSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    "feed": FeedSpider,
    "sitemap": SitemapSpider,
    "listing": ListingSpider,
}


def spider_for(kind: str) -> type[SourceSpider]:
    return SPIDERS[kind]
