"""When an alert rule speaks: digest schedules (``daily 07:30``, ``weekly mon 08:00``,
``every 4h``) and quiet hours (``22:00-07:00``), in the rule's IANA zone. Pure: the clock is an
argument, so tests move time instead of sleeping, and daylight-saving changes are the zone's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = r"([01]?\d|2[0-3]):([0-5]\d)"
_DAILY = re.compile(rf"^daily\s+{_CLOCK}$")
_WEEKLY = re.compile(rf"^weekly\s+([a-z]{{3}})\s+{_CLOCK}$")
_EVERY = re.compile(r"^every\s+(\S+)$")
_QUIET = re.compile(rf"^{_CLOCK}\s*-\s*{_CLOCK}$")
SCHEDULE_HELP = 'use "daily 07:30", "weekly mon 08:00" or "every 4h"'


@dataclass(frozen=True, slots=True)
class Schedule:
    """A digest's times: at a wall-clock time daily or weekly, or every ``every`` seconds."""

    text: str
    at: time | None = None
    weekday: int | None = None
    every: float | None = None

    def next_after(self, after: datetime, zone: str) -> datetime:
        """The first digest time strictly after ``after`` (aware), as aware UTC. A wall time
        that a DST change skips is taken one hour later; a repeated one, the first time."""
        if self.every is not None:
            return (after + timedelta(seconds=self.every)).astimezone(UTC)
        tz = ZoneInfo(zone)
        local = after.astimezone(tz)
        day = local.date()
        for _ in range(9):
            if self.weekday is None or day.weekday() == self.weekday:
                candidate = datetime.combine(day, self.at, tzinfo=tz)
                # Normalise a time that does not exist that day (a DST gap) through UTC.
                candidate = candidate.astimezone(UTC).astimezone(tz)
                if candidate > local:
                    return candidate.astimezone(UTC)
            day += timedelta(days=1)
        raise AssertionError("unreachable: a weekly schedule fires within 8 days")


def parse_schedule(text: str, duration) -> Schedule:
    """``duration`` is the sources file's duration reader (``crawler.config.parse_duration``)."""
    spec = " ".join(text.lower().split())
    if match := _DAILY.match(spec):
        return Schedule(text, at=time(int(match[1]), int(match[2])))
    if match := _WEEKLY.match(spec):
        if match[1] not in DAYS:
            raise ValueError(
                f"unknown day {match[1]!r} in schedule {text!r} (use {', '.join(DAYS)})"
            )
        return Schedule(text, at=time(int(match[2]), int(match[3])), weekday=DAYS.index(match[1]))
    if match := _EVERY.match(spec):
        seconds = duration(match[1])
        if seconds < 60:
            raise ValueError(f"schedule {text!r} is too frequent (at least every 1m)")
        return Schedule(text, every=seconds)
    raise ValueError(f"bad schedule {text!r} ({SCHEDULE_HELP})")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window of local wall time in which instant alerts are held; it may cross midnight."""

    start: time
    end: time

    def contains(self, when: datetime, zone: str) -> bool:
        local = when.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_quiet_hours(text: str) -> QuietHours:
    match = _QUIET.match(text.strip())
    if not match:
        raise ValueError(f'bad quiet_hours {text!r} (use "22:00-07:00", 24-hour local times)')
    start, end = time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))
    if start == end:
        raise ValueError(f"quiet_hours {text!r} is empty: start and end must differ")
    return QuietHours(start, end)
