"""Spider choice by source kind, in one place."""

from __future__ import annotations

from crawler.spiders.base import SourceSpider
from crawler.spiders.feed import FeedSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    "feed": FeedSpider,
}


def spider_for(kind: str) -> type[SourceSpider]:
    return SPIDERS[kind]
