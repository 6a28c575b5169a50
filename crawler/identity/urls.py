"""Canonical URLs: one spelling per article, so the same story reached through a feed link with
tracking parameters, a differently-cased host or a percent-encoded accent dedupes to one row.

Pure functions only; nothing here touches the network.
"""

from __future__ import annotations

from urllib.parse import unquote_plus, urldefrag, urljoin, urlsplit, urlunsplit

from w3lib.html import strip_html5_whitespace
from w3lib.url import canonicalize_url as _w3lib_canonicalize
from w3lib.url import safe_url_string

TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_ga",
        "_gl",
        "yclid",
        "ref_src",
        "cmpid",
        "ocid",
    }
)
"""Query parameters that identify a campaign or click, never the content."""

TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_http_url(url: str) -> bool:
    """True for absolute ``http``/``https`` URLs with a host: the only links worth fetching."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def absolute_url(href: str | None, base: str) -> str | None:
    """The absolute http(s) URL a link points at, or None when it is not one worth fetching.

    The one reading of every link the crawler finds (article pages, listings, sitemaps, feeds):
    surrounding whitespace stripped, resolved against ``base``, the fragment dropped (the same
    page), safely percent-encoded; ``javascript:``, ``mailto:``, ``data:`` and other non-HTTP
    links, a bare ``#anchor`` and unparseable URLs give None.
    """
    cleaned = strip_html5_whitespace(href) if href else ""
    if not cleaned or cleaned.startswith("#"):
        return None
    try:
        absolute = safe_url_string(urldefrag(urljoin(base, cleaned) if base else cleaned).url)
    except ValueError:
        return None
    return absolute if is_http_url(absolute) else None


def host_of(url: str) -> str:
    """The lower-case host of ``url`` without a trailing dot; "" when it has none."""
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _site_host(url_or_host: str) -> str:
    text = url_or_host.strip()
    host = host_of(text) if "://" in text else text.lower().rstrip(".")
    return host.removeprefix("www.")


def same_site(url_or_host: str, site: str, *, subdomains: bool = True) -> bool:
    """Whether a URL or host belongs to ``site`` (a URL or host): the same host, ``www.``
    ignored, or (with ``subdomains``) a subdomain of it (``english.site.com`` for ``site.com``).
    """
    host, site_host = _site_host(url_or_host), _site_host(site)
    if not host or not site_host:
        return False
    return host == site_host or (subdomains and host.endswith("." + site_host))


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter name is a known click/campaign tracker (case-insensitive)."""
    key = name.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _strip_tracking(query: str) -> str:
    """Drop tracking pairs from an already-encoded query, keeping the rest byte-for-byte."""
    kept = [
        pair
        for pair in query.split("&")
        if pair and not is_tracking_param(unquote_plus(pair.split("=", 1)[0]))
    ]
    return "&".join(kept)


def _netloc_without_default_port(scheme: str, netloc: str, port: int | None) -> str:
    """Remove ``:80``/``:443`` when they are the scheme's default: same server, two spellings."""
    if port is None or _DEFAULT_PORTS.get(scheme) != port:
        return netloc
    head, _, _ = netloc.rpartition(":")
    return head


def canonicalize_url(url: str, base: str | None = None) -> str:
    """The canonical spelling of ``url`` (resolved against ``base`` first).

    Lower-cases scheme and host, encodes IDN hosts as punycode, normalises percent-encoding
    (``/año/`` and ``/a%C3%B1o/`` agree), sorts query parameters, removes tracking parameters,
    the fragment, default ports and an empty ``?``. Path case and trailing slashes are kept
    because sites really do serve different pages for them. Non-HTTP URLs come back resolved
    but otherwise untouched; test with :func:`is_http_url`. Raises ``ValueError`` for URLs that
    cannot be parsed (e.g. a port out of range).
    """
    raw = url.strip()
    if base:
        raw = urljoin(base.strip(), raw)
    if not is_http_url(raw):
        return raw
    canonical = _w3lib_canonicalize(raw, keep_fragments=False)
    parts = urlsplit(canonical)
    scheme = parts.scheme.lower()
    netloc = _netloc_without_default_port(scheme, parts.netloc, parts.port)
    path = parts.path or "/"
    query = _strip_tracking(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))
