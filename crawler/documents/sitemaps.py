"""Sitemap parsing: XML (sitemap 0.9, Google News), gzipped or plain-text sitemaps in, links out.

Pure: bytes in, :class:`SitemapDoc` out; the spider decides what to fetch. Sitemaps are untrusted
input that can be huge, so three limits hold no matter what the body says: gzip is inflated
incrementally and stops at ``max_bytes`` (the crawl's page-size cap, ``NEWSWATCH_MAX_PAGE_BYTES``,
the same cap Scrapy applies to every ``Content-Encoding``), the XML parser never resolves
entities or touches the network (XXE, billion laughs), and at most ``max_entries`` entries come
back. Like feeds, problems never raise: nothing usable → ``error``, usable but odd → ``warning``;
a document the parser had to stop reading early (an entity attack, a node over libxml2's size or
depth limits) is a warning that says how many entries were lost, never a silent short list.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial

from lxml import etree

from crawler import settings
from crawler.articles.dates import parse_date
from crawler.identity.urls import absolute_url, is_http_url
from crawler.items import FeedEntry

GZIP_MAGIC = b"\x1f\x8b"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"

_INFLATE_CHUNK = 1024 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"

DateReader = Callable[[str | None], datetime | None]
"""``parse_date`` with the source's zone and day order bound in."""


class SitemapTooLarge(ValueError):
    """The (decompressed) body is over the byte cap; carries the message shown to the user."""


@dataclass(slots=True)
class SitemapDoc:
    """One parsed sitemap.

    ``kind`` is ``"urlset"`` (article ``entries``, also for text sitemaps), ``"sitemapindex"``
    (child ``sitemaps`` as ``(loc, lastmod)``) or ``"unknown"`` (with ``error``). ``languages``
    maps an entry's link to its ``news:language`` code, kept apart so ``FeedEntry`` stays as is.
    """

    kind: str
    entries: list[FeedEntry] = field(default_factory=list)
    sitemaps: list[tuple[str, datetime | None]] = field(default_factory=list)
    error: str | None = None
    warning: str | None = None
    languages: dict[str, str] = field(default_factory=dict)


def parse_sitemap(
    body: bytes,
    url: str,
    *,
    tz: tzinfo | None = None,
    dayfirst: bool = True,
    max_entries: int = 50000,
    max_bytes: int | None = None,
) -> SitemapDoc:
    """Parse a sitemap fetched from ``url`` (relative locs resolve against it).

    Dates go through :func:`crawler.articles.dates.parse_date`: W3C datetimes on its strict fast
    path, the RFC 822 and sloppy dates found in the wild on its lenient one. Without an offset
    they are read in ``tz`` (the source's zone), else UTC; numeric ones day-first unless
    ``dayfirst`` is False. ``max_bytes`` (default: the crawl's page-size cap) bounds the body
    after decompression.
    """
    if max_bytes is None:
        max_bytes = settings.max_page_bytes()
    try:
        data = _decompress(body, max_bytes) if body[:2] == GZIP_MAGIC else body
    except SitemapTooLarge as exc:
        return SitemapDoc(kind="unknown", error=str(exc))
    except zlib.error as exc:
        return SitemapDoc(kind="unknown", error=f"invalid gzip data: {exc}")
    if len(data) > max_bytes:
        return SitemapDoc(kind="unknown", error=f"sitemap too large (> {max_bytes} bytes)")
    data = data.removeprefix(_UTF8_BOM).lstrip()
    if not data:
        return SitemapDoc(kind="unknown", error="empty sitemap body")
    if data[:1] == b"<":
        read_date = partial(parse_date, tz=tz, dayfirst=dayfirst)
        return _parse_xml(data, url, read_date, max_entries)
    return _parse_text(data, url, max_entries)


def _decompress(body: bytes, max_bytes: int) -> bytes:
    """Inflate gzip (all members) in bounded steps; raise once output would pass ``max_bytes``."""
    chunks: list[bytes] = []
    total = 0
    pending = body
    while pending[:2] == GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while not inflater.eof:
            room = max_bytes - total + 1
            out = inflater.decompress(pending, min(_INFLATE_CHUNK, room))
            pending = inflater.unconsumed_tail
            total += len(out)
            if total > max_bytes:
                raise SitemapTooLarge(f"sitemap too large when decompressed (> {max_bytes} bytes)")
            chunks.append(out)
            if not out and not pending:
                break
        if not inflater.eof:
            raise zlib.error("truncated gzip stream")
        pending = inflater.unused_data
    return b"".join(chunks)


def _safe_parser() -> etree.XMLParser:
    """A parser that cannot be made to read files, reach the network or expand entities."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        recover=True,
        load_dtd=False,
        dtd_validation=False,
    )


def _local(element: etree._Element) -> str:
    """The tag's local name, lower-cased; a recovering parser keeps an undeclared prefix in the
    tag (``news:title``), which ``etree.QName`` would reject, so it is split off by hand."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].rpartition(":")[2].lower()


def _namespace(element: etree._Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return None
    return tag[1:].partition("}")[0]


def _text(element: etree._Element | None) -> str | None:
    """Own text of an element; None when it holds an (unexpanded) entity reference, since a
    ``loc`` cut at ``&xxe;`` would be a different, wrong URL."""
    if element is None or any(isinstance(child, etree._Entity) for child in element):
        return None
    value = (element.text or "").strip()
    return value or None


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if _local(child) == name:
            return child
    return None


def _parse_xml(data: bytes, url: str, read_date: DateReader, max_entries: int) -> SitemapDoc:
    parser = _safe_parser()
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return SitemapDoc(kind="unknown", error=f"not a sitemap: unparseable XML ({exc})")
    if root is None:
        return SitemapDoc(kind="unknown", error="not a sitemap: unparseable XML")
    name = _local(root)
    if name in ("urlset", "sitemapindex"):
        if name == "urlset":
            doc = _parse_urlset(root, url, read_date, max_entries)
        else:
            doc = _parse_index(root, url, read_date, max_entries)
        cut = _cut_short(parser, data, root, "url" if name == "urlset" else "sitemap")
        doc.warning = "; ".join(w for w in (cut, doc.warning) if w) or None
        return doc
    if name in {"html", "head", "body"}:
        return SitemapDoc(kind="unknown", error="not a sitemap: got an HTML page")
    return SitemapDoc(kind="unknown", error=f"not a sitemap: root element <{name or '?'}>")


def _cut_short(parser: etree.XMLParser, data: bytes, root: etree._Element, tag: str) -> str | None:
    """Say so when the recovering parser stopped before the end of the document.

    libxml2 gives up at an entity amplification attack, a text node over its size limit or
    nesting past its depth limit, and in recover mode hands back what it had read so far. The
    ``<url>`` (``<sitemap>``) tags in the bytes, counted only when the parser logged an error,
    tell how many entries that cost.
    """
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if not errors:
        return None
    written = len(re.findall(rb"<(?:[\w.-]+:)?" + tag.encode() + rb"[\s>/]", data, re.I))
    read = sum(1 for node in root.iter("{*}*") if _local(node) == tag)
    if written <= read:
        return None
    last = errors[-1]
    reason = " ".join(str(last.message).split())
    where = f" at line {last.line}" if last.line > 1 else ""
    return (
        f"sitemap cut short by the XML parser{where} ({reason}): "
        f"read {read} of {written} <{tag}> entries, the rest are lost"
    )


def _truncation_warning(kept: int, total: int) -> str | None:
    return f"sitemap truncated: kept the first {kept} of {total} entries" if total > kept else None


def _parse_urlset(
    root: etree._Element, url: str, read_date: DateReader, max_entries: int
) -> SitemapDoc:
    doc = SitemapDoc(kind="urlset")
    seen: set[str] = set()
    total = 0
    for node in root:
        if _local(node) != "url":
            continue
        link = absolute_url(_text(_child(node, "loc")), url)
        if link is None or link in seen:
            continue
        total += 1
        if len(doc.entries) >= max_entries:
            continue
        seen.add(link)
        entry, language = _url_entry(node, link, read_date)
        doc.entries.append(entry)
        if language:
            doc.languages[link] = language
    doc.warning = _truncation_warning(len(doc.entries), total)
    return doc


def _news_element(node: etree._Element) -> etree._Element | None:
    """The ``news:news`` child; by namespace when declared, by name for sloppy sitemaps."""
    candidates = [child for child in node if _local(child) == "news"]
    for child in candidates:
        if _namespace(child) == NEWS_NS:
            return child
    return candidates[0] if candidates else None


def _url_entry(
    node: etree._Element, link: str, read_date: DateReader
) -> tuple[FeedEntry, str | None]:
    lastmod = read_date(_text(_child(node, "lastmod")))
    news = _news_element(node)
    title = published = language = None
    categories: list[str] = []
    if news is not None:
        title = _text(_child(news, "title"))
        published = read_date(_text(_child(news, "publication_date")))
        categories = split_keywords(_text(_child(news, "keywords")))
        publication = _child(news, "publication")
        if publication is not None:
            code = _text(_child(publication, "language"))
            language = code.lower() if code else None
    entry = FeedEntry(
        link=link,
        title=title,
        published=published or lastmod,
        updated=lastmod,
        categories=categories,
        origin="sitemap",
    )
    return entry, language


def _parse_index(
    root: etree._Element, url: str, read_date: DateReader, max_entries: int
) -> SitemapDoc:
    doc = SitemapDoc(kind="sitemapindex")
    seen: set[str] = set()
    total = 0
    for node in root:
        if _local(node) != "sitemap":
            continue
        loc = absolute_url(_text(_child(node, "loc")), url)
        if loc is None or loc in seen:
            continue
        total += 1
        if len(doc.sitemaps) >= max_entries:
            continue
        seen.add(loc)
        doc.sitemaps.append((loc, read_date(_text(_child(node, "lastmod")))))
    doc.warning = _truncation_warning(len(doc.sitemaps), total)
    return doc


def _parse_text(data: bytes, url: str, max_entries: int) -> SitemapDoc:
    """A text sitemap: one absolute URL per line, nothing else (per sitemaps.org)."""
    doc = SitemapDoc(kind="urlset")
    seen: set[str] = set()
    total = 0
    for line in data.decode("utf-8", errors="replace").splitlines():
        candidate = line.strip()
        if not candidate or not is_http_url(candidate) or candidate in seen:
            continue
        total += 1
        if len(doc.entries) < max_entries:
            seen.add(candidate)
            doc.entries.append(FeedEntry(link=candidate, origin="sitemap"))
    if not doc.entries:
        return SitemapDoc(kind="unknown", error="not a sitemap: no URLs found in text body")
    doc.warning = _truncation_warning(len(doc.entries), total)
    return doc


def split_keywords(value: str | None) -> list[str]:
    """``news:keywords`` is one comma-separated string; split, trim, drop empties and repeats."""
    if not value:
        return []
    seen: dict[str, None] = {}
    for part in value.split(","):
        word = part.strip()
        if word:
            seen.setdefault(word, None)
    return list(seen)


def sitemaps_from_robots(robots_txt: str | bytes, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt (any case, any group), resolved and de-duplicated."""
    if isinstance(robots_txt, bytes):
        robots_txt = robots_txt.removeprefix(_UTF8_BOM).decode("utf-8", errors="replace")
    found: list[str] = []
    for raw in robots_txt.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        if not sep or key.strip().lower() != "sitemap":
            continue
        absolute = absolute_url(value.strip(), base_url)
        if absolute and absolute not in found:
            found.append(absolute)
    return found


def is_recent(entry: FeedEntry, max_age_s: float | None, now: datetime) -> bool:
    """Whether to keep an entry under a ``max_age`` limit.

    Undated entries are kept (a news sitemap without dates would otherwise yield nothing), as are
    dates in the future (clock skew, scheduled posts).
    """
    when = entry.published or entry.updated
    if max_age_s is None or when is None:
        return True
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return now - when <= timedelta(seconds=max_age_s)
