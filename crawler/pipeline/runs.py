"""A source's run as Scrapy sees it: the crawl's context on the crawler, and the run's recorder.

Every source is one Scrapy crawler. The runner attaches a :class:`CrawlContext` (the source, the
crawl's store, the conditional-GET validators) to it before the crawl starts; components reach
the store and the run through the crawler (:func:`context_of`), never through the spider.
:class:`RunRecorder` is a crawler extension that keeps the run's accounting: counts, notes,
failure, the start document's validators. It listens to Scrapy's signals (a dropped item is an
error with its reason) and, like city-scrapers' status extension, notes a run that found nothing
where the source used to publish. The runner builds the :class:`SourceResult` from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scrapy import signals

from crawler import settings
from crawler.config import Source
from storage.store import Store
from storage.types import RunCounts

log = logging.getLogger(__name__)

QUIET_RUNS_LOOKED_AT = 5
"""Earlier successful runs consulted to decide that a source "usually lists" entries."""
_OUTCOME_COUNTERS = {"new": "new", "updated": "updated", "skipped": "skipped", "error": "errors"}


@dataclass(slots=True)
class SourceResult:
    """How one source's run went: what the summary prints and ``crawl_runs`` keeps."""

    source: str
    ok: bool
    counts: RunCounts
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    not_modified: bool = False
    retry_after: float | None = None
    validators: dict[str, str | None] = field(default_factory=dict)
    outcome: str = ""
    """The run's ``crawl_runs.outcome``: ok, failed, timeout (stopped at the crawl's time limit)
    or aborted (interrupted: says nothing about the source)."""

    def __post_init__(self) -> None:
        if not self.outcome:
            self.outcome = "ok" if self.ok else "failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "outcome": self.outcome,
            "not_modified": self.not_modified,
            "error": self.error,
            "warnings": self.warnings,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            **self.counts.as_dict(),
        }


@dataclass(slots=True)
class CrawlContext:
    """What one source's crawler carries for its components."""

    source: Source
    store: Store
    validators: dict[str, str | None] = field(default_factory=dict)
    recorder: RunRecorder | None = None
    stopped: tuple[str, str] | None = None
    """Set when the crawl stopped this run before it finished: (outcome, reason)."""
    finished: Any = None
    """The Deferred of the source's crawl, fired when its crawler is done (either way)."""


def attach(crawler: Any, context: CrawlContext) -> None:
    crawler.newswatch = context


def find_context(crawler: Any) -> CrawlContext | None:
    """The crawl's context, or None for a crawler the runner did not set up (a test's own)."""
    return getattr(crawler, "newswatch", None)


def context_of(crawler: Any) -> CrawlContext:
    context = find_context(crawler)
    if context is None:
        raise RuntimeError("this crawler was not set up by crawler.fetching.runner")
    return context


def recorder_of(crawler: Any) -> RunRecorder:
    recorder = context_of(crawler).recorder
    if recorder is None:
        raise RuntimeError("RunRecorder is not enabled in this crawler's EXTENSIONS")
    return recorder


class RunRecorder:
    """The run's accounting, fed by the spider, the pipeline and Scrapy's signals."""

    def __init__(self, context: CrawlContext) -> None:
        self.context = context
        self.source = context.source.name
        self.counts = RunCounts()
        self.error: str | None = None
        self.warnings: list[str] = []
        self.validators = dict(context.validators)
        self.not_modified = False
        self.retry_after: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunRecorder:
        context = context_of(crawler)
        recorder = context.recorder = cls(context)
        crawler.signals.connect(recorder.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def fail(self, reason: str) -> None:
        """Mark the run as failed; the first reason is the one reported."""
        log.warning("source %s failed: %s", self.source, reason)
        if self.error is None:
            self.error = reason

    def warn(self, reason: str) -> None:
        """A problem with the source as a whole that did not stop the run."""
        self.warnings.append(reason)

    def note(self, reason: str) -> None:
        """Keep the first few article-level reasons for the run log (the rest are only counted)."""
        if len(self.warnings) < settings.MAX_REASONS and reason not in self.warnings:
            self.warnings.append(reason)

    def count_stored(self, outcome: str) -> None:
        """One record's outcome in the store: new, updated, skipped, error or duplicate."""
        name = _OUTCOME_COUNTERS.get(outcome, "duplicates")
        setattr(self.counts, name, getattr(self.counts, name) + 1)

    def item_dropped(self, item: Any, exception: BaseException, **_: Any) -> None:
        """A page the pipeline dropped: an error, unless its exception says it counts as
        skipped (``counts_as``), with its reason among the run's notes."""
        name = getattr(exception, "counts_as", "errors")
        setattr(self.counts, name, getattr(self.counts, name) + 1)
        self.note(str(exception))

    def spider_closed(self, spider: Any, reason: str = "finished") -> None:
        if self.error is None and not self.not_modified and self.counts.entries == 0:
            usual = self.usual_entries()
            if usual:
                self.warn(f"found nothing; this source usually lists {usual} entries")

    def usual_entries(self) -> int:
        """The fewest entries of the source's last successful runs that listed any (0: none)."""
        try:
            runs = self.context.store.recent_runs(
                limit=4 * QUIET_RUNS_LOOKED_AT, source=self.source
            )
        except Exception:  # the store being unusable is reported elsewhere; this is a note
            return 0
        seen = [
            int((run.get("counts") or {}).get("entries") or 0)
            for run in runs
            if run.get("outcome") == "ok"
        ][:QUIET_RUNS_LOOKED_AT]
        return min(seen) if len(seen) >= 2 and min(seen) > 0 else 0

    def result(self, stats: dict[str, Any], started: datetime) -> SourceResult:
        self.counts.errors += int(stats.get("spider_exceptions/count", 0))
        error = self.error
        reason = stats.get("finish_reason")
        outcome = ""
        if self.context.stopped is not None:
            outcome, error = self.context.stopped
        elif error is None and reason not in (None, "finished"):
            error = f"crawl stopped: {reason}"
        return SourceResult(
            self.source,
            error is None,
            self.counts,
            error,
            self.warnings,
            started,
            datetime.now(UTC),
            not_modified=self.not_modified,
            retry_after=self.retry_after,
            validators=self.validators,
            outcome=outcome,
        )
