"""A long-lived crawl process: batches of sources in, one line of results out per batch.

A cluster worker used to start a ``newswatch crawl`` process for every job: about a second of
CPU (imports, database engine, Scrapy, the reactor) to poll a few unchanged feeds in
milliseconds, which capped a worker at a few polls a second. This process is started once per
worker and keeps its reactor, its database engine, its extraction workers and each site's
politeness clock between batches; each batch is still every source's own crawler, its own
``crawl_runs`` row and its own time limit. The worker keeps the process boundary (a crash,
a leak or a hung batch kills this process, not the worker) and replaces the process after it
has served many batches or grown too big.

Protocol, one JSON object per line: stdin ``{"batch": N, "sources": [...], "run_timeout": S}``;
stdout ``{"batch": N, "results": [...]}`` with each source's ``crawl --format json`` record.
Closing stdin ends the process once its batches are done; SIGTERM/SIGINT end it at once, the
unfinished runs ``aborted`` and reported. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.config import Config, ConfigError, Source, load_config
from crawler.fetching.middlewares import forget_robots
from crawler.fetching.runner import (
    CrawlSettings,
    begin_source,
    cache_component_checks,
    quiet_extensions_base,
    record_source,
)
from crawler.fetching.stopping import HARD_STOP_AFTER, RunStopper
from crawler.pipeline.runs import SourceResult, context_of
from crawler.pipeline.workers import shutdown_shared_pool
from crawler.settings import near_dup_threshold, scrapy_settings
from storage.store import Store
from storage.types import RunCounts

log = logging.getLogger("newswatch.service")


@dataclass
class Batch:
    """One job's sources, crawled together; reported once, when all end or at its limit."""

    number: int
    runs: list[tuple[Source, Any, int]] = field(default_factory=list)
    failed: list[SourceResult] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    timer: Any = None
    reported: bool = False


class CrawlService:
    """The reactor side: starts each batch's crawlers and reports the batch when it ends."""

    def __init__(self, config_path: Path, db_url: str, out: Any = None) -> None:
        from scrapy.crawler import CrawlerProcess
        from scrapy.utils.reactor import install_reactor

        self.config_path = config_path
        self.out = out or sys.stdout
        self.store = Store(db_url, near_dup_threshold=near_dup_threshold())
        settings = scrapy_settings(
            LOG_INSTALL_ROOT_HANDLER=False, EXTENSIONS_BASE=quiet_extensions_base()
        )
        self.process = CrawlerProcess(CrawlSettings(settings))
        # Scrapy installs the reactor with the first crawler; the batches come later, so the
        # reactor that runs (and the stdin thread's callFromThread) must be the configured one.
        full = self.process.settings
        install_reactor(full["TWISTED_REACTOR"], full.get("ASYNCIO_EVENT_LOOP"))
        cache_component_checks()
        self.batches: dict[int, Batch] = {}
        self.closing = False
        self.host = socket.gethostname()
        self.worker = os.getppid()
        self._config: Config | None = None
        self._config_stamp: tuple[int, int] | None = None

    # ------------------------------------------------------------------ batches

    def config(self) -> Config:
        """The sources file, read again when it changed (a worker's edit reaches the next job)."""
        stat = self.config_path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._config is None or stamp != self._config_stamp:
            self._config = load_config(self.config_path)
            self._config_stamp = stamp
        return self._config

    def start(self, message: dict[str, Any]) -> None:
        """Begin a batch (in the reactor's thread); a bad one is reported failed, never raised."""
        number = int(message.get("batch", 0))
        batch = Batch(number)
        self.batches[number] = batch
        names = [str(n) for n in message.get("sources") or []]
        try:
            by_name = {s.name: s for s in self.config().sources}
        except (ConfigError, OSError) as exc:
            batch.failed = [self._failed(n, f"config error: {exc}") for n in names]
            self.report(batch)
            return
        chosen = [by_name[n] for n in dict.fromkeys(names) if n in by_name]
        batch.failed = [
            self._failed(n, "not in this worker's sources file") for n in names if n not in by_name
        ]
        try:
            self.store.sync_sources([s.info() for s in chosen])
            states = self.store.source_states()
            forget_robots()
            for source in chosen:
                batch.runs.append(
                    begin_source(
                        self.process, self.store, states, source, host=self.host, worker=self.worker
                    )
                )
        except Exception as exc:  # the database went away: say so for every source not begun
            log.exception("batch %d could not start", number)
            begun = {s.name for s, _, _ in batch.runs}
            batch.failed += [self._failed(s.name, str(exc)) for s in chosen if s.name not in begun]
        if not batch.runs:
            self.report(batch)
            return
        from twisted.internet import defer, reactor

        finished = [
            context_of(crawler).finished.addErrback(_log_failure, source.name)
            for source, crawler, _ in batch.runs
        ]
        defer.DeferredList(finished, consumeErrors=True).addBoth(lambda _: self.report(batch))
        timeout = float(message.get("run_timeout") or 0)
        if timeout > 0:
            batch.timer = reactor.callLater(timeout, self.time_limit, batch, timeout)

    def time_limit(self, batch: Batch, timeout: float) -> None:
        """Stop the batch's crawlers; report it :data:`HARD_STOP_AFTER` seconds later at the
        latest (a crawler stuck waiting on a site's delay must not hold the job)."""
        from twisted.internet import reactor

        batch.timer = None
        for _, crawler, _ in batch.runs:
            context = context_of(crawler)
            if context.stopped is None and crawler.crawling:
                context.stopped = ("timeout", f"stopped at its time limit ({timeout:g} s)")
                crawler.stop()
        reactor.callLater(HARD_STOP_AFTER, self.report, batch)

    def report(self, batch: Batch) -> None:
        """Record every run of the batch and write its line; once per batch."""
        if batch.reported:
            return
        batch.reported = True
        if batch.timer is not None and batch.timer.active():
            batch.timer.cancel()
        self.batches.pop(batch.number, None)
        results = list(batch.failed)
        for failed in batch.failed:  # status shows why (a sources file that differs, say)
            try:
                self.store.record_source_result(failed.source, False, failed.error)
            except Exception:
                log.exception("source %s: could not record its failure", failed.source)
        for source, crawler, run_id in batch.runs:
            try:
                results.append(record_source(self.store, source, crawler, run_id, batch.started))
            except Exception as exc:
                log.exception("source %s: could not record its run", source.name)
                results.append(self._failed(source.name, f"could not record its run: {exc}"))
        line = json.dumps({"batch": batch.number, "results": [r.as_dict() for r in results]})
        try:
            self.out.write(line + "\n")
            self.out.flush()
        except (OSError, ValueError):  # the worker is gone; the runs are recorded all the same
            pass
        if self.closing and not self.batches:
            self.stop_reactor()

    def _failed(self, name: str, error: str) -> SourceResult:
        now = datetime.now(UTC)
        return SourceResult(name, False, RunCounts(), error, [], now, now)

    # ------------------------------------------------------------------ ending

    def close(self) -> None:
        """Stdin closed: end when the batches in flight are reported."""
        self.closing = True
        if not self.batches:
            self.stop_reactor()

    @staticmethod
    def stop_reactor() -> None:
        from twisted.internet import reactor

        with contextlib.suppress(Exception):
            reactor.stop()

    def report_the_rest(self) -> None:
        """After the reactor: every batch not reported yet (a signal, a hard stop)."""
        for batch in list(self.batches.values()):
            self.report(batch)


class _ServiceStopper(RunStopper):
    """A signal stops every batch (runs ``aborted``) and, once they are reported, the reactor."""

    def __init__(self, service: CrawlService) -> None:
        super().__init__(service.process, None, lambda message: log.warning(message))
        self.service = service

    def interrupted(self, signum: int, count: int) -> None:
        self.service.closing = True
        super().interrupted(signum, count)
        if not self.process.crawlers:
            self.service.report_the_rest()
            self.service.stop_reactor()


def _log_failure(failure: Any, name: str) -> None:
    log.error("source %s: its crawler failed: %s", name, failure.getErrorMessage())


def _read_stdin(service: CrawlService) -> None:
    """The batches, read in a thread and handed to the reactor; end of input closes."""
    from twisted.internet import reactor

    for raw in sys.stdin:
        raw = raw.strip()
        if not raw:
            continue
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            log.error("not a batch (ignored): %.200s", raw)
            continue
        reactor.callFromThread(service.start, message)
    reactor.callFromThread(service.close)


def main(argv: list[str] | None = None) -> int:
    from crawler.processes import die_with_parent

    parser = argparse.ArgumentParser(prog="python -m crawler.fetching.service")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--db", required=True)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if not die_with_parent():
        return 1
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but result lines on the protocol's pipe
    service = CrawlService(args.config, args.db, out)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(args.log_level.upper())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # after Scrapy's own logging set-up, which the process's creation runs
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler], force=True)
    stopper = _ServiceStopper(service)
    previous = stopper.install((signal.SIGINT, signal.SIGTERM))
    # Every batch builds thousands of objects per source (crawlers, middlewares, signals)
    # next to a heap that only grows: with the default thresholds the collector ran so
    # often over it that it took a fifth of the CPU. The start-up's objects are frozen
    # out of its reach, and young objects are collected in bigger rounds.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    threading.Thread(target=_read_stdin, args=(service,), daemon=True).start()
    try:
        service.process.start(stop_after_crawl=False, install_signal_handlers=False)
    finally:
        stopper.uninstall(previous)
        stopper.after_reactor()
        service.report_the_rest()
        shutdown_shared_pool()
        service.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
