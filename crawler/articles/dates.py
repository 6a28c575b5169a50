"""Lenient date parsing for Spanish and English news pages.

Pages and feeds write dates every way imaginable: ISO 8601, RFC 822, "jueves 11 de diciembre de
2025, 10:30 hrs", "11/12/2025" (day first in Mexico), "Dec 11, 2025 3:04 PM". A date without an
offset is local time of the source, so the caller passes the source's zone and we attach it here
(zoneinfo resolves DST, e.g. Tijuana shifts while Hermosillo and Mexico City do not).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime

from dateutil import parser as du_parser

from storage.textfold import strip_accents as _strip_accents

MIN_YEAR = 1990
MAX_YEAR = 2100

_SPANISH_MONTHS = {
    "enero": "january",
    "ene": "january",
    "febrero": "february",
    "feb": "february",
    "marzo": "march",
    "mar": "march",
    "abril": "april",
    "abr": "april",
    "mayo": "may",
    "may": "may",
    "junio": "june",
    "jun": "june",
    "julio": "july",
    "jul": "july",
    "agosto": "august",
    "ago": "august",
    "septiembre": "september",
    "setiembre": "september",
    "sept": "september",
    "sep": "september",
    "set": "september",
    "octubre": "october",
    "oct": "october",
    "noviembre": "november",
    "nov": "november",
    "diciembre": "december",
    "dic": "december",
}
_ENGLISH_MONTHS = {
    "january": "january",
    "jan": "january",
    "february": "february",
    "march": "march",
    "april": "april",
    "apr": "april",
    "june": "june",
    "july": "july",
    "august": "august",
    "aug": "august",
    "september": "september",
    "october": "october",
    "november": "november",
    "december": "december",
    "dec": "december",
}
_MONTHS = {**_ENGLISH_MONTHS, **_SPANISH_MONTHS}
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
_TZINFOS = {name.upper(): offset for name, offset in _TZ_ABBREVIATIONS.items()}

_AMPM = re.compile(r"\b([ap])\.?\s?m\b\.?", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+\.?")
_HAS_YEAR = re.compile(r"\b(?:19|20|21)\d{2}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2}\b")
_RFC822 = re.compile(r"^(?:[A-Za-z]{3},?\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_YEAR_FIRST = re.compile(r"^\d{4}[-/.]")
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")
_HOUR_SUFFIX = re.compile(r"(\d{1,2}:\d{2})(?::\d{2})?\s*h\b")


def _attach_zone(value: datetime, tz: tzinfo | None) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=tz or UTC)
    return value


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


def _try_iso(value: str) -> datetime | None:
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
    text = _normalise(value)
    if not text or not _HAS_YEAR.search(text):
        return None
    if _YEAR_FIRST.match(text):
        dayfirst = False
    try:
        return du_parser.parse(text, dayfirst=dayfirst, tzinfos=_TZINFOS)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None


def parse_date(value: str, tz: tzinfo | None = None, *, dayfirst: bool = True) -> datetime | None:
    """Parse a date string into an aware datetime, or ``None`` for anything unparseable.

    A value without an offset is taken as local time in ``tz`` (UTC if ``tz`` is None). Values
    without a year are rejected rather than silently given the current one.
    """
    if isinstance(value, datetime):
        return _plausible(_attach_zone(value, tz))
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 200:
        return None
    for attempt in (_try_iso, _try_rfc822, _try_epoch):
        parsed = attempt(value)
        if parsed is not None:
            return _plausible(_attach_zone(parsed, tz))
    parsed = _try_dateutil(value, dayfirst)
    if parsed is None:
        return None
    return _plausible(_attach_zone(parsed, tz))
