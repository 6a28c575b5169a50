"""The one date module: every form a source prints, zones, day order, and one answer everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crawler.articles.dates import dayfirst_for, in_zone, lacks_day, parse_date
from crawler.documents.feeds import parse_feed
from crawler.documents.sitemaps import parse_sitemap

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


# ---------------------------------------------------------------------------- every form, by zone

SPANISH_FORMS = [
    ("19 de noviembre de 2026", datetime(2026, 11, 19)),
    ("jueves 11 de diciembre de 2025, 10:30 hrs", datetime(2025, 12, 11, 10, 30)),
    ("11/12/2025", datetime(2025, 12, 11)),
    ("11.12.2025", datetime(2025, 12, 11)),
    ("11-12-2025 10:30", datetime(2025, 12, 11, 10, 30)),
    ("dic. 11, 2025", datetime(2025, 12, 11)),
    ("11 dic 2025 10:30 a. m.", datetime(2025, 12, 11, 10, 30)),
    ("11 dic 2025 10:30 p. m.", datetime(2025, 12, 11, 22, 30)),
    ("December 11, 2025 10:30 AM", datetime(2025, 12, 11, 10, 30)),
    ("Thu, 11 Dec 2025 10:30:00", datetime(2025, 12, 11, 10, 30)),
    ("2025-12-11T10:30:00", datetime(2025, 12, 11, 10, 30)),
    ("1 de enero de 2026", datetime(2026, 1, 1)),
    ("2026-01-01", datetime(2026, 1, 1)),
]
ZONES = [
    (HMO, timedelta(hours=-7), timedelta(hours=-7)),
    (CDMX, timedelta(hours=-6), timedelta(hours=-6)),
    (TIJ, timedelta(hours=-8), timedelta(hours=-7)),
]


@pytest.mark.parametrize(("zone", "winter"), [(zone, winter) for zone, winter, _ in ZONES])
@pytest.mark.parametrize(("value", "local"), SPANISH_FORMS)
def test_every_form_in_every_zone(
    value: str, local: datetime, zone: ZoneInfo, winter: timedelta
) -> None:
    parsed = parse_date(value, zone, dayfirst=dayfirst_for("es"))
    assert parsed is not None
    assert parsed.replace(tzinfo=None) == local
    assert parsed.utcoffset() == winter


SUMMER_FORMS = [
    ("jueves 10 de julio de 2025, 10:30 hrs", datetime(2025, 7, 10, 10, 30)),
    ("10/07/2025 10:30", datetime(2025, 7, 10, 10, 30)),
    ("10 jul 2025 10:30 a. m.", datetime(2025, 7, 10, 10, 30)),
    ("July 10, 2025 10:30 AM", datetime(2025, 7, 10, 10, 30)),
    ("2025-07-10T10:30:00", datetime(2025, 7, 10, 10, 30)),
]


@pytest.mark.parametrize(("zone", "summer"), [(zone, summer) for zone, _, summer in ZONES])
@pytest.mark.parametrize(("value", "local"), SUMMER_FORMS)
def test_summer_forms_follow_dst(
    value: str, local: datetime, zone: ZoneInfo, summer: timedelta
) -> None:
    parsed = parse_date(value, zone, dayfirst=dayfirst_for("es"))
    assert parsed is not None
    assert parsed.replace(tzinfo=None) == local
    assert parsed.utcoffset() == summer


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Thu, 11 Dec 2025 10:30:00 -0600", timedelta(hours=-6)),
        ("Thu, 11 Dec 2025 10:30:00 CST", timedelta(hours=-6)),
        ("Thu, 11 Dec 2025 10:30:00 CDT", timedelta(hours=-5)),
        ("Thu, 11 Dec 2025 10:30:00 MST", timedelta(hours=-7)),
        ("Thu, 11 Dec 2025 10:30:00 PST", timedelta(hours=-8)),
        ("Thu, 11 Dec 2025 10:30:00 PDT", timedelta(hours=-7)),
        ("Thu, 11 Dec 2025 10:30:00 EST", timedelta(hours=-5)),
        ("December 11, 2025 10:30 AM CST", timedelta(hours=-6)),
        ("2025-12-11T10:30:00+05:30", timedelta(hours=5, minutes=30)),
        ("2025-12-11T10:30:00Z", timedelta(0)),
    ],
)
def test_printed_offsets_are_kept_as_fixed_offsets(value: str, expected: timedelta) -> None:
    parsed = parse_date(value, TIJ)
    assert parsed is not None
    assert parsed.replace(tzinfo=None) == datetime(2025, 12, 11, 10, 30)
    assert parsed.utcoffset() == expected
    assert isinstance(parsed.tzinfo, timezone)


@pytest.mark.parametrize(
    "value",
    [
        "2025",
        "2025-12",
        "202512",
        "--12-11",
        "diciembre 2025",
        "December 2025",
        "Jan 2026",
        "12/2025",
        "jueves 11 de diciembre",
    ],
)
def test_no_day_is_no_date(value: str) -> None:
    assert parse_date(value, HMO) is None


@pytest.mark.parametrize(
    ("language", "dayfirst"),
    [
        ("es", True),
        ("es-MX", True),
        ("pt", True),
        ("fr", True),
        ("it", True),
        ("de", True),
        (None, True),
        ("", True),
        ("en-GB", True),
        ("en_au", True),
        ("en", False),
        ("en-US", False),
        ("EN_us", False),
    ],
)
def test_dayfirst_for(language: str | None, dayfirst: bool) -> None:
    assert dayfirst_for(language) is dayfirst


def test_us_english_reads_month_first() -> None:
    parsed = parse_date("11/12/2025 10:30", CDMX, dayfirst=dayfirst_for("en"))
    assert parsed == datetime(2025, 11, 12, 10, 30, tzinfo=CDMX)


def test_in_zone_reads_naive_as_local_and_keeps_aware() -> None:
    naive = datetime(2025, 7, 15, 8, 30)
    assert in_zone(naive, TIJ).utcoffset() == timedelta(hours=-7)
    assert in_zone(naive, None).tzinfo is UTC
    aware = datetime(2025, 7, 15, 8, 30, tzinfo=timezone(timedelta(hours=2)))
    assert in_zone(aware, TIJ) is aware


@pytest.mark.parametrize(
    ("value", "lacks"),
    [("2025", True), ("2025-12", True), ("--12-11", True), ("2025-12-11", False), ("ayer", False)],
)
def test_lacks_day(value: str, lacks: bool) -> None:
    assert lacks_day(value) is lacks


# ---------------------------------------------------------------------------- one answer everywhere


def _feed_date(value: str, language: str) -> datetime | None:
    body = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><link>https://example.mx/nota/1</link><pubDate>{value}</pubDate></item>
    </channel></rss>""".encode()
    feed = parse_feed(body, "https://example.mx/rss", tz=HMO, dayfirst=dayfirst_for(language))
    return feed.entries[0].published


def _sitemap_date(value: str, language: str) -> datetime | None:
    body = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://example.mx/nota/1</loc><lastmod>{value}</lastmod></url>
    </urlset>""".encode()
    doc = parse_sitemap(body, "https://example.mx/s.xml", tz=HMO, dayfirst=dayfirst_for(language))
    return doc.entries[0].updated


def _page_date(value: str, language: str) -> datetime | None:
    return parse_date(value, HMO, dayfirst=dayfirst_for(language))


@pytest.mark.parametrize("read", [_feed_date, _sitemap_date, _page_date])
@pytest.mark.parametrize(
    ("value", "language", "local"),
    [
        ("11/12/2025 10:30", "es", datetime(2025, 12, 11, 10, 30)),
        ("jueves 11 de diciembre de 2025, 10:30 hrs", "es", datetime(2025, 12, 11, 10, 30)),
        ("11/12/2025 10:30", "en", datetime(2025, 11, 12, 10, 30)),
    ],
)
def test_feed_sitemap_and_page_give_the_same_answer(
    read: object, value: str, language: str, local: datetime
) -> None:
    parsed = read(value, language)  # type: ignore[operator]
    assert parsed == local.replace(tzinfo=timezone(timedelta(hours=-7)))
    assert parsed.utcoffset() == timedelta(hours=-7)


@pytest.mark.parametrize("read", [_feed_date, _sitemap_date, _page_date])
@pytest.mark.parametrize("value", ["2025", "2025-12"])
def test_year_alone_is_none_everywhere(read: object, value: str) -> None:
    assert read(value, "es") is None  # type: ignore[operator]
