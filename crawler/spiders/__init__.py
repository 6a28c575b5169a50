"""Spider choice by source kind, in one place."""

from __future__ import annotations

from crawler.spiders.base import SourceSpider
from crawler.spiders.feed import FeedSpider
from crawler.spiders.listing import ListingSpider
from crawler.spiders.sitemap import SitemapSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    "feed": FeedSpider,
    "sitemap": SitemapSpider,
    "listing": ListingSpider,
}


def spider_for(kind: str) -> type[SourceSpider]:
    return SPIDERS[kind]
