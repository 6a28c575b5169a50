"""What every source spider shares: per-source counters, the "already stored?" filter, article
requests and the article callback.

A spider kind (feed, sitemap, listing) only has to turn its start document into links plus
:class:`FeedEntry` hints and hand them to :meth:`SourceSpider.follow_articles`; everything after
that is the same for every kind, so dedupe, storage and search never see a difference.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import settings
from crawler.config import Source
from crawler.identity.urls import canonicalize_url, is_http_url
from crawler.items import FeedEntry, RawPage
from crawler.pipeline.workers import shared_pool
from storage.store import Store
from storage.types import RunCounts

log = logging.getLogger(__name__)


_FAILURE_NAMES = {
    "DownloadTimeoutError": "timed out",
    "TimeoutError": "timed out",
    "DownloadCancelledError": "too large",
    "ResponseDataLossError": "response cut short (body shorter than its Content-Length)",
    "ResponseNeverReceived": "connection closed before any response",
    "ConnectionLost": "connection lost",
    "ConnectionRefusedError": "connection refused",
    "DownloadConnectionRefusedError": "connection refused",
    "CannotResolveHostError": "host name not found",
    "DNSLookupError": "host name not found",
    "PrivateAddressRefused": "",
    "IgnoreRequest": "",
}


_TWISTED_ERROR = re.compile(r"twisted\.\w+\.error\.(\w+): ([^>\]]*)")


def describe_failure(failure: Failure) -> str:
    """One line saying why a request failed, for the run log and the summary."""
    exc = failure.value
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status} from {response.url}"
    name = type(exc).__name__
    lines = str(exc).strip().splitlines()
    text = " ".join(lines[0].split())[:300] if lines else ""
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "?"
    inner = _TWISTED_ERROR.search(text)
    if name == "DownloadFailedError" and inner:
        name, text = inner.group(1), inner.group(2).strip()
    if name == "IgnoreRequest" and "max redirections" in text:
        return f"too many redirects (more than {settings.REDIRECT_MAX_TIMES}), last {url}"
    if name == "IgnoreRequest" and "DOWNLOAD_MAXSIZE" in text:
        return f"too large when decompressed ({url}): {text}"
    friendly = _FAILURE_NAMES.get(name)
    if friendly is not None:
        where = f" ({url})" if friendly else ""
        if name in ("ResponseNeverReceived", "ConnectionLost", "ResponseDataLossError"):
            return f"{friendly}{where}"
        detail = f": {text}" if text else ""
        return f"{friendly}{where}{detail}" if friendly else text or name
    return f"{name}: {text}" if text else name


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def entry_changed_since(entry: FeedEntry, fetched: datetime) -> bool:
    """Whether a feed/sitemap entry claims a change after we last fetched its page."""
    stamps = [t for t in (entry.updated, entry.published) if t is not None]
    return bool(stamps) and max(stamps) > fetched


class SourceSpider(scrapy.Spider):
    """Base for one crawl of one configured source."""

    kind = ""

    def __init__(
        self,
        source: Source,
        store: Store,
        *args: Any,
        validators: dict[str, str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, name=f"{self.kind}:{source.name}", **kwargs)
        self.source = source
        self.store = store
        self.counts = RunCounts()
        self.error: str | None = None
        self.warnings: list[str] = []
        self.validators = dict(validators or {})
        self.not_modified = False
        self.retry_after: float | None = None
        self.requested = 0

    def start_request(self, url: str, callback: Any) -> scrapy.Request:
        """The request for the source's start document, conditional when we have validators.

        A 304 answer means nothing changed since the last poll: no parsing, no article fetches.
        """
        headers = {}
        if self.validators.get("etag"):
            headers["If-None-Match"] = self.validators["etag"]
        if self.validators.get("last_modified"):
            headers["If-Modified-Since"] = self.validators["last_modified"]
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
            self.not_modified = True
            return False
        for key, header in (("etag", b"ETag"), ("last_modified", b"Last-Modified")):
            value = response.headers.get(header)
            self.validators[key] = value.decode("latin-1") if value else None
        return True

    def fail(self, reason: str) -> None:
        """Mark the source's run as failed; the first reason is the one reported."""
        log.warning("source %s failed: %s", self.source.name, reason)
        if self.error is None:
            self.error = reason

    def start_failed(self, failure: Failure) -> None:
        """Errback of the start request: the source as a whole could not be read."""
        response = getattr(failure.value, "response", None)
        if response is not None:
            self.retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
        self.fail(describe_failure(failure))

    def follow_articles(self, entries: Iterable[FeedEntry]) -> Iterator[scrapy.Request]:
        """Request each entry's article page unless it is stored and has not changed since.

        Storage is asked once for the whole batch, by both the link as given and its canonical
        form, so a re-crawl of an unchanged feed fetches nothing; an entry whose date is newer
        than our last fetch of its page is fetched again, so edits reach the corpus.
        """
        pending: list[tuple[FeedEntry, str, str]] = []
        for entry in entries:
            self.counts.entries += 1
            if not entry.link or not is_http_url(entry.link):
                self.counts.skipped += 1
                continue
            pending.append((entry, entry.link, canonicalize_url(entry.link)))
        if not pending:
            return
        seen = self.store.seen_urls({u for _, link, canon in pending for u in (link, canon)})
        wanted: list[tuple[FeedEntry, str]] = []
        for entry, link, canon in pending:
            fetched = max((t for t in (seen.get(link), seen.get(canon)) if t), default=None)
            if fetched is not None and not entry_changed_since(entry, fetched):
                self.counts.duplicates += 1
                continue
            wanted.append((entry, link))
        cap = self.source.max_items or settings.MAX_ARTICLES_PER_RUN
        room = max(cap - self.requested, 0)
        if len(wanted) > room:
            self.counts.skipped += len(wanted) - room
            self.note(
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
        self.counts.pages += 1
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

    def note(self, reason: str) -> None:
        """Keep the first few article-level reasons for the run log (the rest are only counted)."""
        if len(self.warnings) < settings.MAX_REASONS and reason not in self.warnings:
            self.warnings.append(reason)

    def article_failed(self, failure: Failure) -> None:
        self.counts.errors += 1
        reason = describe_failure(failure)
        self.note(f"article not fetched: {reason}")
        log.warning("source %s: article not fetched: %s", self.source.name, reason)
