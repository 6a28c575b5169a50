"""Process-wide settings: built-in defaults < environment variables < command-line flags.

Per-source values (interval, delay, concurrency …) come from the sources file's ``[defaults]`` and
each source, see ``crawler.config``. Every number here is a named constant so the daemon can tune
it without hunting through dictionaries.

Every ``NEWSWATCH_*`` environment variable is one row of :data:`ENVIRONMENT` (its type, default,
bounds and help), read through :func:`env`, so a bad value gets one reaction wherever it is read:
a one-line :class:`SettingsError` naming the variable, the value and what is expected.
:func:`check_environment` checks them all at once when a command starts.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from storage import neardup, tuning


class SettingsError(ValueError):
    """A bad environment override (``NEWSWATCH_*``): reported as one line, exit code 2."""


ENV_DB = "NEWSWATCH_DB"
ENV_ALLOW_PRIVATE = "NEWSWATCH_ALLOW_PRIVATE"
ENV_LOG_LEVEL = "NEWSWATCH_LOG_LEVEL"
ENV_NEAR_DUP_THRESHOLD = "NEWSWATCH_NEAR_DUP_THRESHOLD"
ENV_TOPICS = "NEWSWATCH_TOPICS"
ENV_ENTITIES = "NEWSWATCH_ENTITIES"
ENV_WEB_TOKEN = "NEWSWATCH_WEB_TOKEN"
ENV_DOWNLOAD_TIMEOUT = "NEWSWATCH_DOWNLOAD_TIMEOUT"
ENV_MAX_PAGE_BYTES = "NEWSWATCH_MAX_PAGE_BYTES"
ENV_RETRY_TIMES = "NEWSWATCH_RETRY_TIMES"
ENV_RETRY_BACKOFF = "NEWSWATCH_RETRY_BACKOFF"
ENV_MAX_CRAWL_DELAY = "NEWSWATCH_MAX_CRAWL_DELAY"
ENV_ROBOTS_TTL = "NEWSWATCH_ROBOTS_TTL"
ENV_EXTRACT_WORKERS = "NEWSWATCH_EXTRACT_WORKERS"
ENV_INLINE_FIRST = "NEWSWATCH_INLINE_FIRST"
ENV_SEARCH_THREADS = "NEWSWATCH_SEARCH_THREADS"
ENV_SQLITE_DRIVER = "NEWSWATCH_SQLITE_DRIVER"
ENV_BUSY_TIMEOUT = "NEWSWATCH_BUSY_TIMEOUT"

NEAR_DUP_THRESHOLD = neardup.DEFAULT_THRESHOLD

TRUE_WORDS = frozenset({"1", "true", "yes"})
FALSE_WORDS = frozenset({"0", "false", "no"})
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
GiB = 1024 * MiB
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
INLINE_FIRST = 12
"""Pages extracted in the crawl process before the extraction pool starts (a poll rarely gets
further): ``NEWSWATCH_INLINE_FIRST``."""
MAX_EXTRACT_WORKERS = 64
SQLITE_DRIVERS = tuning.SQLITE_DRIVERS
BUSY_TIMEOUT = 30.0
MAX_SEARCH_THREADS = 16

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class PrivateAllowance:
    """What ``NEWSWATCH_ALLOW_PRIVATE`` opens: every non-public address (``1``), or only the
    listed networks (``127.0.0.1,10.0.0.0/8``), or nothing (unset, the default).

    Link-local addresses (cloud metadata) stay refused whatever this says: see
    ``crawler.addresses``.
    """

    everything: bool = False
    networks: tuple[IPNetwork, ...] = ()

    def covers(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return self.everything or any(ip in n for n in self.networks if n.version == ip.version)


Kind = Literal["whole", "number", "choice", "text", "allowance"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WHOLE = re.compile(r"\+?[0-9]{1,30}")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One environment variable: how its text is read, its default, its bounds and its help.

    ``minimum``/``maximum`` bound every number (NaN and infinities are never accepted);
    ``above_minimum`` makes the minimum itself a bad value. ``good`` is a valid example value.
    """

    name: str
    kind: Kind
    default: Any
    help: str
    good: str
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False
    unit: str = ""
    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()

    def expected(self) -> str:
        """What a good value looks like, for the error message."""
        if self.kind == "choice":
            return f"one of {', '.join(self.choices)}"
        if self.kind == "text":
            return "a path or URL without control characters"
        if self.kind == "allowance":
            return "1, 0, or a comma-separated list of IP addresses or networks (10.0.0.0/8)"
        what = "a whole number" if self.kind == "whole" else "a number"
        what += f" of {self.unit}" if self.unit else ""
        low, high = _num(self.minimum or 0), _num(self.maximum or 0)
        if self.above_minimum:
            return f"{what} above {low} and at most {high}"
        return f"{what} from {low} to {high}"

    def parse(self, raw: str | None, origin: str | None = None) -> Any:
        """The value ``raw`` stands for (the default when blank); :class:`SettingsError` when
        it is bad. ``origin`` names where it came from when that is a flag, not the variable."""
        text = (raw or "").strip()
        if not text:
            return self.default
        try:
            return self._read(text)
        except ValueError:
            shown = repr(text if len(text) <= 80 else text[:77] + "...")
            raise SettingsError(
                f"{origin or self.name}={shown}: expected {self.expected()}"
            ) from None

    def _read(self, text: str) -> Any:
        """Raises ValueError (of any wording) for a bad value; :meth:`parse` words the error."""
        if self.kind == "choice":
            folded = text.casefold()
            folded = dict((a.casefold(), b) for a, b in self.aliases).get(folded, folded)
            matches = [c for c in self.choices if c.casefold() == folded.casefold()]
            if not matches:
                raise ValueError(text)
            return matches[0]
        if self.kind == "text":
            if _CONTROL.search(text):
                raise ValueError(text)
            return text
        if self.kind == "allowance":
            return _read_allowance(text)
        if self.kind == "whole" and not _WHOLE.fullmatch(text):
            raise ValueError(text)
        value: float = int(text) if self.kind == "whole" else float(text)
        low, high = self.minimum, self.maximum
        if not math.isfinite(value) or low is None or high is None or value > high:
            raise ValueError(text)
        if value < low or (self.above_minimum and value == low):
            raise ValueError(text)
        return value


def _read_allowance(text: str) -> PrivateAllowance:
    word = text.lower()
    if word in TRUE_WORDS:
        return PrivateAllowance(everything=True)
    if word in FALSE_WORDS:
        return PrivateAllowance()
    parts = [part.strip() for part in text.split(",") if part.strip()]
    return PrivateAllowance(networks=tuple(ipaddress.ip_network(p, strict=False) for p in parts))


ENVIRONMENT: tuple[EnvVar, ...] = (
    EnvVar(ENV_DB, "text", None, "database URL or SQLite path (default: the user data dir)",
           "sqlite:////tmp/news.sqlite"),
    EnvVar(ENV_LOG_LEVEL, "choice", DEFAULT_LOG_LEVEL, "log level", "debug",
           choices=LOG_LEVELS, aliases=(("WARN", "WARNING"),)),
    EnvVar(ENV_ALLOW_PRIVATE, "allowance", PrivateAllowance(),
           "1: fetch loopback and private addresses (tests, intranets); or the networks to "
           "allow. Link-local (cloud metadata) is always refused", "127.0.0.1,10.0.0.0/8"),
    EnvVar(ENV_DOWNLOAD_TIMEOUT, "number", float(DOWNLOAD_TIMEOUT),
           "seconds for one whole download", "12.5", 0.1, 3600, unit="seconds"),
    EnvVar(ENV_MAX_PAGE_BYTES, "whole", DOWNLOAD_MAXSIZE,
           "largest response, also after decompression", "1048576", 1024, GiB, unit="bytes"),
    EnvVar(ENV_RETRY_TIMES, "whole", RETRY_TIMES, "retries of a 5xx/timeout/reset", "3", 0, 10),
    EnvVar(ENV_RETRY_BACKOFF, "number", RETRY_BACKOFF,
           "seconds before the first retry, doubled per retry (0 = at once)", "0.5",
           0, RETRY_BACKOFF_MAX, unit="seconds"),
    EnvVar(ENV_ROBOTS_TTL, "number", ROBOTS_TTL,
           "seconds a fetched robots.txt is reused (0 = every run)", "600", 0, 86400,
           unit="seconds"),
    EnvVar(ENV_MAX_CRAWL_DELAY, "number", MAX_CRAWL_DELAY,
           "longest robots.txt Crawl-delay honoured (0 = ignore it)", "5", 0, 3600,
           unit="seconds"),
    EnvVar(ENV_NEAR_DUP_THRESHOLD, "number", NEAR_DUP_THRESHOLD,
           "similarity at which two articles are one story", "0.7", 0, 1, above_minimum=True),
    EnvVar(ENV_TOPICS, "text", None, "topic profile (TOML) replacing the packaged one",
           "~/topics.toml"),
    EnvVar(ENV_ENTITIES, "text", None, "gazetteer (TOML) extending the packaged one",
           "~/entities.toml"),
    EnvVar(ENV_EXTRACT_WORKERS, "whole", None,
           "extraction processes (0 = in the crawl process; default one per core)", "2",
           0, MAX_EXTRACT_WORKERS),
    EnvVar(ENV_INLINE_FIRST, "whole", INLINE_FIRST,
           "pages extracted in the crawl process before the pool starts", "0", 0, 100_000),
    EnvVar(ENV_SEARCH_THREADS, "whole", None,
           "threads one SQLite search ranks with (default one per core, up to 4)", "2",
           1, MAX_SEARCH_THREADS),
    EnvVar(ENV_SQLITE_DRIVER, "choice", SQLITE_DRIVERS[0], "SQLite library", "stdlib",
           choices=SQLITE_DRIVERS),
    EnvVar(ENV_BUSY_TIMEOUT, "number", BUSY_TIMEOUT,
           "seconds a writer waits for the SQLite lock", "1", 0, 3600, unit="seconds"),
    EnvVar(ENV_WEB_TOKEN, "text", None,
           "token the web app and JSON API require (needed to listen beyond loopback)",
           "s3cret-token"),
)  # fmt: skip
"""Every ``NEWSWATCH_*`` variable the program reads (the test and benchmark harness's own
``NEWSWATCH_TEST_*``/``NEWSWATCH_BENCH_*`` are not the program's). Storage's three reach it
through :func:`check_environment` (``storage.tuning``)."""

_BY_NAME: Mapping[str, EnvVar] = {var.name: var for var in ENVIRONMENT}


def env(name: str) -> Any:
    """The value of environment variable ``name`` (a row of :data:`ENVIRONMENT`), read now."""
    return _BY_NAME[name].parse(os.environ.get(name))


def check_environment() -> None:
    """Read every variable of :data:`ENVIRONMENT`: the first bad one raises
    :class:`SettingsError`, before a command has done anything. Then hand storage its three
    values (storage imports nothing of ours, so it never reads the environment itself)."""
    for var in ENVIRONMENT:
        var.parse(os.environ.get(var.name))
    tuning.configure(
        busy_timeout=env(ENV_BUSY_TIMEOUT),
        sqlite_driver=env(ENV_SQLITE_DRIVER),
        search_threads=env(ENV_SEARCH_THREADS),
    )


def from_scrapy(scrapy_settings: Any, name: str) -> Any:
    """A ``NEWSWATCH_*`` value a crawl carries in its Scrapy settings (put there by
    :func:`scrapy_settings`, or overridden by a caller), read by the same table row."""
    value = scrapy_settings.get(name)
    if value is None:
        return env(name)
    return _BY_NAME[name].parse(str(value))


def download_timeout() -> float:
    """Seconds for one whole download (connect to last byte): ``NEWSWATCH_DOWNLOAD_TIMEOUT``."""
    return env(ENV_DOWNLOAD_TIMEOUT)


def max_page_bytes() -> int:
    """Largest response body, on the wire and decompressed: ``NEWSWATCH_MAX_PAGE_BYTES``."""
    return env(ENV_MAX_PAGE_BYTES)


def retry_times() -> int:
    """Retries of a 5xx/timeout/reset: ``NEWSWATCH_RETRY_TIMES``."""
    return env(ENV_RETRY_TIMES)


def retry_backoff() -> float:
    """Wait before the first retry, doubled per retry: ``NEWSWATCH_RETRY_BACKOFF`` (0 = none)."""
    return env(ENV_RETRY_BACKOFF)


def robots_ttl() -> float:
    """How long a fetched robots.txt is reused: ``NEWSWATCH_ROBOTS_TTL`` seconds (0 = every run
    fetches it again)."""
    return env(ENV_ROBOTS_TTL)


def max_crawl_delay() -> float:
    """Cap on a robots.txt ``Crawl-delay``: ``NEWSWATCH_MAX_CRAWL_DELAY`` seconds (0 = ignore it)."""
    return env(ENV_MAX_CRAWL_DELAY)


def extract_workers() -> int:
    """``NEWSWATCH_EXTRACT_WORKERS`` (0 = inline only), else one worker per core."""
    workers = env(ENV_EXTRACT_WORKERS)
    return max(1, os.cpu_count() or 1) if workers is None else workers


def inline_first() -> int:
    """Pages extracted in the crawl process before the pool starts: ``NEWSWATCH_INLINE_FIRST``."""
    return env(ENV_INLINE_FIRST)


def db_url(cli_value: str | None = None) -> str:
    """``--db`` > ``NEWSWATCH_DB`` > storage's default (a file under the user data dir)."""
    if cli_value and cli_value.strip():
        return cli_value.strip()
    configured = env(ENV_DB)
    if configured:
        return configured
    from storage.db import default_db_url

    return default_db_url()


def near_dup_threshold(cli_value: float | None = None) -> float:
    """``--threshold`` > ``NEWSWATCH_NEAR_DUP_THRESHOLD`` > :data:`NEAR_DUP_THRESHOLD`, in (0, 1]."""
    if cli_value is None:
        return env(ENV_NEAR_DUP_THRESHOLD)
    return _BY_NAME[ENV_NEAR_DUP_THRESHOLD].parse(repr(float(cli_value)), origin="--threshold")


def _path_setting(name: str, cli_value: str | os.PathLike[str] | None) -> Path | None:
    raw = str(cli_value).strip() if cli_value else env(name)
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


def private_allowance() -> PrivateAllowance:
    """What ``NEWSWATCH_ALLOW_PRIVATE`` opens (tests and intranets only)."""
    return env(ENV_ALLOW_PRIVATE)


def allow_private() -> bool:
    """Whether every private/loopback address is allowed (``NEWSWATCH_ALLOW_PRIVATE=1``)."""
    return private_allowance().everything


def log_level(cli_value: str | None = None) -> str:
    """``--log-level`` > ``NEWSWATCH_LOG_LEVEL`` > ``INFO``; normalised to an upper-case level name.

    A bad value is an error rather than a silent fallback, so a typo does not hide debug output.
    """
    if cli_value and cli_value.strip():
        return _BY_NAME[ENV_LOG_LEVEL].parse(cli_value, origin="--log-level")
    return env(ENV_LOG_LEVEL)


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
        ENV_RETRY_BACKOFF: retry_backoff(),
        ENV_MAX_CRAWL_DELAY: max_crawl_delay(),
        ENV_ROBOTS_TTL: robots_ttl(),
        "RETRY_HTTP_CODES": list(RETRY_HTTP_CODES),
        "CONCURRENT_REQUESTS": CONCURRENT_REQUESTS,
        "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENT_REQUESTS_PER_DOMAIN,
        "CONCURRENT_ITEMS": CONCURRENT_ITEMS,
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": SCRAPER_SLOT_MAX_ACTIVE_SIZE,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        # Per crawler, so per source: the check parses each callback's source code with ast
        # (~0.8 ms), the dump pretty-prints every stat (~0.2 ms); runs keep their own counts.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "STATS_DUMP": False,
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
