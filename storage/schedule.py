"""When a source may run again: the one home of the due and backoff rules.

The store writes a source's scheduling state after every fetch attempt and the daemon reads it to
place and hold back runs; both ask these functions, so the two can never disagree. They are pure:
a state is the dict :meth:`storage.store.Store.source_states` gives (``next_due`` and
``backoff_until`` as aware UTC datetimes or None), intervals are seconds, and the clock is passed in.

The rules:

- an attempt with a known interval makes the source due again one interval later;
- a success ends any backoff; the n-th failure in a row backs off for interval × 2^(n-1), never
  shorter than the interval and at most 24 h, or longer if the server's ``Retry-After`` asked for
  more (also at most 24 h);
- a source may run at the later of ``next_due`` and ``backoff_until``; one with neither may run now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

MAX_BACKOFF = timedelta(hours=24)
STARTUP_SPREAD = 30.0
"""Seconds over which a restart spreads the first runs of sources that are already due."""

State = Mapping[str, Any]


def next_due_after(attempt: datetime, interval: float | None) -> datetime | None:
    """When a source attempted at ``attempt`` is due again; None when its interval is unknown
    (e.g. a one-off crawl that was given none), so the stored ``next_due`` is left as it is."""
    return None if interval is None else attempt + timedelta(seconds=interval)


def backoff_delay(interval: float, failures: int) -> timedelta:
    """Exponential backoff after ``failures`` failures in a row: interval × 2^(n-1), ≤ 24 h.

    Never shorter than the interval itself, so a flapping source is not polled more often.
    """
    factor = 2 ** min(max(failures - 1, 0), 16)
    return timedelta(seconds=max(interval, min(interval * factor, MAX_BACKOFF.total_seconds())))


def backoff_until(
    failed_at: datetime,
    interval: float | None,
    failures: int,
    retry_after: float | None = None,
) -> datetime | None:
    """The end of the backoff after the ``failures``-th failure in a row at ``failed_at``.

    :func:`backoff_delay` of the interval, or the server's ``Retry-After`` (seconds, capped at
    24 h) when that asks for longer. None when there is neither an interval nor a Retry-After to
    base it on: the stored ``backoff_until`` is then left as it is.
    """
    if interval is None and not retry_after:
        return None
    delay = backoff_delay(interval, failures) if interval is not None else timedelta()
    if retry_after:
        delay = max(delay, timedelta(seconds=min(retry_after, MAX_BACKOFF.total_seconds())))
    return failed_at + delay


def due_at(state: State | None) -> datetime | None:
    """The earliest moment the source may run: the later of ``next_due`` and ``backoff_until``.

    None when it has neither (never attempted, or only without an interval): it may run any time.
    """
    state = state or {}
    times = [t for t in (state.get("next_due"), state.get("backoff_until")) if t is not None]
    return max(times) if times else None


def pending_backoff(state: State | None, now: datetime) -> datetime | None:
    """The end of the source's backoff if it is still running at ``now``, else None.

    A run the interval trigger starts while this is set must wait for it: the trigger knows
    nothing of failures.
    """
    until = (state or {}).get("backoff_until")
    return until if until is not None and until > now else None


def first_run_at(state: State | None, interval: float, now: datetime, slot: int) -> datetime:
    """When a source's first run after a (re)start of the daemon is due.

    One that is overdue runs once, soon: sources are spread by their ``slot`` (their place in
    the sorted config) over up to :data:`STARTUP_SPREAD` seconds, a quarter interval at most, so a
    restart never stampedes every source at once. One not due yet waits for its time; one in
    backoff waits for the end of it.
    """
    spread = timedelta(seconds=min(STARTUP_SPREAD, interval / 4) * (slot % 16) / 16)
    return max(due_at(state) or now, now + spread)


REVISIT_STEPS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=3), timedelta(minutes=30)),
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
)
"""Revisit backoff for ``revisit = "news"`` sources: (age below, interval). Most edits to a news
story land in its first hours (NewsEdits); past a week an article is no longer revisited."""


def next_revisit(first_seen: datetime, checked: datetime) -> datetime | None:
    """When an article first seen at ``first_seen`` and fetched (or revisited) at ``checked``
    should be fetched again: every 30 min in its first 3 h, hourly to a day, every 6 h to a
    week; None once the next visit would fall after a week (revisits stop)."""
    age = checked - first_seen
    for limit, interval in REVISIT_STEPS:
        if age < limit:
            due = checked + interval
            return due if due - first_seen <= REVISIT_STEPS[-1][0] else None
    return None
