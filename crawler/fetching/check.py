"""``newswatch sources --check --online``: does each source answer, what does it serve, and how
many items does it yield — with a suggested fix when it is not what the config says.

This runs outside a crawl (one short GET per source, plus robots.txt or one sitemap when that
is what tells the story), so it uses plain ``http.client`` with our User-Agent, and the crawl's
limits: its download timeout as a total deadline per fetch (redirects and a trickling body
included), its page-size cap, and its address rule on every redirect hop, http(s) only.
Classification reuses the crawler's pure parsers, so "works here" means "works in a crawl".
"""

from __future__ import annotations

import http.client
import re
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler import settings
from crawler.addresses import refusal_reason, resolve
from crawler.articles.html import parse_html_or_empty
from crawler.config import Source
from crawler.documents.feeds import parse_feed
from crawler.documents.listing import extract_links
from crawler.documents.sitemaps import GZIP_MAGIC, parse_sitemap, sitemaps_from_robots
from crawler.fetching.spiders.sitemap import is_site_root, robots_url
from crawler.settings import PrivateAllowance

CHECK_WORKERS = 8
CHECK_MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)
READ_CHUNK = 64 * 1024

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_XML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(urlset|sitemapindex)\b", re.S)


@dataclass(slots=True)
class Fetched:
    """One HTTP answer; ``status`` is None when there was no answer at all (``error`` says why)."""

    url: str
    status: int | None
    body: bytes = b""
    content_type: str = ""
    error: str | None = None


@dataclass(slots=True)
class Served:
    """What a document is: ``feed``, ``sitemap``, ``sitemap index``, ``HTML listing``, ``HTML``,
    ``robots.txt`` or ``other``, and how many items (entries, child sitemaps, article links)."""

    serves: str
    items: int = 0
    detail: str | None = None
    feed_links: tuple[str, ...] = ()


@dataclass(slots=True)
class CheckResult:
    name: str
    kind: str
    url: str
    status: int | None
    serves: str
    items: int
    ok: bool
    problem: str | None = None
    suggestion: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Fetcher = Callable[[str, dict[str, str]], Fetched]


def fetch(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> Fetched:
    """GET ``url`` with our User-Agent; HTTP errors are answers, not exceptions.

    ``timeout`` (default: the crawl's ``NEWSWATCH_DOWNLOAD_TIMEOUT``) bounds the whole exchange,
    redirects and a trickling body included; ``max_bytes`` defaults to the crawl's
    ``NEWSWATCH_MAX_PAGE_BYTES``. Redirects
    are followed here, at most :data:`CHECK_MAX_REDIRECTS`, and every hop passes the same
    address rule as a crawl (``crawler.addresses``) before anything connects to it.
    """
    if timeout is None:
        timeout = settings.download_timeout()
    if max_bytes is None:
        max_bytes = settings.max_page_bytes()
    deadline = time.monotonic() + timeout
    allow = settings.private_allowance()
    request_headers = {
        "User-Agent": settings.USER_AGENT,
        "Accept": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/html;q=0.8,*/*;q=0.5",
        "Accept-Language": settings.ACCEPT_LANGUAGE,
        **(headers or {}),
    }
    current = url
    for _hop in range(CHECK_MAX_REDIRECTS + 1):
        target = _checked_target(current, allow, deadline)
        if isinstance(target, str):
            return Fetched(current, None, error=target)
        try:
            status, response_headers, body = _exchange(target, request_headers, deadline, max_bytes)
        except TimeoutError:
            return Fetched(current, None, error=f"no answer within {timeout:g} s")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return Fetched(current, None, error=f"no answer: {str(exc) or type(exc).__name__}")
        content_type = response_headers.get("Content-Type", "")
        location = response_headers.get("Location")
        if status in REDIRECT_CODES and location:
            current = urljoin(current, location.strip())
            continue
        if status >= 400:
            return Fetched(current, status, b"", content_type)
        truncated = len(body) > max_bytes
        note = "response over the size cap, truncated" if truncated else None
        return Fetched(current, status, bytes(body[:max_bytes]), content_type, note)
    return Fetched(current, None, error=f"no answer: more than {CHECK_MAX_REDIRECTS} redirects")


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str
    port: int
    address: str
    path: str


def _checked_target(url: str, allow: PrivateAllowance, deadline: float) -> _Target | str:
    """Where ``url`` may be fetched from (the checked address), or why it may not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"refused: bad URL {url!r}: {exc}"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"refused: {scheme or 'schemeless'}: URLs are not fetched ({url})"
    host = parts.hostname or ""
    if not host:
        return f"refused: no host in {url!r}"
    addresses = _resolve_before(host, deadline)
    reason = refusal_reason(host, addresses, allow)
    if reason is not None:
        return f"refused: {reason}"
    if not addresses:
        return f"no answer: {host} does not resolve"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if scheme == "https" else 80
    return _Target(scheme, host, port or default, addresses[0], path)


def _resolve_before(host: str, deadline: float) -> list[str]:
    """:func:`resolve`, given up (as unresolvable) when the deadline passes first."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(resolve, host).result(timeout=max(0.0, deadline - time.monotonic()))
    except FuturesTimeout:
        return []
    finally:
        pool.shutdown(wait=False)


def _exchange(
    target: _Target, headers: dict[str, str], deadline: float, max_bytes: int
) -> tuple[int, http.client.HTTPMessage, bytearray]:
    """One GET to the checked address (not a second lookup of the name, which could answer
    differently); the body is read a chunk at a time so the deadline holds for a trickle.
    Raises TimeoutError when the deadline passes."""

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    conn = kind(target.host, target.port, timeout=remaining())
    address = target.address
    conn._create_connection = lambda where, *args: socket.create_connection(  # pinned
        (address, where[1]), *args
    )
    try:
        conn.request("GET", target.path, headers=headers)
        sock = conn.sock  # connected by request(); kept, as a closing response may drop it
        sock.settimeout(remaining())
        response = conn.getresponse()
        body = bytearray()
        if response.status not in REDIRECT_CODES and response.status < 400:
            while len(body) <= max_bytes:
                sock.settimeout(remaining())
                chunk = response.read1(READ_CHUNK)
                if not chunk:
                    break
                body += chunk
        return response.status, response.headers, body
    finally:
        conn.close()


def alternate_feeds(html: bytes, url: str) -> tuple[str, ...]:
    """``<link rel="alternate" type="application/rss+xml" href>`` targets, absolute."""
    tree = parse_html_or_empty(html)
    found: list[str] = []
    for node in tree.xpath("//link[@href][@type]"):
        rel = (node.get("rel") or "").lower().split()
        if "alternate" in rel and (node.get("type") or "").lower().strip() in FEED_TYPES:
            absolute = urljoin(url, node.get("href").strip())
            if absolute not in found:
                found.append(absolute)
    return tuple(found)


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head


def classify(body: bytes, url: str, source: Source | None = None) -> Served:
    """What ``body`` (fetched from ``url``) is, using the same parsers a crawl uses."""
    if not body.strip():
        return Served("empty")
    if body[:2] == GZIP_MAGIC or _XML_START.match(body[:4096]):
        doc = parse_sitemap(body, url)
        if doc.kind == "urlset":
            return Served("sitemap", len(doc.entries), doc.warning)
        if doc.kind == "sitemapindex":
            return Served("sitemap index", len(doc.sitemaps), doc.warning)
    if _looks_like_html(body):
        feeds = alternate_feeds(body, url)
        try:
            links = extract_links(
                body,
                url,
                link_selector=source.link_selector if source else None,
                allow=source.allow if source else (),
                deny=source.deny if source else (),
            )
        except ValueError as exc:
            return Served("HTML", 0, str(exc), feeds)
        return Served("HTML listing" if links else "HTML", len(links), None, feeds)
    parsed = parse_feed(body, url)
    if not parsed.error:
        return Served("feed", len(parsed.entries), parsed.warning)
    robots = sitemaps_from_robots(body, url)
    if robots or url.endswith("/robots.txt"):
        return Served("robots.txt", len(robots))
    return Served("other", 0, parsed.error)


EXPECTED = {
    "feed": ("feed",),
    "sitemap": ("sitemap", "sitemap index"),
    "listing": ("HTML listing",),
}


def problem_text(kind: str, served: Served) -> str:
    wanted = " or ".join(EXPECTED.get(kind, (kind,)))
    got = f"got {served.serves} with {served.items} items"
    if served.serves in EXPECTED.get(kind, ()):
        got = f"{served.serves} yields no items"
    return f"kind {kind!r} needs a {wanted}; {got}" + (
        f" ({served.detail})" if served.detail else ""
    )


def suggest(source: Source, status: int | None, served: Served, robots: Sequence[str]) -> str:
    """One actionable sentence for a source that does not serve what its ``kind`` needs."""
    if status is None:
        return "no answer: check the host name, or try again later"
    if status in (404, 410):
        return f"HTTP {status}: check the URL (the page may have moved; open the site and find it)"
    if status in (401, 403):
        return f"HTTP {status}: the server refuses us; try per-source `headers` or another URL"
    if status == 429 or status >= 500:
        return f"HTTP {status}: server busy or broken; try again later"
    if status >= 400:
        return f"HTTP {status}: check the URL"
    kind = source.kind
    if served.serves == "feed" and kind != "feed":
        return 'this URL is a feed: use kind = "feed"'
    if served.serves in ("sitemap", "sitemap index") and kind != "sitemap":
        return 'this URL is a sitemap: use kind = "sitemap"'
    if served.serves.startswith("HTML"):
        if robots and kind == "sitemap":
            return f"robots.txt lists sitemaps: {', '.join(robots[:3])} — use one as url"
        if served.feed_links and kind != "listing":
            return (
                'HTML page with <link rel="alternate" type="application/rss+xml" '
                f'href="{served.feed_links[0]}"> — use that as a feed'
            )
        if kind == "listing" and served.items == 0:
            if source.link_selector:
                return (
                    f"no article links found with link_selector {source.link_selector!r}: "
                    "check the selector against the page"
                )
            return "no article-like links found: set link_selector (CSS or XPath)"
        if kind != "listing":
            return 'an HTML page: use kind = "listing" (with link_selector) or find its feed'
    if served.items == 0:
        return "answers, but yields no items right now: check the URL or try later"
    return f"serves {served.serves}, not what kind = {kind!r} needs"


def check_source(source: Source, fetcher: Fetcher | None = None) -> CheckResult:
    """Fetch the source's url (robots.txt first for a sitemap site root) and judge it."""
    get = fetcher or (lambda url, headers: fetch(url, headers))
    headers = source.header_dict
    robots: list[str] = []
    url = source.url
    if source.kind == "sitemap" and is_site_root(url):
        answer = get(robots_url(url), headers)
        if answer.status == 200:
            robots = sitemaps_from_robots(answer.body, answer.url)
        if not robots:
            problem = answer.error or f"robots.txt (HTTP {answer.status}) lists no Sitemap"
            return CheckResult(
                source.name,
                source.kind,
                source.url,
                answer.status,
                "robots.txt",
                0,
                False,
                problem,
                "set url to the sitemap itself (try /sitemap.xml or /sitemap_index.xml)",
            )
        url = robots[0]
    answer = get(url, headers)
    if answer.status != 200:
        reason = answer.error or f"HTTP {answer.status}"
        served = Served("nothing")
        return CheckResult(
            source.name,
            source.kind,
            source.url,
            answer.status,
            served.serves,
            0,
            False,
            reason,
            suggest(source, answer.status, served, robots),
        )
    served = classify(answer.body, answer.url, source)
    if source.kind == "sitemap" and served.serves.startswith("HTML") and not robots:
        extra = get(robots_url(answer.url), headers)
        if extra.status == 200:
            robots = sitemaps_from_robots(extra.body, extra.url)
    ok = served.serves in EXPECTED.get(source.kind, ()) and served.items > 0
    serves = f"robots.txt → {served.serves}" if robots and url != source.url else served.serves
    return CheckResult(
        source.name,
        source.kind,
        source.url,
        answer.status,
        serves,
        served.items,
        ok,
        None if ok else problem_text(source.kind, served),
        None if ok else suggest(source, answer.status, served, robots),
    )


def check_sources(
    sources: Sequence[Source], fetcher: Fetcher | None = None, workers: int = CHECK_WORKERS
) -> list[CheckResult]:
    """Check every source, a few at a time; results in the sources' order."""
    if not sources:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sources)))) as pool:
        return list(pool.map(lambda s: check_source(s, fetcher), sources))
