"""Sitemap sources: robots.txt → sitemap index → (news) sitemaps → article links.

A source whose url is a site root discovers its sitemaps from robots.txt; any other url is the
sitemap itself. Indexes are followed recursively but bounded (depth, count, never the same
sitemap twice, and with ``max_age`` only children whose ``lastmod`` is recent), because a
sitemap tree is untrusted input that can be enormous or loop. Entries from every sitemap are
gathered first, then filtered and capped newest-first, then handed to ``follow_articles`` in one
batch, so storage is asked once per run.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.articles.dates import dayfirst_for
from crawler.documents.sitemaps import is_recent, parse_sitemap, sitemaps_from_robots
from crawler.fetching.failures import describe_failure
from crawler.fetching.spiders.base import SourceSpider
from crawler.items import FeedEntry

MAX_DEPTH = 3
MAX_SITEMAPS = 50


def is_site_root(url: str) -> bool:
    """A url with nothing after the host means "discover the sitemaps from robots.txt"."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def url_allowed(url: str, allow: Iterable[str], deny: Iterable[str]) -> bool:
    """``allow`` (any must match, when given) and ``deny`` (none may match), searched in the URL."""
    allow, deny = list(allow), list(deny)
    if allow and not any(re.search(p, url) for p in allow):
        return False
    return not any(re.search(p, url) for p in deny)


def _when(entry: FeedEntry) -> datetime | None:
    return entry.published or entry.updated


def select_entries(
    entries: Iterable[FeedEntry],
    *,
    now: datetime,
    max_age: float | None = None,
    max_items: int | None = None,
    allow: Iterable[str] = (),
    deny: Iterable[str] = (),
) -> list[FeedEntry]:
    """The entries worth fetching: one per link, recent, allowed, newest first, at most
    ``max_items``. Undated entries keep their sitemap order after the dated ones."""
    allow, deny = tuple(allow), tuple(deny)
    seen: set[str] = set()
    kept: list[FeedEntry] = []
    for entry in entries:
        if not entry.link or entry.link in seen:
            continue
        seen.add(entry.link)
        if is_recent(entry, max_age, now) and url_allowed(entry.link, allow, deny):
            kept.append(entry)
    dated = [e for e in kept if _when(e) is not None]
    dated.sort(key=lambda e: _when(e) or now, reverse=True)
    ordered = dated + [e for e in kept if _when(e) is None]
    return ordered[:max_items] if max_items else ordered


class SitemapSpider(SourceSpider):
    kind = "sitemap"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sitemaps_seen: set[str] = set()
        self.sitemap_errors: list[str] = []
        self.collected: list[FeedEntry] = []
        self.pending = 0
        self.now = datetime.now(UTC)

    async def start(self) -> AsyncIterator[Any]:
        if is_site_root(self.source.url):
            yield scrapy.Request(
                robots_url(self.source.url),
                callback=self.parse_robots,
                errback=self.start_failed,
                dont_filter=True,
                priority=100,
            )
        else:
            self.sitemaps_seen.add(self.source.url)
            self.pending = 1
            yield self._first_request(self.source.url)
        for request in self.revisit_requests():
            yield request

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        found = sitemaps_from_robots(response.body, response.url)
        if not found:
            self.run.fail(f"robots.txt at {response.url} lists no Sitemap: set url to the sitemap")
            return
        for index, url in enumerate(found[:MAX_SITEMAPS]):
            self.sitemaps_seen.add(url)
            self.pending += 1
            yield self._first_request(url) if index == 0 else self._sitemap_request(url, 0)

    def _first_request(self, url: str) -> scrapy.Request:
        """The conditional GET of the first sitemap: a 304 there means nothing new this run."""
        request = self.start_request(url, self.parse_sitemap_doc)
        return request.replace(
            cb_kwargs={"depth": 0},
            errback=self.sitemap_failed,
            meta={**request.meta, "start": True},
        )

    def _sitemap_request(self, url: str, depth: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_sitemap_doc,
            errback=self.sitemap_failed,
            cb_kwargs={"depth": depth},
            dont_filter=True,
            priority=50,
        )

    def parse_sitemap_doc(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        self.pending -= 1
        if response.meta.get("start") and not self.start_changed(response):
            yield from self._maybe_finish()
            return
        doc = parse_sitemap(
            response.body,
            response.url,
            tz=self.source.tzinfo,
            dayfirst=dayfirst_for(self.source.language),
        )
        if doc.error:
            self._sitemap_problem(f"sitemap {response.url} unusable: {doc.error}", depth)
        if doc.warning:
            self.run.warn(f"{response.url}: {doc.warning}")
        if doc.kind == "sitemapindex":
            yield from self._children(doc.sitemaps, depth + 1)
        for entry in doc.entries:
            if entry.link in doc.languages:
                entry.language = doc.languages[entry.link]
            self.collected.append(entry)
        yield from self._maybe_finish()

    def _children(
        self, children: list[tuple[str, datetime | None]], depth: int
    ) -> Iterator[scrapy.Request]:
        max_age = self.source.max_age
        for url, lastmod in children:
            if url in self.sitemaps_seen:
                continue
            if not is_recent(FeedEntry(link=url, updated=lastmod), max_age, self.now):
                continue
            if depth > MAX_DEPTH:
                self.run.warn(f"sitemap {url} not read: nested deeper than {MAX_DEPTH}")
                continue
            if len(self.sitemaps_seen) >= MAX_SITEMAPS:
                self.run.warn(f"sitemap {url} not read: over {MAX_SITEMAPS} sitemaps")
                continue
            self.sitemaps_seen.add(url)
            self.pending += 1
            yield self._sitemap_request(url, depth)

    def sitemap_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        self.pending -= 1
        request = getattr(failure, "request", None)
        depth = request.cb_kwargs.get("depth", 0) if request is not None else 0
        if depth == 0:
            self.start_failed(failure)
        else:
            self._sitemap_problem(f"sitemap not read: {describe_failure(failure)}", depth)
        yield from self._maybe_finish()

    def _sitemap_problem(self, reason: str, depth: int) -> None:
        """A top-level sitemap that cannot be read fails the source; a child only warns, since
        the other sitemaps' articles are still good."""
        self.sitemap_errors.append(reason)
        if depth == 0:
            self.run.fail(reason)
        else:
            self.run.warn(reason)

    def _maybe_finish(self) -> Iterator[scrapy.Request]:
        if self.pending > 0:
            return
        entries = select_entries(
            self.collected,
            now=self.now,
            max_age=self.source.max_age,
            max_items=self.source.max_items,
            allow=self.source.allow,
            deny=self.source.deny,
        )
        dropped = len(self.collected) - len(entries)
        self.run.counts.entries += dropped
        self.run.counts.skipped += dropped
        self.collected = []
        yield from self.follow_articles(entries)
