"""Ending a crawl on time and on signals, whatever it is waiting on.

Scrapy's own ways out are graceful only: ``CLOSESPIDER_TIMEOUT`` and its first-Ctrl-C handler
close each spider, and closing waits for every request the engine holds, one still downloading
(up to its download timeout) or one waiting for its site's delay (``delay = 3600`` never ends);
even ``reactor.stop()`` runs Scrapy's shutdown trigger, which waits the same way. So a run with a
30 s download timeout overran a 5 s limit by 26 s. Here a stop is graceful first (spiders close,
in-flight downloads are cut at a time limit), and :data:`HARD_STOP_AFTER` seconds later the
reactor is stopped outright, after each source's batched articles are written.

The runs still going when the crawl stops are marked on their :class:`CrawlContext`: ``timeout``
at the time limit, ``aborted`` on SIGINT/SIGTERM (the runner records no success or failure for
an aborted source: nothing was learnt about it).
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable, Iterable
from typing import Any

from crawler.pipeline.runs import context_of

log = logging.getLogger(__name__)

HARD_STOP_AFTER = 3.0
"""Seconds a graceful stop may take before the reactor is stopped outright."""


class RunStopper:
    """Arms the crawl's time limit and replaces Scrapy's signal handlers while the reactor runs.

    First SIGINT: graceful stop, and a notice of what it waits for (Ctrl-C again stops now).
    SIGTERM (the daemon, a service manager, the death of the daemon): graceful stop with the
    hard stop :data:`HARD_STOP_AFTER` seconds later. A second signal: hard stop at once.
    """

    def __init__(
        self, process: Any, run_timeout: float | None, notice: Callable[[str], None]
    ) -> None:
        self.process = process
        self.run_timeout = run_timeout
        self.notice = notice
        self.signals = 0
        self.hard = False

    # ------------------------------------------------------------------ arming

    def install(self, signums: Iterable[int]) -> dict[int, Any]:
        """Take over the signals and arm the time limit; returns the previous handlers."""
        from twisted.internet import reactor

        previous = {signum: signal.signal(signum, self._on_signal) for signum in signums}
        if self.run_timeout:
            reactor.callLater(self.run_timeout, self.time_limit)
        return previous

    @staticmethod
    def uninstall(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        # Nothing but counting here: the work (and any logging) runs in the reactor's thread.
        from twisted.internet import reactor

        self.signals += 1
        reactor.callFromThread(self.interrupted, signum, self.signals)

    # ------------------------------------------------------------------ the stops

    def time_limit(self) -> None:
        limit = f"{self.run_timeout:g}"
        if not self._mark("timeout", f"stopped at its time limit ({limit} s)"):
            return
        self._graceful(cut_downloads=True)
        self._say(f"stopping: the crawl reached its time limit ({limit} s)")

    def interrupted(self, signum: int, count: int) -> None:
        name = signal.Signals(signum).name
        if count > 1:
            self.hard_stop()
            self._say(f"stopping now ({name} again)")
            return
        self._mark("aborted", f"interrupted ({name}) before it finished")
        if signum == signal.SIGINT:
            waiting = self.in_flight()
            self._graceful(cut_downloads=False)
            self._say(
                f"stopping: waiting for {waiting} request{'s' if waiting != 1 else ''} in flight;"
                " Ctrl-C again to stop now"
            )
        else:
            self._graceful(cut_downloads=True)
            self._say(f"stopping ({name})")

    def _say(self, message: str) -> None:
        """Tell the user, after the stop is under way: the terminal or the daemon reading our
        stderr may be gone (a dead daemon's pipe), and that must not keep the crawl running."""
        with contextlib.suppress(Exception):
            self.notice(message)

    def _mark(self, outcome: str, reason: str) -> bool:
        """Mark every run still going as stopped; False when none is (the crawl is ending)."""
        running = list(self.process.crawlers)
        for crawler in running:
            context = context_of(crawler)
            if context.stopped is None:
                context.stopped = (outcome, reason)
        return bool(running)

    def in_flight(self) -> int:
        total = 0
        for crawler in list(self.process.crawlers):
            engine = getattr(crawler, "engine", None)
            downloader = getattr(engine, "downloader", None)
            total += len(getattr(downloader, "active", ()))
        return total

    def _graceful(self, cut_downloads: bool) -> None:
        from twisted.internet import reactor

        self.process.stop()
        if cut_downloads:
            reactor.callLater(HARD_STOP_AFTER, self.hard_stop)
            _abort_connections()

    def hard_stop(self) -> None:
        """Write what each source has batched, then stop the reactor without waiting for Scrapy."""
        from twisted.internet import reactor

        if self.hard or not self.process.crawlers:
            return
        self.hard = True
        for crawler in list(self.process.crawlers):
            _flush_pipelines(crawler)
        log.info("crawl stopped without waiting for its requests")
        reactor.crash()

    def after_reactor(self) -> None:
        """After a hard stop the reactor's shutdown never ran: stop its thread pool, whose
        threads would otherwise keep the interpreter from exiting."""
        from twisted.internet import reactor

        if self.hard and getattr(reactor, "threadpool", None) is not None:
            with contextlib.suppress(Exception):
                reactor.threadpool.stop()


def _abort_connections() -> None:
    """Cut every download in flight: its request fails at once instead of at its timeout."""
    from twisted.internet import reactor, tcp

    for selectable in {*reactor.getReaders(), *reactor.getWriters()}:
        if isinstance(selectable, tcp.Client):
            with contextlib.suppress(Exception):
                selectable.abortConnection()


def _flush_pipelines(crawler: Any) -> None:
    scraper = getattr(getattr(crawler, "engine", None), "scraper", None)
    for pipeline in getattr(getattr(scraper, "itemproc", None), "middlewares", ()):
        flush = getattr(pipeline, "flush", None)
        if callable(flush):
            try:
                flush()
            except Exception:  # the run is being stopped; its store errors are counted there
                log.exception("could not write a batch while stopping")
