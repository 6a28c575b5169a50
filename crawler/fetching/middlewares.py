"""Downloader middlewares that keep a crawl safe on the open web.

:class:`PrivateAddressMiddleware` refuses requests whose host resolves to a loopback, private or
link-local address before any connection is made. Checking the sources file is not enough: a
public site can redirect to ``http://169.254.169.254/`` (cloud metadata) or to an intranet host,
and Scrapy's redirect middleware turns every redirect into a new request that passes through the
downloader middlewares again, so the check here covers every hop.

:class:`RetryAfterMiddleware` stops Scrapy from retrying a 429/503 that asks for a long
``Retry-After``: hammering the server again within the second is exactly what it asked us not to
do. The response goes to the spider, which backs the whole source off for that long.

:class:`RetryBackoffMiddleware` spaces the retries Scrapy does make: its RetryMiddleware puts a
failed request straight back in the queue, so a server answering 503 under load got its second
and third request within the source's delay (at once with ``delay = 0``).

:class:`RobotsTxtMiddleware` is Scrapy's, with two fixes. Requests that reach a host while its
robots.txt is still being fetched wait for it; in Scrapy 2.19 only the first of those waiters got
the parsed rules and every other one got ``None``, which means "allowed": a feed linking to eight
pages on another host, four of them disallowed, had three of those fetched. (Scrapy used to give
each waiter a copy; scrapy/scrapy#6802 replaced that with an await on the shared Deferred.)
And one fetch of a host's robots.txt serves every source of the crawl process (the default
catalog has three sources on www.gob.mx), so the file is asked for once, not once per source; it
is also kept in the database and reused by later runs for ``NEWSWATCH_ROBOTS_TTL`` (an hour).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

from crawler import settings
from crawler.addresses import literal_ip, refusal_reason, resolve
from crawler.fetching.failures import parse_retry_after
from crawler.pipeline.runs import find_context

log = logging.getLogger(__name__)


class PrivateAddressRefused(IgnoreRequest):
    """The request's host is (or resolves to) an address the crawler must not contact."""


class PrivateAddressMiddleware:
    """Refuse loopback/private/link-local targets unless ``NEWSWATCH_ALLOW_PRIVATE`` allows them.

    Resolution runs in a thread so the reactor never blocks on DNS; a host that does not
    resolve is left to the download itself, which reports the DNS error in its own words.
    """

    def __init__(self) -> None:
        self._cache: dict[str, str | None] = {}
        self._allow = settings.private_allowance()

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateAddressMiddleware:
        return cls()

    async def process_request(self, request: Request, spider: Any = None) -> None:
        parts = urlparse_cached(request)
        if parts.scheme not in ("http", "https"):
            raise PrivateAddressRefused(f"refused: {parts.scheme}: URLs are not fetched")
        host = (parts.hostname or "").lower()
        if host not in self._cache:
            addresses: list[str] = []
            if literal_ip(host) is None:
                addresses = await maybe_deferred_to_future(deferToThread(resolve, host))
            self._cache[host] = refusal_reason(host, addresses, self._allow)
        reason = self._cache[host]
        if reason is not None:
            raise PrivateAddressRefused(f"refused: {reason}")


class RetryAfterMiddleware:
    """Mark a 429/503 with a ``Retry-After`` longer than the allowed wait as not to be retried."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        return cls()

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        if response.status in (429, 503) and response.headers.get(b"Retry-After"):
            wait = parse_retry_after(response.headers.get(b"Retry-After"))
            if wait is not None and wait > settings.RETRY_AFTER_MAX_WAIT:
                request.meta["dont_retry"] = True
        return response


class RetryBackoffMiddleware:
    """Hold a retried request back ``base × 2^(n−1)`` seconds (n = its retry number, capped at
    :data:`~crawler.settings.RETRY_BACKOFF_MAX`) before it is downloaded.

    The wait happens before the request reaches its site's slot, so other requests, to this site
    and others, go on meanwhile.
    """

    def __init__(self, base: float) -> None:
        self.base = base

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryBackoffMiddleware:
        return cls(settings.from_scrapy(crawler.settings, settings.ENV_RETRY_BACKOFF))

    def delay(self, retry: int) -> float:
        if retry <= 0 or self.base <= 0:
            return 0.0
        return min(self.base * 2 ** (retry - 1), settings.RETRY_BACKOFF_MAX)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        wait = self.delay(int(request.meta.get("retry_times", 0)))
        if wait:
            await asyncio.sleep(wait)


REFRESH_SCAN_BYTES = 16384
"""Scrapy looks for a meta refresh in the first 4,096 characters: at most 16 KB of UTF-8."""


class LazyMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, without decoding every page to look for one.

    Scrapy's check decodes the whole body (``response.text``) and the decoded copy stays cached
    on the response while it waits for extraction: 80–160 KB per page in the crawl process and
    ~0.1 ms of CPU, for a tag almost no article has. A page whose first bytes do not even
    contain the word "refresh" cannot have one; the others get Scrapy's full treatment. (The
    check lowers a copy of those bytes: ~10 µs a page, where a case-insensitive regex took 85.)
    """

    def process_response(self, request: Request, response: Response, spider: Any = None):
        if b"refresh" not in response.body[:REFRESH_SCAN_BYTES].lower():
            return response
        return super().process_response(request, response)


_ROBOTS: dict[str, Any] = {}
"""Every crawler's robots.txt parsers, by ``host:port``: a parser, ``None`` (no usable file:
everything allowed, as Scrapy does), or the Deferred of a fetch in progress."""


def reset_robots() -> None:
    """Forget every parsed robots.txt (a new crawl in the same process fetches them again)."""
    _ROBOTS.clear()


def forget_robots() -> None:
    """Forget the parsed robots.txt files but not the fetches in progress: a long-lived crawl
    process calls it at each batch, so a file is read again (from the database's copy while it
    is fresh, else from the site) at most once per batch instead of never."""
    for netloc, held in list(_ROBOTS.items()):
        if not isinstance(held, Deferred):
            _ROBOTS.pop(netloc, None)


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    """Scrapy's robots.txt middleware with the parsers shared by the process's crawlers, and a
    waiter of its own for each request that arrives while the file is being fetched.

    The parsers hold a host's rules for every user agent and are asked with each request's own
    agent, so sources with their own ``User-Agent`` share them safely.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._parsers = _ROBOTS
        self._ttl = settings.from_scrapy(crawler.settings, settings.ENV_ROBOTS_TTL)

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc, _ABSENT)
        if pending is _ABSENT:
            kept = self._kept(netloc)
            if kept is not None:
                parser = build_from_crawler(self._parserimpl, self.crawler, kept)
                self._parsers[netloc] = parser
                self._stats.inc_value("robotstxt/reused")
                await self.crawler.signals.send_catch_log_async(
                    signal=signals.robots_parsed, robotparser=parser, request=request
                )
                return parser
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        # Awaiting the shared Deferred itself (as Scrapy does) hands its result to the first
        # waiter and None to the others: each waiter gets a copy instead.
        mine: Deferred = Deferred()

        def copy(result: Any) -> Any:
            mine.callback(result)
            return result

        pending.addBoth(copy)
        return await maybe_deferred_to_future(mine)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        await super()._parse_robots(response, netloc, request)
        if response.status < 500:  # a server error is asked again next run, not remembered
            store = self._store()
            if store is not None:
                try:
                    store.save_robots(netloc, response.status, response.body[:ROBOTS_MAX_BYTES])
                except Exception as exc:
                    log.warning("robots.txt of %s not kept: %s", netloc, exc)

    def _kept(self, netloc: str) -> bytes | None:
        """The body of the site's robots.txt as a recent run fetched it, if there is one."""
        store = self._store()
        if store is None or self._ttl <= 0:
            return None
        try:
            kept = store.cached_robots(netloc, self._ttl)
        except Exception as exc:
            log.warning("robots.txt cache of %s not read: %s", netloc, exc)
            return None
        return None if kept is None else kept[1]

    def _store(self) -> Any:
        """The crawl's store, reached through the crawler (None for a crawler set up by hand)."""
        context = find_context(self.crawler)
        return None if context is None else context.store


class _NoRobotsTraceback(logging.Filter):
    """Scrapy logs a robots.txt it could not download with the whole traceback (78 lines for an
    unknown host); the source's own request fails next with the same cause in one line. Below
    debug level the record keeps its one-line message and loses the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not logging.getLogger().isEnabledFor(logging.DEBUG):
            record.exc_info = None
            record.exc_text = None
        return True


logging.getLogger(ScrapyRobotsTxt.__module__).addFilter(_NoRobotsTraceback())

_ABSENT = object()
ROBOTS_MAX_BYTES = 512 * 1024
"""The most of a robots.txt kept (RFC 9309 asks crawlers to read at least 500 KiB)."""
