"""The due and backoff rules of storage.schedule, with a fixed clock and no database or daemon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.schedule import (
    MAX_BACKOFF,
    STARTUP_SPREAD,
    backoff_delay,
    backoff_until,
    due_at,
    first_run_at,
    next_due_after,
    pending_backoff,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOUR = 3600.0


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def state(next_due: float | None = None, backoff: float | None = None) -> dict:
    """A source state as Store.source_states gives it, times in minutes from NOW."""
    return {
        "next_due": None if next_due is None else at(next_due),
        "backoff_until": None if backoff is None else at(backoff),
    }


def test_next_due_is_one_interval_after_the_attempt() -> None:
    assert next_due_after(NOW, HOUR) == at(60)
    assert next_due_after(NOW, None) is None


@pytest.mark.parametrize(
    ("interval", "failures", "expected"),
    [
        (HOUR, 0, timedelta(hours=1)),
        (HOUR, 1, timedelta(hours=1)),
        (HOUR, 2, timedelta(hours=2)),
        (HOUR, 3, timedelta(hours=4)),
        (HOUR, 5, timedelta(hours=16)),
        (HOUR, 6, MAX_BACKOFF),
        (600, 1, timedelta(minutes=10)),
        (600, 50, MAX_BACKOFF),
        (600, 10_000, MAX_BACKOFF),
        (48 * HOUR, 3, timedelta(hours=48)),  # never shorter than the interval
    ],
)
def test_backoff_doubles_per_failure_up_to_a_day(interval, failures, expected) -> None:
    assert backoff_delay(interval, failures) == expected


@pytest.mark.parametrize(
    ("interval", "failures", "retry_after", "expected"),
    [
        (HOUR, 1, None, at(60)),
        (HOUR, 3, None, at(240)),
        (HOUR, 3, 60.0, at(240)),  # Retry-After shorter than the backoff: the backoff wins
        (HOUR, 1, 3 * HOUR, at(180)),  # longer: the server's wish wins
        (HOUR, 1, 100 * HOUR, NOW + MAX_BACKOFF),  # but not beyond a day
        (None, 2, 90.0, at(1.5)),  # no interval: Retry-After alone
        (None, 2, None, None),  # nothing to base a backoff on
        (None, 2, 0.0, None),
    ],
)
def test_backoff_until(interval, failures, retry_after, expected) -> None:
    assert backoff_until(NOW, interval, failures, retry_after) == expected


@pytest.mark.parametrize(
    ("source_state", "expected"),
    [
        (None, None),  # never run
        ({}, None),
        (state(), None),  # run without an interval
        (state(next_due=30), at(30)),
        (state(next_due=-30), at(-30)),
        (state(next_due=30, backoff=90), at(90)),  # backoff outlasts the interval
        (state(next_due=90, backoff=30), at(90)),
        (state(backoff=-5), at(-5)),
    ],
)
def test_due_at_is_the_later_of_next_due_and_backoff(source_state, expected) -> None:
    assert due_at(source_state) == expected


@pytest.mark.parametrize(
    ("source_state", "expected"),
    [
        (None, None),
        (state(next_due=30), None),  # not due yet, but no backoff to hold it
        (state(backoff=30), at(30)),
        (state(backoff=0), None),  # ends exactly now: over
        (state(backoff=-30), None),
    ],
)
def test_pending_backoff_only_while_it_lasts(source_state, expected) -> None:
    assert pending_backoff(source_state, NOW) == expected


def spread(slot: int, interval: float = HOUR) -> timedelta:
    return timedelta(seconds=min(STARTUP_SPREAD, interval / 4) * (slot % 16) / 16)


@pytest.mark.parametrize(
    ("source_state", "slot", "expected"),
    [
        (None, 0, NOW),  # never run: now
        (None, 8, NOW + spread(8)),  # ... spread by slot
        (None, 24, NOW + spread(8)),  # slots wrap every 16
        (state(next_due=-30), 5, NOW + spread(5)),  # overdue: soon, spread
        (state(next_due=30), 5, at(30)),  # not due yet: at its time
        (state(next_due=-30, backoff=45), 3, at(45)),  # in backoff: at its end
        (state(next_due=30, backoff=-30), 3, at(30)),  # backoff over, interval not
    ],
)
def test_first_run_after_a_restart(source_state, slot, expected) -> None:
    assert first_run_at(source_state, HOUR, NOW, slot) == expected


def test_startup_spread_is_at_most_a_quarter_interval() -> None:
    assert first_run_at(None, 40.0, NOW, 15) == NOW + timedelta(seconds=10 * 15 / 16)
    assert first_run_at(None, HOUR, NOW, 15) == NOW + timedelta(seconds=STARTUP_SPREAD * 15 / 16)


def test_a_failure_streak_from_the_stores_point_of_view() -> None:
    """Consecutive failures of an hourly source: due again each hour, but held ever longer."""
    held = []
    for failures in range(1, 8):
        source_state = {
            "next_due": next_due_after(NOW, HOUR),
            "backoff_until": backoff_until(NOW, HOUR, failures),
        }
        held.append(due_at(source_state) - NOW)
    hours = [h / timedelta(hours=1) for h in held]
    assert hours == [1, 2, 4, 8, 16, 24, 24]
