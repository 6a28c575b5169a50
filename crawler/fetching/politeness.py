"""Scrapy's downloader with per-site concurrency that holds.

Scrapy 2.19's downloader counts a request against its site's concurrency only when the request's
download coroutine first runs, but dispatches from the site's queue in a loop that checks that
count before any of them has run. With no download delay every queued request went out at once:
``concurrency = 4`` gave 31 simultaneous requests to one host, bounded only by
``CONCURRENT_REQUESTS`` (scrapy/scrapy#6982 reports the same). Twisted keeps only
``concurrency`` idle connections per host, so the excess also churned connections: the 3,006
requests of the ingest benchmark opened 1,380 TCP connections (a handshake to the site for
almost every other page, about 1 ms of CPU per page here). Counting a request the moment it is
dispatched, the same crawl keeps 16 requests in flight over 16 reused connections.

With a download delay Scrapy dispatches one request per delay anyway, so the default polite
settings were not affected; ``delay = 0`` sources (intranets, benchmarks) were.

The download delay also holds across sources. Each source has its own crawler and so its own
downloader, whose per-site slot spaces only that source's requests: the default catalog has three
sources on www.gob.mx and three on mx.usembassy.gov, and crawled together each site got three
requests per delay (three robots.txt fetches at the same instant, to begin with). Here every
slot of a site, whichever crawler of the process it belongs to, reads and writes one
:class:`HostClock`: a request waits its delay after the site's last request from *any* source, and
the delay is the longest any source of that site asks for.

A ``Crawl-delay`` in the site's robots.txt (for our user agent, or ``*``) raises that clock's
delay too, up to :data:`~crawler.settings.MAX_CRAWL_DELAY`: Scrapy obeys robots.txt's rules but
not its delay.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from time import monotonic
from typing import Any

from scrapy import signals
from scrapy.core.downloader import Downloader, Slot

from crawler import settings
from crawler.pipeline.runs import find_context

log = logging.getLogger(__name__)


class PoliteDownloader(Downloader):
    """Scrapy's downloader, with a request counted as transferring when it is dispatched.

    A Scrapy version whose dispatch loop does not go through ``_wait_for_download`` never
    reaches this override; ``tests/test_download.py`` checks that the limit holds with the
    installed version.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)
        fetch = self.handlers.download_request_async

        async def fetch_and_note_the_end(request: Any) -> Any:
            try:
                return await fetch(request)
            finally:
                self._finished(request)

        self.handlers.download_request_async = fetch_and_note_the_end

    def _robots_parsed(self, robotparser: Any, request: Any, **_: Any) -> None:
        """Make the site's ``Crawl-delay`` for us (capped) the least delay of its clock."""
        agent = (
            self.settings.get("ROBOTSTXT_USER_AGENT")
            or request.headers.get(b"User-Agent")
            or self.settings.get("USER_AGENT")
        )
        try:
            asked = robotparser.crawl_delay(agent)
        except Exception:  # a parser without the method, or one that chokes on the file
            return
        cap = settings.from_scrapy(self.settings, settings.ENV_MAX_CRAWL_DELAY)
        if not asked or asked <= 0 or cap <= 0:
            return
        key = self.get_slot_key(request)
        clock = host_clock(key)
        clock.delay = max(clock.delay, min(asked, cap))
        log.debug("%s: robots.txt Crawl-delay %g s, waiting %g s", key, asked, clock.delay)
        context = find_context(self.crawler)
        if asked > cap and context is not None and context.recorder is not None:
            context.recorder.note(
                f"{key}: robots.txt asks for a Crawl-delay of {asked:g} s; waiting {cap:g} s "
                f"between requests ({settings.ENV_MAX_CRAWL_DELAY})"
            )

    def _wait_for_download(self, slot: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        slot.transferring.add(request)
        if isinstance(slot, SharedClockSlot):
            slot._clock.in_flight += 1
        return super()._wait_for_download(slot, request, *args, **kwargs)

    def _finished(self, request: Any) -> None:
        """The end of a request (either way), before Scrapy looks at the queue again: a site
        with a delay waits it from here too, and its slots held back meanwhile look again."""
        slot = self.slots.get(request.meta.get(self.DOWNLOAD_SLOT))
        if not isinstance(slot, SharedClockSlot):
            return
        clock = slot._clock
        clock.in_flight = max(0, clock.in_flight - 1)
        if slot.site_delay() > 0:
            slot.lastseen = monotonic()
        if clock.in_flight == 0 and clock.held:
            from twisted.internet import reactor

            held, clock.held = clock.held, {}
            for waiting in held.values():
                reactor.callLater(0, waiting.wake)

    def _get_slot(self, request: Any, spider: Any = None) -> tuple[str, Slot]:
        """Scrapy's slot for the request's site, made a :class:`SharedClockSlot` when new."""
        key, slot = super()._get_slot(request)
        if not isinstance(slot, SharedClockSlot):
            slot = SharedClockSlot(slot.concurrency, slot.delay, slot.jitter, clock=host_clock(key))
            slot.downloader = self
            self.slots[key] = slot
        return key, slot


class HostClock:
    """One site's politeness state, shared by every crawler of the process: when a request last
    went out to it, and the longest delay a source of that site asks for."""

    __slots__ = ("delay", "held", "in_flight", "lastseen")

    def __init__(self) -> None:
        self.delay = 0.0
        self.lastseen = 0.0
        self.in_flight = 0
        self.held: dict[int, SharedClockSlot] = {}
        """Slots waiting for the site's request in flight, by id (Scrapy's slots are dataclasses
        compared by value, so no set of them)."""


_CLOCKS: dict[str, HostClock] = {}
_CLOCKS_LOCK = threading.Lock()


def host_clock(key: str) -> HostClock:
    """The process's clock for a download slot key (Scrapy's: the site's host name)."""
    with _CLOCKS_LOCK:
        clock = _CLOCKS.get(key)
        if clock is None:
            clock = _CLOCKS[key] = HostClock()
        return clock


def reset_host_clocks() -> None:
    """Forget every site's clock (a new crawl in the same process starts from scratch)."""
    with _CLOCKS_LOCK:
        _CLOCKS.clear()


class SharedClockSlot(Slot):
    """A download slot whose last-request time and delay are its site's :class:`HostClock`.

    Scrapy's dispatch loop compares ``lastseen`` with :meth:`download_delay` before each request
    and re-checks when its timer fires, so reading the shared time is enough to space the
    requests of several crawlers. The jitter stays each source's but only lengthens the wait
    (up to +50 % by default): Scrapy's ±50 % let two requests come half a delay apart, below
    what the sources file, or the site's own robots.txt ``Crawl-delay``, asks for.
    """

    def __init__(self, concurrency: int, delay: float, jitter: float, *, clock: HostClock) -> None:
        self._clock = clock
        self.downloader: Any = None
        super().__init__(concurrency, delay, jitter)
        clock.delay = max(clock.delay, delay)

    def free_transfer_slots(self) -> int:
        """None while another request to a site with a delay is on its way: the delay runs
        from the end of a request as well as from its dispatch. Spacing dispatches alone let two
        requests reach a site 4 ms apart under a 50 ms delay, whenever a busy process dispatched
        the first and only sent it a reactor turn later, beside the second. This slot is woken
        when that request ends (Scrapy's loop does not look again by itself)."""
        if self._clock.in_flight and self.site_delay() > 0:
            self._clock.held[id(self)] = self
            return 0
        return super().free_transfer_slots()

    def wake(self) -> None:
        downloader = self.downloader
        if downloader is not None and self.queue:
            with contextlib.suppress(Exception):  # a downloader closed meanwhile
                downloader._process_queue(self)

    @property  # type: ignore[override]
    def lastseen(self) -> float:
        return self._clock.lastseen

    @lastseen.setter
    def lastseen(self, value: float) -> None:
        self._clock.lastseen = max(self._clock.lastseen, value)

    def site_delay(self) -> float:
        """The delay this slot's site is kept to: the longest any of its sources (or its
        robots.txt) asks for, before jitter."""
        return max(self.delay, self._clock.delay)

    def download_delay(self) -> float:
        delay = self.site_delay()
        if not delay or not self.jitter:
            return delay
        return delay * (1 + random.uniform(0.0, self.jitter))
