"""The one date module: every date a source prints (feed, sitemap, listing, page) is read here.

Pages and feeds write dates every way imaginable: ISO 8601, RFC 822, "jueves 11 de diciembre de
2025, 10:30 hrs", "11/12/2025" (day first in Mexico), "Dec 11, 2025 3:04 PM". Three rules live
here and nowhere else, so that one string gets one answer whichever document carried it:

- :func:`dayfirst_for`: numeric dates are day-first unless the source is US English.
- :func:`in_zone`: a time without an offset is local time of the source (zoneinfo resolves DST,
  e.g. Tijuana shifts while Hermosillo and Mexico City do not); an explicit offset is kept.
- a date needs a day: a year or a month alone is ``None``, never 1 January.

:func:`parse_date` reads one value; :func:`find_date` finds a date written inside free text (a
page's date line, a listing card), including "hace 3 horas" counted back from the fetch time;
:func:`url_date` reads the day a URL path names, the weakest evidence of all.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import overload

from dateutil import parser as du_parser

from storage.textfold import strip_accents as _strip_accents

MIN_YEAR = 1990
MAX_YEAR = 2100

_MONTH_WORDS = (
    ("january", "january jan enero ene januar janvier janeiro gennaio gen"),
    ("february", "february feb febrero februar fevrier fev fevereiro fev febbraio"),
    ("march", "march mar marzo marz maerz mars marco"),
    ("april", "april apr abril abr avril avr aprile"),
    ("may", "may mayo mai maio maggio mag"),
    ("june", "june jun junio juni juin junho giugno giu"),
    ("july", "july jul julio juli juillet juil julho luglio lug"),
    ("august", "august aug agosto ago aout"),
    ("september", "september sept sep septiembre setiembre set septembre setembro settembre"),
    ("october", "october oct octubre oktober okt octobre outubro out ottobre ott"),
    ("november", "november nov noviembre novembre novembro"),
    ("december", "december dec diciembre dic dezember dez decembre dezembro dicembre"),
)
"""Month names and abbreviations (accents stripped) of the languages of the sources, in English."""
_MONTHS = {word: month for month, words in _MONTH_WORDS for word in words.split()}
_WEEKDAYS = {
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "lun",
    "mie",
    "jue",
    "vie",
    "sab",
    "dom",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
}
_FILLER = {
    "de",
    "del",
    "el",
    "la",
    "las",
    "los",
    "a",
    "en",
    "hrs",
    "hr",
    "h",
    "hs",
    "horas",
    "hora",
    "publicado",
    "publicada",
    "actualizado",
    "actualizada",
    "actualizacion",
    "fecha",
    "published",
    "updated",
    "posted",
    "last",
    "on",
    "at",
    "the",
    "of",
    "y",
}

_TZ_ABBREVIATIONS: dict[str, int] = {
    "ut": 0,
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "est": -5 * 3600,
    "edt": -4 * 3600,
    "cst": -6 * 3600,
    "cdt": -5 * 3600,
    "mst": -7 * 3600,
    "mdt": -6 * 3600,
    "pst": -8 * 3600,
    "pdt": -7 * 3600,
}
"""The zone names RFC 822 defines (North American, fixed offsets): the one table for them."""
_TZINFOS = {name.upper(): offset for name, offset in _TZ_ABBREVIATIONS.items()}
_MONTH_FIRST_LANGUAGES = frozenset({"en", "eng", "english"})
_MONTH_FIRST_REGIONS = frozenset({"", "us"})

_AMPM = re.compile(r"\b([ap])\.?\s?m\b\.?", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+\.?")
_HAS_YEAR = re.compile(r"\b(?:19|20|21)\d{2}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2}\b")
_RFC822 = re.compile(r"^(?:[A-Za-z]{3},?\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_W3C = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?$",
    re.IGNORECASE,
)
_NO_DAY = re.compile(r"^(?:\d{2}|\d{4}(?:-?\d{2})?|-[\d-]*)$")
_YEAR_FIRST = re.compile(r"^\d{4}[-/.]")
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")
_HOUR_SUFFIX = re.compile(r"(\d{1,2}:\d{2})(?::\d{2})?\s*h\b")
_DEFAULT = datetime(1, 1, 1)
_OTHER_DEFAULT = datetime(1, 2, 2)


def dayfirst_for(language: str | None) -> bool:
    """Whether ``11/12/2025`` is 11 December for a source in ``language``.

    Day-first is the rule everywhere but the United States, so only English without a region
    (which here means a US site) or ``en-US`` reads month-first; Spanish, Portuguese, French,
    British English and an unknown language all read day-first.
    """
    if not language:
        return True
    primary, _, region = language.strip().lower().replace("_", "-").partition("-")
    if primary not in _MONTH_FIRST_LANGUAGES:
        return True
    return region.split("-", 1)[0] not in _MONTH_FIRST_REGIONS


@overload
def in_zone(value: datetime, tz: tzinfo | None) -> datetime: ...
@overload
def in_zone(value: None, tz: tzinfo | None) -> None: ...


def in_zone(value: datetime | None, tz: tzinfo | None) -> datetime | None:
    """``value`` as an aware datetime: naive times are local time in ``tz`` (UTC when None).

    A site that prints no offset means its own wall clock; an offset it does print is kept. The
    one statement of that rule for feeds, sitemaps, listings and pages; None stays None.
    """
    if value is None:
        return None
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=tz or UTC)
    return value


def lacks_day(value: str) -> bool:
    """Whether ``value`` is a truncated ISO 8601 form (``2025``, ``2025-12``, ``--12-11``).

    Other parsers (feedparser's among them) complete these with 1 January or the current year;
    callers falling back to such a parser ask this first.
    """
    return bool(_NO_DAY.match(value.strip()))


def _fixed_offset(value: datetime) -> datetime:
    """Replace a parser's own tzinfo (dateutil's ``tzoffset``) with a plain fixed offset."""
    offset = value.utcoffset()
    if offset is None:
        return value
    return value.replace(tzinfo=UTC if not offset else timezone(offset))


def _plausible(value: datetime | None) -> datetime | None:
    if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    return value


def _translate_words(text: str) -> str:
    """Map Spanish month names to English and drop weekdays and filler words dateutil rejects."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(0).rstrip(".")
        if word in _MONTHS:
            return f" {_MONTHS[word]} "
        if word in _WEEKDAYS or word in _FILLER:
            return " "
        if word in _TZ_ABBREVIATIONS:
            return f" {word.upper()} "
        if word in {"am", "pm"}:
            return f" {word} "
        if word == "t":
            return "T"
        return match.group(0)

    return _WORD.sub(replace, text)


def _normalise(value: str) -> str:
    text = _strip_accents(value).lower()
    text = _AMPM.sub(lambda m: f" {m.group(1)}m ", text)
    text = _HOUR_SUFFIX.sub(r"\1", text)
    text = _translate_words(text)
    text = text.replace("|", " ").replace("(", " ").replace(")", " ")
    return re.sub(r"\s+", " ", text).strip(" ,-:")


def _try_w3c(value: str) -> datetime | None:
    """The strict W3C datetime profile of ISO 8601 (sitemaps, Atom, JSON-LD): the fast path."""
    match = _W3C.match(value)
    if match is None:
        return None
    parts = match.groupdict()
    zone = parts["tz"]
    try:
        return datetime(
            int(parts["y"]),
            int(parts["mo"]),
            int(parts["d"]),
            int(parts["h"] or 0),
            int(parts["mi"] or 0),
            int(parts["s"] or 0),
            int((parts["f"] or "0")[:6].ljust(6, "0")),
            tzinfo=_w3c_offset(zone) if zone else None,
        )
    except ValueError:
        return None


def _w3c_offset(text: str) -> tzinfo:
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))


def _try_iso(value: str) -> datetime | None:
    """Other ISO 8601 forms (basic ``20251211T101500Z``, week dates, ``+00`` offsets)."""
    if not value[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        return None


def _try_rfc822(value: str) -> datetime | None:
    if not _RFC822.match(value):
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is not None and value.rstrip().endswith("-0000"):
        return parsed.replace(tzinfo=None)
    return parsed


def _try_epoch(value: str) -> datetime | None:
    if not _EPOCH.match(value):
        return None
    seconds = int(value) / (1000 if len(value) == 13 else 1)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _try_dateutil(value: str, dayfirst: bool) -> datetime | None:
    """dateutil on the normalised text, refusing any date whose day, month or year it invented.

    dateutil fills missing parts from ``default``; parsing again with a different default shows
    which parts came from the text (the second parse only runs when day or month is 1).
    """
    text = _normalise(value)
    if not text or not _HAS_YEAR.search(text):
        return None
    if _YEAR_FIRST.match(text):
        dayfirst = False
    try:
        parsed = du_parser.parse(text, dayfirst=dayfirst, tzinfos=_TZINFOS, default=_DEFAULT)
        if parsed.year == _DEFAULT.year:
            return None
        if parsed.month == 1 or parsed.day == 1:
            other = du_parser.parse(
                text, dayfirst=dayfirst, tzinfos=_TZINFOS, default=_OTHER_DEFAULT
            )
            if (other.month, other.day) != (parsed.month, parsed.day):
                return None
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    return parsed


def parse_date(
    value: str | datetime | None, tz: tzinfo | None = None, *, dayfirst: bool = True
) -> datetime | None:
    """Parse a date string into an aware datetime, or ``None`` for anything unparseable.

    A value without an offset is taken as local time in ``tz`` (UTC if ``tz`` is None); one with
    an offset keeps it, as a fixed offset. ``dayfirst`` (see :func:`dayfirst_for`) decides
    ``11/12/2025``; year-first forms are never read day-first. Values without a day, month or
    year are rejected rather than completed with 1 January or the current year.
    """
    if isinstance(value, datetime):
        return _plausible(in_zone(value, tz))
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 200 or lacks_day(value):
        return None
    for attempt in (_try_w3c, _try_iso, _try_rfc822, _try_epoch):
        parsed = attempt(value)
        if parsed is not None:
            return _plausible(in_zone(_fixed_offset(parsed), tz))
    if _W3C.match(value):
        return None
    parsed = _try_dateutil(value, dayfirst)
    if parsed is None:
        return None
    return _plausible(in_zone(_fixed_offset(parsed), tz))


_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = r"(?:[\s,|\-–]+(?:a\s+las\s+|at\s+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?\s?m\b\.?|hrs?\b\.?|hs\b|h\b)?)?"
_DATE_IN_TEXT = re.compile(
    r"(?<![\d/.:-])(?:"
    rf"\d{{1,2}}\.?\s*(?:de\s+)?(?:{_MONTH_NAMES})\.?,?\s+(?:del?\s+)?(?:19|20)\d{{2}}"
    rf"|(?:{_MONTH_NAMES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}"
    r"|(?:19|20)\d{2}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?)?"
    rf"){_TIME}(?![\w/-])"
)
_RELATIVE = re.compile(
    r"\bhace\s+(?P<n>\d+|una?)\s+(?P<unit>minutos?|mins?|horas?|hrs?|d[ií]as?|semanas?)\b"
    r"|\b(?P<n2>\d+|an?|one)\s+(?P<unit2>minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago\b"
    r"|\b(?P<yesterday>ayer|yesterday)\b",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "s": 7 * 86400, "w": 7 * 86400}
RELATIVE_MAX_CHARS = 60
"""A relative phrase ("hace 3 horas", "ayer") is a date only in a short date line, not in prose."""
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?=/|$|[-_.][^/\d])"
)


def relative_date(text: str, now: datetime, tz: tzinfo | None = None) -> datetime | None:
    """ "hace 3 horas", "hace 2 días", "30 minutes ago", "ayer" counted back from ``now``.

    ``now`` is the fetch time: the phrase was true then. "ayer"/"yesterday" gives only a day,
    stored as that day's local midnight in ``tz``.
    """
    match = _RELATIVE.search(text)
    if match is None:
        return None
    local_now = now.astimezone(tz or UTC)
    if match.group("yesterday"):
        day = (local_now - timedelta(days=1)).date()
        return datetime(day.year, day.month, day.day, tzinfo=tz or UTC)
    count = match.group("n") or match.group("n2")
    unit = _strip_accents(match.group("unit") or match.group("unit2")).lower()
    number = int(count) if count.isdigit() else 1
    key = "s" if unit.startswith("sem") else unit[0]
    return local_now - timedelta(seconds=number * _UNIT_SECONDS[key])


def find_date(
    text: str, tz: tzinfo | None = None, *, dayfirst: bool = True, now: datetime | None = None
) -> datetime | None:
    """The first full date written inside free ``text`` (a date line, a label's value, a card).

    Finds "19 de noviembre de 2026", "jueves 11 de diciembre de 2025, 10:30 hrs", "11/12/2025",
    "11.12.2025", "Dec 11, 2025", ISO dates; with ``now`` (the fetch time) also "hace 3 horas"
    in a short line. A year alone matches nothing, so a footer's "© 2025" is never a date.
    """
    folded = _strip_accents(text).lower()
    for match in _DATE_IN_TEXT.finditer(folded):
        parsed = parse_date(match.group(0).strip(" ,|-–"), tz, dayfirst=dayfirst)
        if parsed is not None:
            return parsed
    if now is not None and len(text.strip()) <= RELATIVE_MAX_CHARS:
        return relative_date(folded, now, tz)
    return None


def dates_in_text(text: str, tz: tzinfo | None = None, *, dayfirst: bool = True) -> set[date]:
    """Every calendar day written in ``text`` (to check another parser's guess against)."""
    found: set[date] = set()
    for match in _DATE_IN_TEXT.finditer(_strip_accents(text).lower()):
        parsed = parse_date(match.group(0).strip(" ,|-–"), tz, dayfirst=dayfirst)
        if parsed is not None:
            found.add(parsed.date())
    return found


def url_date(url: str, tz: tzinfo | None = None) -> datetime | None:
    """The day a URL path names (``/2025/12/11/``), as that day's midnight in ``tz``.

    Only a full year/month/day counts; the time is unknown, so this is the weakest source.
    """
    match = _URL_DATE.search(url.split("?", 1)[0].split("#", 1)[0])
    if match is None:
        return None
    try:
        value = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=tz or UTC)
    except ValueError:
        return None
    return _plausible(value)
