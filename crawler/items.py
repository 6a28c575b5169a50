"""Typed values passed between the crawler's pure steps (feed parsing, extraction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class FeedEntry:
    """One feed, sitemap or listing entry: the article link plus metadata used as extraction
    fallbacks (hints)."""

    link: str | None
    guid: str | None = None
    title: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    authors: list[str] = field(default_factory=list)
    summary: str | None = None
    categories: list[str] = field(default_factory=list)
    language: str | None = None
    origin: str = "feed"
    """What listed the link: ``feed``, ``sitemap`` or ``listing``; the ``date_source`` of an
    article dated by this entry's ``published``."""


@dataclass(slots=True)
class ParsedFeed:
    """Result of parsing one feed document. ``error`` is set when nothing usable was found."""

    title: str | None
    entries: list[FeedEntry]
    kind: str | None = None
    error: str | None = None
    warning: str | None = None


@dataclass(slots=True)
class Extracted:
    """Fields extracted from one article page. Datetimes are timezone-aware."""

    title: str | None
    text: str
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    date_source: str = "none"
    """Where ``published_at`` came from: jsonld, meta, page, listing, sitemap, feed, url, none."""
    updated_at: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    description: str | None = None
    posts: list[dict[str, Any]] = field(default_factory=list)
    """Embedded social posts (see ``crawler.articles.posts``), kept out of ``text``."""


@dataclass(slots=True)
class RawPage:
    """A fetched article page on its way from a spider to the pipeline.

    ``url`` is the link as the source gave it (feed link), ``final_url`` where the fetch ended after
    redirects. ``hints`` carries what the feed said about the entry, used as extraction fallbacks.
    """

    source: str
    url: str
    final_url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    hints: FeedEntry | None = None

    def __repr__(self) -> str:
        """Short: Scrapy logs a dropped item's repr, and the body is a whole page."""
        return (
            f"RawPage({self.source!r}, {self.final_url!r}, {self.status}, {len(self.body)} bytes)"
        )
