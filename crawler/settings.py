"""Process-wide settings: built-in defaults < environment variables < command-line flags.

Per-source values (interval, delay, concurrency …) come from the sources file's ``[defaults]`` and
each source, see ``crawler.config``. Every number here is a named constant so the daemon can tune
it without hunting through dictionaries.
"""

from __future__ import annotations

import ipaddress
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A bad environment override (``NEWSWATCH_*``): reported as one line, exit code 2."""


ENV_DB = "NEWSWATCH_DB"
ENV_ALLOW_PRIVATE = "NEWSWATCH_ALLOW_PRIVATE"
ENV_LOG_LEVEL = "NEWSWATCH_LOG_LEVEL"
ENV_NEAR_DUP_THRESHOLD = "NEWSWATCH_NEAR_DUP_THRESHOLD"
ENV_TOPICS = "NEWSWATCH_TOPICS"
ENV_ENTITIES = "NEWSWATCH_ENTITIES"
ENV_DOWNLOAD_TIMEOUT = "NEWSWATCH_DOWNLOAD_TIMEOUT"
ENV_MAX_PAGE_BYTES = "NEWSWATCH_MAX_PAGE_BYTES"
ENV_RETRY_TIMES = "NEWSWATCH_RETRY_TIMES"
ENV_RETRY_BACKOFF = "NEWSWATCH_RETRY_BACKOFF"
ENV_MAX_CRAWL_DELAY = "NEWSWATCH_MAX_CRAWL_DELAY"
ENV_ROBOTS_TTL = "NEWSWATCH_ROBOTS_TTL"

NEAR_DUP_THRESHOLD = 0.8
"""Estimated Jaccard similarity of 5-word shingles above which two articles are one story."""

TRUE_WORDS = frozenset({"1", "true", "yes"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_LOG_LEVEL = "INFO"

PROJECT_URL = "https://github.com/newswatch/newswatch"


def _package_version() -> str:
    try:
        return version("newswatch")
    except PackageNotFoundError:
        return "0.1"


VERSION = _package_version()
USER_AGENT = f"newswatch/{VERSION} (+{PROJECT_URL}; news monitoring bot)"
ACCEPT_LANGUAGE = "es-MX,es;q=0.9,en-US;q=0.8,en;q=0.7"

MiB = 1024 * 1024
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * MiB
DOWNLOAD_WARNSIZE = 5 * MiB
DNS_TIMEOUT = 10
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2
RETRY_HTTP_CODES = (500, 502, 503, 504, 522, 524, 408)
RETRY_BACKOFF = 2.0
"""Seconds before the first retry of a 5xx, a timeout or a reset, doubled for each further one
(2 s, then 4 s): a server that is struggling gets room instead of an immediate second request."""
RETRY_BACKOFF_MAX = 30.0
ROBOTS_TTL = 3600.0
"""Seconds a fetched robots.txt is reused by later runs (RFC 9309 allows up to a day): a daemon
polling a quiet feed every few minutes otherwise asked for robots.txt as often as for the feed."""
MAX_CRAWL_DELAY = 60.0
"""The longest ``Crawl-delay`` of a robots.txt that is honoured as written; a longer one (some
sites ask for an hour) is cut to this, and the run says so."""
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 8
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 2_000_000
"""Bytes of responses waiting for extraction before Scrapy stops downloading more (default 5 MB):
~25 pages keep two workers busy; more only sat in the crawl process's memory."""
CONCURRENT_ITEMS = 4
"""Scrapy starts this many asyncio tasks for *every* callback's output (default 100): an article
page yields one item, so the default cost 100 task creations per page, a sixth of the crawl
process's CPU in the ingest benchmark. Extraction parallelism comes from the worker pool and
concurrent downloads, not from this."""
DEFAULT_DOWNLOAD_DELAY = 1.0
SCRAPY_LOG_LEVEL = "WARNING"
MAX_FEED_ENTRIES = 5000
"""Entries read from one feed document; the rest are dropped with a warning (a 20,000-entry feed)."""
MAX_ARTICLES_PER_RUN = 500
"""Article pages one source may request in one run; the rest wait for the next run."""
MAX_REASONS = 5
"""Article-level failure reasons kept per source run (the first ones), for the run log."""
RETRY_AFTER_MAX_WAIT = 0.0
"""A 429/503 whose Retry-After asks for more than this many seconds is not retried in the run:
the source backs off for that long instead (``record_source_result(retry_after=…)``)."""


def _env_number(name: str, default: float, minimum: float) -> float:
    """A numeric environment override; a bad value is an error, not a silent default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: not a number: {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum:g}, not {raw}")
    return value


def download_timeout() -> float:
    """Seconds for one whole download (connect to last byte): ``NEWSWATCH_DOWNLOAD_TIMEOUT``."""
    return _env_number(ENV_DOWNLOAD_TIMEOUT, DOWNLOAD_TIMEOUT, 0.1)


def max_page_bytes() -> int:
    """Largest response body, on the wire and decompressed: ``NEWSWATCH_MAX_PAGE_BYTES``."""
    return int(_env_number(ENV_MAX_PAGE_BYTES, DOWNLOAD_MAXSIZE, 1024))


def retry_times() -> int:
    """Retries of a 5xx/timeout/reset: ``NEWSWATCH_RETRY_TIMES``."""
    return int(_env_number(ENV_RETRY_TIMES, RETRY_TIMES, 0))


def retry_backoff() -> float:
    """Wait before the first retry, doubled per retry: ``NEWSWATCH_RETRY_BACKOFF`` (0 = none)."""
    return _env_number(ENV_RETRY_BACKOFF, RETRY_BACKOFF, 0)


def robots_ttl() -> float:
    """How long a fetched robots.txt is reused: ``NEWSWATCH_ROBOTS_TTL`` seconds (0 = every run
    fetches it again)."""
    return _env_number(ENV_ROBOTS_TTL, ROBOTS_TTL, 0)


def max_crawl_delay() -> float:
    """Cap on a robots.txt ``Crawl-delay``: ``NEWSWATCH_MAX_CRAWL_DELAY`` seconds (0 = ignore it)."""
    return _env_number(ENV_MAX_CRAWL_DELAY, MAX_CRAWL_DELAY, 0)


def db_url(cli_value: str | None = None) -> str:
    """``--db`` > ``NEWSWATCH_DB`` > storage's default (a file under the user data dir)."""
    if cli_value and cli_value.strip():
        return cli_value.strip()
    env = os.environ.get(ENV_DB, "").strip()
    if env:
        return env
    from storage.db import default_db_url

    return default_db_url()


def near_dup_threshold(cli_value: float | None = None) -> float:
    """``--threshold`` > ``NEWSWATCH_NEAR_DUP_THRESHOLD`` > :data:`NEAR_DUP_THRESHOLD`, in (0, 1]."""
    origin, value = "--threshold", cli_value
    if value is None:
        raw = os.environ.get(ENV_NEAR_DUP_THRESHOLD, "").strip()
        if not raw:
            return NEAR_DUP_THRESHOLD
        origin = ENV_NEAR_DUP_THRESHOLD
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{origin}: not a number: {raw!r}") from None
    if not 0.0 < value <= 1.0:
        raise SettingsError(f"{origin}: similarity threshold must be in (0, 1], not {value}")
    return value


def _path_setting(env: str, cli_value: str | os.PathLike[str] | None) -> Path | None:
    raw = str(cli_value).strip() if cli_value else os.environ.get(env, "").strip()
    return Path(raw).expanduser() if raw else None


def topics_path(cli_value: str | os.PathLike[str] | None = None) -> Path | None:
    """The user's topic profile: ``--topics`` > ``NEWSWATCH_TOPICS`` > None (the packaged one).

    A user profile *replaces* the packaged profile (see ``crawler/catalog/topics.toml``).
    """
    return _path_setting(ENV_TOPICS, cli_value)


def entities_path(cli_value: str | os.PathLike[str] | None = None) -> Path | None:
    """The user's gazetteer: ``--entities`` > ``NEWSWATCH_ENTITIES`` > None (packaged only).

    A user gazetteer *extends* the packaged one (same id: the user's entry wins).
    """
    return _path_setting(ENV_ENTITIES, cli_value)


def allow_private() -> bool:
    """Whether fetching private/loopback addresses is allowed (tests and intranets only)."""
    return os.environ.get(ENV_ALLOW_PRIVATE, "").strip().lower() in TRUE_WORDS


def private_allowlist() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Networks ``NEWSWATCH_ALLOW_PRIVATE`` opens when it lists them (``127.0.0.1,10.0.0.0/8``)
    instead of saying ``1``: an intranet source can be allowed without opening every private
    address (cloud metadata at 169.254.169.254 stays refused)."""
    raw = os.environ.get(ENV_ALLOW_PRIVATE, "").strip()
    if not raw or raw.lower() in TRUE_WORDS:
        return ()
    networks = []
    for part in raw.split(","):
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            continue
    return tuple(networks)


def is_public_address(address: str) -> bool:
    """Whether an IP address is one the crawler may connect to without an allowance."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def address_allowed(address: str) -> str | None:
    """None when ``address`` may be fetched, else the one-line reason it may not.

    ``NEWSWATCH_ALLOW_PRIVATE=1`` opens loopback and private ranges but not link-local ones
    (169.254.169.254 is the cloud metadata service, never a news site): those must be listed
    explicitly, e.g. ``NEWSWATCH_ALLOW_PRIVATE=169.254.0.0/16``.
    """
    try:
        if is_public_address(address):
            return None
    except ValueError:
        return f"{address} is not an IP address"
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if allow_private() and not ip.is_link_local:
        return None
    if any(ip in net for net in private_allowlist() if net.version == ip.version):
        return None
    if ip.is_link_local:
        return f"{address} is a link-local address (list it in {ENV_ALLOW_PRIVATE} to allow)"
    kind = "loopback" if ip.is_loopback else "private"
    return f"{address} is a {kind} address (set {ENV_ALLOW_PRIVATE}=1 to allow)"


def log_level(cli_value: str | None = None) -> str:
    """``--log-level`` > ``NEWSWATCH_LOG_LEVEL`` > ``INFO``; normalised to an upper-case level name.

    A bad value is an error rather than a silent fallback, so a typo does not hide debug output.
    """
    origin, raw = "--log-level", cli_value
    if not (raw and raw.strip()):
        origin, raw = ENV_LOG_LEVEL, os.environ.get(ENV_LOG_LEVEL)
    if not (raw and raw.strip()):
        return DEFAULT_LOG_LEVEL
    level = raw.strip().upper()
    if level == "WARN":
        level = "WARNING"
    if level not in LOG_LEVELS:
        raise SettingsError(f"{origin}: unknown log level {raw!r} (use {', '.join(LOG_LEVELS)})")
    return level


def scrapy_settings(**overrides: Any) -> dict[str, Any]:
    """Base Scrapy settings for every crawl; ``overrides`` win.

    AutoThrottle stays off: each source's crawler gets its own ``DOWNLOAD_DELAY`` and
    ``CONCURRENT_REQUESTS_PER_DOMAIN`` (``crawler.fetching.runner``); the delay then holds per host across
    the sources of a process (``crawler.fetching.politeness``).
    ``REQUEST_FINGERPRINTER_IMPLEMENTATION`` is not set: Scrapy 2.19 removed the setting.
    """
    base: dict[str, Any] = {
        "USER_AGENT": USER_AGENT,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": ACCEPT_LANGUAGE,
        },
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": DEFAULT_DOWNLOAD_DELAY,
        "DOWNLOAD_TIMEOUT": download_timeout(),
        "DOWNLOAD_MAXSIZE": max_page_bytes(),
        "DOWNLOAD_WARNSIZE": min(DOWNLOAD_WARNSIZE, max_page_bytes()),
        "DNS_TIMEOUT": DNS_TIMEOUT,
        "REDIRECT_MAX_TIMES": REDIRECT_MAX_TIMES,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": retry_times(),
        "NEWSWATCH_RETRY_BACKOFF": retry_backoff(),
        "NEWSWATCH_MAX_CRAWL_DELAY": max_crawl_delay(),
        "NEWSWATCH_ROBOTS_TTL": robots_ttl(),
        "RETRY_HTTP_CODES": list(RETRY_HTTP_CODES),
        "CONCURRENT_REQUESTS": CONCURRENT_REQUESTS,
        "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENT_REQUESTS_PER_DOMAIN,
        "CONCURRENT_ITEMS": CONCURRENT_ITEMS,
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": SCRAPER_SLOT_MAX_ACTIVE_SIZE,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        "LOG_LEVEL": SCRAPY_LOG_LEVEL,
        "DOWNLOADER": "crawler.fetching.politeness.PoliteDownloader",
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.fetching.middlewares.RobotsTxtMiddleware": 100,
            "crawler.fetching.middlewares.LazyMetaRefreshMiddleware": 580,
            "crawler.fetching.middlewares.PrivateAddressMiddleware": 50,
            "crawler.fetching.middlewares.RetryAfterMiddleware": 560,
            "crawler.fetching.middlewares.RetryBackoffMiddleware": 40,
        },
    }
    base.update(overrides)
    return base
