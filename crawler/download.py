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
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader import Downloader


class PoliteDownloader(Downloader):
    """Scrapy's downloader, with a request counted as transferring when it is dispatched.

    A Scrapy version whose dispatch loop does not go through ``_wait_for_download`` never
    reaches this override; ``tests/test_download.py`` checks that the limit holds with the
    installed version.
    """

    def _wait_for_download(self, slot: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, *args, **kwargs)
