"""Feed parsing: RSS/Atom/RDF bytes in, typed :class:`ParsedFeed` out.

Pure: the body is always handed to feedparser as an in-memory stream, because feedparser given a
``str`` fetches URLs and given ``bytes`` first tries to *open them as a file path*. Poll outcome
rules live here too: an HTML page or an empty body is a failed poll (``error``), a recognised feed
that needed recovery is a success with a ``warning``.
"""

from __future__ import annotations

import io
import re
import time
import warnings
from datetime import UTC, datetime, tzinfo
from typing import Any
from xml.sax import SAXParseException

import feedparser
from w3lib.html import remove_tags, remove_tags_with_content, replace_entities

from crawler.articles.dates import lacks_day, parse_date
from crawler.identity.urls import absolute_url
from crawler.items import FeedEntry, ParsedFeed

_HTML_SNIFF = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S
)
_BLOCK_END = re.compile(r"<\s*(br\s*/?|/p|/div|/li|/h[1-6]|/blockquote|/tr)\s*>", re.I)


def parse_feed(
    body: bytes,
    url: str,
    *,
    tz: tzinfo | None = None,
    dayfirst: bool = True,
    max_entries: int = 5000,
) -> ParsedFeed:
    """Parse one feed document fetched from ``url``.

    Naive dates are read in ``tz`` (the source's zone), else UTC; numeric dates day-first unless
    ``dayfirst`` is False (see :func:`crawler.articles.dates.dayfirst_for`). Never raises on bad
    input: problems come back in ``error`` (nothing usable) or ``warning`` (usable, but recovered).
    """
    if not body or not body.strip():
        return ParsedFeed(title=None, entries=[], error="empty response body")
    parsed = _run_feedparser(body, url)
    version = parsed.get("version") or None
    raw_entries = parsed.get("entries") or []
    if not raw_entries and (not version or _is_xml_error(parsed)):
        return ParsedFeed(title=None, entries=[], error=_failure_reason(body, parsed))

    warning = _bozo_reason(parsed) if parsed.get("bozo") else None
    if len(raw_entries) > max_entries:
        note = f"truncated to {max_entries} of {len(raw_entries)} entries"
        warning = f"{warning}; {note}" if warning else note
        raw_entries = raw_entries[:max_entries]

    entries = [_entry(raw, url, tz, dayfirst) for raw in raw_entries]
    feed_meta = parsed.get("feed") or {}
    return ParsedFeed(
        title=_clean_text(feed_meta.get("title")),
        entries=entries,
        kind=version,
        warning=warning,
    )


def _run_feedparser(body: bytes, url: str) -> Any:
    """feedparser on a stream, with ``url`` as the document base for relative links."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return feedparser.parse(
            io.BytesIO(body),
            response_headers={"content-location": url or "", "content-type": "application/xml"},
            resolve_relative_uris=True,
            sanitize_html=True,
        )


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _exception_text(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, SAXParseException):
        return f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}: {exc.getMessage()}"
    message = _one_line(str(exc)) or type(exc).__name__
    return message


def _failure_reason(body: bytes, parsed: Any) -> str:
    """Why nothing usable came out: HTML page, broken XML, or a document that is not a feed."""
    if _HTML_SNIFF.match(body[:2048].lstrip(b"\xef\xbb\xbf")):
        return "not a feed: looks like an HTML page"
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return "not a feed: JSON document (JSON Feed is not supported)"
    if parsed.get("bozo"):
        return f"XML error: {_exception_text(parsed.get('bozo_exception'))}"
    return "not a feed: no RSS, Atom or RDF elements found"


def _is_xml_error(parsed: Any) -> bool:
    """A parse error such as a truncated download, not a recoverable quirk.

    Encoding/content-type complaints and HTML entities undeclared in XML (``&nbsp;``, which
    feedparser's loose parser reads fine) do not make an otherwise empty feed a failed poll.
    """
    exc = parsed.get("bozo_exception")
    return isinstance(exc, SAXParseException) and "undefined entity" not in str(exc)


def _bozo_reason(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    return f"{type(exc).__name__}: {_exception_text(exc)}" if exc else "malformed feed"


def _entry(raw: Any, feed_url: str, tz: tzinfo | None, dayfirst: bool) -> FeedEntry:
    return FeedEntry(
        link=_entry_link(raw, feed_url),
        guid=_clean_text(raw.get("id")),
        title=_clean_text(raw.get("title")),
        published=_entry_date(raw, "published", tz, dayfirst),
        updated=_entry_date(raw, "updated", tz, dayfirst),
        authors=_entry_authors(raw),
        summary=_entry_summary(raw),
        categories=_entry_categories(raw),
    )


def _entry_link(raw: Any, feed_url: str) -> str | None:
    """The article link: ``link``, else the first ``rel=alternate`` link, else a permalink guid.

    feedparser already applied ``xml:base``; joining with the feed URL again covers documents
    whose base was itself relative.
    """
    candidates: list[str] = []
    if raw.get("link"):
        candidates.append(raw["link"])
    for link in raw.get("links") or []:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            candidates.append(link["href"])
    if raw.get("guidislink") and raw.get("id"):
        candidates.append(raw["id"])
    if not candidates:
        return None
    return absolute_url(candidates[0], feed_url)


def _entry_date(raw: Any, key: str, tz: tzinfo | None, dayfirst: bool) -> datetime | None:
    """The raw date string through our parser, else feedparser's parsed struct.

    Ours comes first because feedparser's ``*_parsed`` is normalised to UTC (the feed's own offset
    is lost), takes naive dates as UTC rather than the source's zone, and does not read numeric
    day-first dates. Its struct is the fallback for exotic forms ours does not know, except for
    truncated ISO dates, which it would complete with 1 January or the current year.
    """
    value = dict.get(raw, key)
    if isinstance(value, str):
        ours = parse_date(value, tz, dayfirst=dayfirst)
        if ours is not None or lacks_day(value):
            return ours
    return _struct_to_utc(dict.get(raw, f"{key}_parsed"))


def _struct_to_utc(struct: time.struct_time | None) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime(*struct[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _entry_authors(raw: Any) -> list[str]:
    """Author names, de-duplicated: structured ``authors`` first, then ``author`` (dc:creator).

    The bare ``author`` string is only used when no structured name exists, because for RSS
    ``<author>mail@x (Name)</author>`` it holds the e-mail form of a name already listed.
    """
    names = [a.get("name") or "" for a in raw.get("authors") or []]
    names.append((raw.get("author_detail") or {}).get("name") or "")
    if not any(_clean_text(n) for n in names):
        names.append(raw.get("author") or "")
    result: list[str] = []
    seen: set[str] = set()
    for name in names:
        cleaned = _clean_text(name)
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            result.append(cleaned)
    return result


def _entry_summary(raw: Any) -> str | None:
    """Plain-text summary: the description, else the first content block."""
    html = raw.get("summary")
    if not html:
        contents = raw.get("content") or []
        html = contents[0].get("value") if contents else None
    return html_to_text(html) if html else None


def _entry_categories(raw: Any) -> list[str]:
    result: list[str] = []
    for tag in raw.get("tags") or []:
        term = _clean_text(tag.get("term") or tag.get("label"))
        if term and term not in result:
            result.append(term)
    return result


def html_to_text(html: str) -> str | None:
    """Strip markup from a feed summary, keeping paragraph breaks as blank lines."""
    text = remove_tags_with_content(html, which_ones=("script", "style"))
    text = _BLOCK_END.sub("\n", text)
    text = replace_entities(remove_tags(text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    paragraphs = [line for line in lines if line]
    return "\n\n".join(paragraphs) or None


def _clean_text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.split())
    return cleaned or None
