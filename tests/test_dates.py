"""Tests for lenient Spanish/English date parsing and time-zone attachment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.articles.dates import parse_date

HMO = ZoneInfo("America/Hermosillo")
CDMX = ZoneInfo("America/Mexico_City")
TIJ = ZoneInfo("America/Tijuana")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-12-11T09:15:00Z", utc(2025, 12, 11, 9, 15)),
        ("2025-12-11T09:15:00-06:00", utc(2025, 12, 11, 15, 15)),
        ("2025-12-11T09:15:00.000+0000", utc(2025, 12, 11, 9, 15)),
        ("2025-12-11t09:15:00z", utc(2025, 12, 11, 9, 15)),
        ("Thu, 11 Dec 2025 10:30:00 -0600", utc(2025, 12, 11, 16, 30)),
        ("Thu, 11 Dec 2025 10:30:00 GMT", utc(2025, 12, 11, 10, 30)),
        ("December 11, 2025 at 3:04 pm EST", utc(2025, 12, 11, 20, 4)),
    ],
)
def test_explicit_offsets_win_over_tz(value: str, expected: datetime) -> None:
    parsed = parse_date(value, HMO)
    assert parsed == expected


@pytest.mark.parametrize(
    ("value", "local"),
    [
        ("11 de diciembre de 2025", datetime(2025, 12, 11)),
        ("jueves 11 de diciembre de 2025, 10:30 hrs", datetime(2025, 12, 11, 10, 30)),
        ("Jueves, 11 de Diciembre de 2025 - 10:30 h", datetime(2025, 12, 11, 10, 30)),
        ("Miércoles 9 de julio del 2025 | 08:45", datetime(2025, 7, 9, 8, 45)),
        ("11/12/2025 10:30", datetime(2025, 12, 11, 10, 30)),
        ("11 dic. 2025", datetime(2025, 12, 11)),
        ("5 sept. 2025 10:15 p.m.", datetime(2025, 9, 5, 22, 15)),
        ("5 de septiembre de 2025 a las 10:15 p. m.", datetime(2025, 9, 5, 22, 15)),
        ("sábado, 13 de diciembre de 2025 10:00 a. m.", datetime(2025, 12, 13, 10, 0)),
        ("Dec 11, 2025 3:04 PM", datetime(2025, 12, 11, 15, 4)),
        ("Publicado: 11.12.2025", datetime(2025, 12, 11)),
        ("2025/12/11 10:00", datetime(2025, 12, 11, 10, 0)),
        ("2025-12-11", datetime(2025, 12, 11)),
    ],
)
def test_naive_forms_are_local_time_in_tz(value: str, local: datetime) -> None:
    parsed = parse_date(value, HMO)
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed.replace(tzinfo=None) == local
    assert parsed.utcoffset() == timedelta(hours=-7)


def test_dayfirst_false_reads_us_order() -> None:
    parsed = parse_date("11/12/2025", UTC, dayfirst=False)
    assert parsed == utc(2025, 11, 12)


def test_iso_date_is_never_read_day_first() -> None:
    assert parse_date("2025-03-04 10:00", UTC) == utc(2025, 3, 4, 10)


@pytest.mark.parametrize(
    ("zone", "hours"),
    [(HMO, -7), (CDMX, -6), (TIJ, -7)],
)
def test_july_offsets_by_zone(zone: ZoneInfo, hours: int) -> None:
    parsed = parse_date("2025-07-15T08:30:00", zone)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("zone", "hours"),
    [(HMO, -7), (CDMX, -6), (TIJ, -8)],
)
def test_december_offsets_by_zone(zone: ZoneInfo, hours: int) -> None:
    parsed = parse_date("11 de diciembre de 2025, 10:30", zone)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=hours)


def test_naive_without_tz_is_utc() -> None:
    assert parse_date("2025-07-15 08:30") == utc(2025, 7, 15, 8, 30)


def test_rfc822_minus_zero_means_unknown_zone() -> None:
    parsed = parse_date("Tue, 15 Jul 2025 08:30:00 -0000", HMO)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=-7)


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "junk",
        "hace 3 horas",
        "11 de diciembre",
        "1985-01-01",
        "3000-01-01T00:00:00Z",
        "99/99/9999",
        "x" * 500,
        "31 de febrero de 2025",
    ],
)
def test_junk_returns_none(junk: str) -> None:
    assert parse_date(junk, HMO) is None


def test_non_string_returns_none() -> None:
    assert parse_date(None) is None  # type: ignore[arg-type]
    assert parse_date(20251211) is None  # type: ignore[arg-type]
