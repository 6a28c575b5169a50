"""Run one Scrapy crawl over a set of sources and record each source's run.

All selected sources share one reactor (one :class:`CrawlerProcess`), each with its own crawler so
its settings (concurrency, headers) apply to it alone; the download delay is kept per host across
all of them (``crawler.fetching.politeness``). A reactor cannot be restarted, so this is called once per
process: ``newswatch crawl`` and the daemon's child runs.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess, CrawlerRunner
from scrapy.settings import Settings

from crawler.config import Source
from crawler.fetching.middlewares import reset_robots
from crawler.fetching.politeness import reset_host_clocks
from crawler.fetching.spiders import spider_for
from crawler.fetching.stopping import RunStopper
from crawler.pipeline.runs import CrawlContext, SourceResult, attach, context_of
from crawler.pipeline.workers import shared_pool, shutdown_shared_pool
from crawler.settings import MAX_REASONS, near_dup_threshold, scrapy_settings
from storage.store import Store
from storage.types import RunCounts

log = logging.getLogger(__name__)

ProgressHook = Callable[[str, RunCounts], None]
NoticeHook = Callable[[str], None]

QUIET_EXTENSIONS = frozenset(
    {
        "scrapy.extensions.remote_control.RemoteControl",
        "scrapy.extensions.logstats.LogStats",
        "scrapy.extensions.telnet.TelnetConsole",
        "scrapy.extensions.memusage.MemoryUsage",
    }
)
"""Per-crawler extensions a batch crawl has no use for: each costs set-up time for every source,
and RemoteControl would open a listening port per source."""


def quiet_extensions_base() -> dict[str, int]:
    """Scrapy's ``EXTENSIONS_BASE`` without :data:`QUIET_EXTENSIONS`.

    Disabling them in ``EXTENSIONS`` (value None) would still import each class, because Scrapy
    loads every path listed in either dict to merge them: RemoteControl's import pulls in
    aiohttp, ~0.2 s of CPU and some memory per crawl process for an extension that never runs.
    """
    from scrapy.settings import default_settings

    return {k: v for k, v in default_settings.EXTENSIONS_BASE.items() if k not in QUIET_EXTENSIONS}


class CrawlSettings(Settings):
    """Scrapy settings copied by a pickle round trip.

    Every crawler (one per source) starts from ``settings.copy()``, which Scrapy does with
    ``copy.deepcopy`` of ~200 settings: 1.8 ms per crawler, 0.9 s of CPU in a 500-feed poll (a
    cProfile of that poll put a fifth of its time under ``deepcopy``). Pickling gives the same
    deep copy in 0.35 ms; a value that cannot be pickled falls back to the deep copy.
    """

    def copy(self) -> Settings:
        try:
            return pickle.loads(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError):
            return super().copy()


def cache_component_checks() -> None:
    """Remember Scrapy's "does this component method still take ``spider``?" check per method.

    Scrapy 2.19 asks it of every method of every middleware, extension and pipeline of every
    crawler, building an ``inspect.Signature`` each time: ~31 calls and ~1.1 ms of CPU per
    source. The answer depends only on the function a bound method wraps, so it is kept per
    function; anything else (a partial, a plain callable) is asked as before.
    """
    import scrapy.core.engine
    import scrapy.middleware
    from scrapy.utils.deprecate import argument_is_required

    if getattr(scrapy.middleware.argument_is_required, "cached", False):
        return
    answers: dict[tuple[Any, str], bool] = {}

    def cached(func: Any, arg_name: str) -> bool:
        target = getattr(func, "__func__", None)
        if target is None or getattr(func, "__self__", None) is None:
            return argument_is_required(func, arg_name)
        key = (target, arg_name)
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = argument_is_required(func, arg_name)
        return answer

    cached.cached = True  # type: ignore[attr-defined]
    scrapy.middleware.argument_is_required = cached  # type: ignore[attr-defined]
    scrapy.core.engine.argument_is_required = cached  # type: ignore[attr-defined]


def warm_pool_first(sources: Sequence[Source], states: dict[str, dict[str, Any]]) -> bool:
    """Whether to start the extraction workers before anything is fetched: when a source has
    never been crawled, its first run takes its whole feed, sitemap or section pages (hundreds
    of articles), so the workers' start-up (~0.35 s of CPU each) had better overlap the crawl
    process's own, which leaves the other core idle for a second or two. Later polls find a
    handful of new articles and start the pool only if they need it; so does a source whose
    first attempt failed (it is not charged for workers on every retry)."""
    return any(states.get(source.name, {}).get("last_attempt") is None for source in sources)


def _spider_class(source: Source) -> type:
    """A per-source subclass whose ``custom_settings`` carry that source's politeness and headers.

    Source ``headers`` are merged over the global default headers (Scrapy replaces the whole
    dict otherwise); a ``User-Agent`` among them replaces ours, since Scrapy's user-agent
    middleware would otherwise set its own first.
    """
    base = spider_for(source.kind)
    custom: dict[str, Any] = {
        "DOWNLOAD_DELAY": source.delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency,
        "ITEM_PIPELINES": {"crawler.pipeline.pipelines.StorePipeline": 300},
        "EXTENSIONS": {"crawler.pipeline.runs.RunRecorder": 0},
    }
    if source.headers:
        extra = source.header_dict
        user_agent = next((v for k, v in extra.items() if k.lower() == "user-agent"), None)
        if user_agent:
            custom["USER_AGENT"] = user_agent
        defaults = scrapy_settings()["DEFAULT_REQUEST_HEADERS"]
        custom["DEFAULT_REQUEST_HEADERS"] = {
            **defaults,
            **{k: v for k, v in extra.items() if k.lower() != "user-agent"},
        }
    return type(base.__name__, (base,), {"custom_settings": custom})


def run_crawl(
    sources: Sequence[Source],
    db_url: str,
    *,
    on_progress: ProgressHook | None = None,
    settings: dict[str, Any] | None = None,
    run_timeout: float | None = None,
    on_notice: NoticeHook | None = None,
) -> list[SourceResult]:
    """Crawl ``sources`` now, store what they yield, record one run per source; blocks until done.

    ``run_timeout`` ends the crawl that many seconds after it starts, whatever it is waiting on
    (:class:`~crawler.fetching.stopping.RunStopper`); runs still going are recorded as
    ``timeout``. SIGINT/SIGTERM end it too, its unfinished runs ``aborted``: nothing about the
    source was learnt, so neither a success nor a failure is recorded for it. ``on_notice``
    receives the one-line messages meant for the person at the terminal.
    """
    store = Store(db_url, near_dup_threshold=near_dup_threshold())
    store.sync_sources([s.info() for s in sources])
    overrides = dict(settings or {})
    overrides.setdefault("LOG_INSTALL_ROOT_HANDLER", False)
    overrides.setdefault("EXTENSIONS_BASE", quiet_extensions_base())
    states = store.source_states()
    reset_host_clocks()
    reset_robots()
    cache_component_checks()
    if warm_pool_first(sources, states):
        shared_pool().start()
    process = CrawlerProcess(CrawlSettings(scrapy_settings(**overrides)))
    started = datetime.now(UTC)
    runs = [begin_source(process, store, states, source, on_progress) for source in sources]
    stopper = RunStopper(process, run_timeout, on_notice or (lambda message: log.warning(message)))
    previous = stopper.install((signal.SIGINT, signal.SIGTERM))
    try:
        process.start(install_signal_handlers=False)
    finally:
        stopper.uninstall(previous)
        stopper.after_reactor()
        shutdown_shared_pool()
    results = [record_source(store, s, crawler, run_id, started) for s, crawler, run_id in runs]
    store.close()
    return results


def begin_source(
    process: CrawlerRunner,
    store: Store,
    states: dict[str, dict[str, Any]],
    source: Source,
    on_progress: ProgressHook | None = None,
    **run_fields: Any,
) -> tuple[Source, Crawler, int]:
    """Record the source's run as started and schedule its crawler on ``process``' reactor;
    ``run_fields`` are more columns of the run (a cluster worker's host and pid)."""
    crawler = process.create_crawler(_spider_class(source))
    if on_progress is not None:
        _watch(crawler, source, on_progress)
    run_id = store.start_run(source.name, os.getpid(), **run_fields)
    state = states.get(source.name, {})
    validators = {"etag": state.get("etag"), "last_modified": state.get("last_modified")}
    context = CrawlContext(source, store, validators)
    attach(crawler, context)
    context.finished = process.crawl(crawler, source=source)
    return source, crawler, run_id


def record_source(store: Store, source: Source, crawler: Crawler, run_id: int, started: datetime):
    """Finish the source's run. An aborted run changes nothing in the source's schedule (no
    last success, no failure, next due as it was): the crawl was stopped, not the source."""
    result = _result(source, crawler, started)
    store.finish_run(
        run_id,
        result.outcome,
        {**result.counts.as_dict(), "warnings": result.warnings[:MAX_REASONS]},
        result.error,
    )
    if result.outcome == "aborted":
        return result
    fresh = result.ok and not result.not_modified
    store.record_source_result(
        source.name,
        result.ok,
        result.error,
        etag=(result.validators.get("etag") or "") if fresh else None,
        last_modified=(result.validators.get("last_modified") or "") if fresh else None,
        interval=source.interval,
        retry_after=result.retry_after,
    )
    return result


def _result(source: Source, crawler: Crawler, started: datetime) -> SourceResult:
    context = context_of(crawler)
    recorder = context.recorder
    if recorder is None or crawler.spider is None:
        outcome, error = context.stopped or ("failed", "spider did not start")
        return SourceResult(
            source.name, False, RunCounts(), error, [], started, datetime.now(UTC), outcome=outcome
        )
    return recorder.result(crawler.stats.get_stats() if crawler.stats else {}, started)


def _watch(crawler: Crawler, source: Source, hook: ProgressHook) -> None:
    """Report the source's counters whenever a response arrives or an item is stored."""

    def changed(*_: Any, **__: Any) -> None:
        recorder = context_of(crawler).recorder
        if recorder is not None:
            hook(source.name, recorder.counts)

    for sig in (signals.response_received, signals.item_scraped, signals.spider_closed):
        crawler.signals.connect(changed, signal=sig, weak=False)
