"""The sources file (TOML): parse, validate, and hand out immutable ``Source`` objects.

Every accepted key lives in one table, ``FIELDS``, so a later issue adds a key (``allow``,
``deny``, ``max_age``, ``headers`` …) by adding one row; kinds are added by one row in
``KIND_INTERVALS``. Errors are raised as ``ConfigError`` whose text is a single line naming the
file, the source and the key, because the person reading it is editing that file right now.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from crawler import settings
from crawler.addresses import refusal_reason
from crawler.catalog import CATALOG_DIR
from storage.types import SourceInfo

CONFIG_FILENAME = "sources.toml"

KIND_INTERVALS: dict[str, str] = {
    "feed": "10m",
    "sitemap": "30m",
    "listing": "30m",
}
KINDS: tuple[str, ...] = tuple(KIND_INTERVALS)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
TOP_LEVEL_KEYS = ("defaults", "sources", "alerts", "cluster")
ALERT_DEFAULT_KEYS = ("web_url",)
"""[defaults] keys for alert rules only: kept raw here, validated by :mod:`crawler.alerts`."""
NOT_IN_DEFAULTS = frozenset({"name", "url"})
KIND_ONLY_KEYS: dict[str, str] = {
    "link_selector": "listing",
    "next_selector": "listing",
    "max_pages": "listing",
}
"""Keys that mean something for one kind only: on another kind they are an error, not ignored."""
DEFAULT_MAX_PAGES = 3
DAY = 86400.0
MAX_INTERVAL = 365 * DAY
MAX_AGE = 100 * 365 * DAY
MAX_DELAY = 3600.0
MAX_CONCURRENCY = 64
MAX_PAGES = 1000
MAX_ITEMS = 1_000_000
"""Upper bounds of the numbers a source may set: a value past them is a typo or an attack, and
one that passed here used to overflow later (a date minus 10^14 days, a sleep of 1e308 s)."""
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

_DURATION_HELP = "use a number with s, m, h or d, e.g. 90s, 10m, 2h, 3d"
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_RE = re.compile(
    r"^(?:(?P<d>\d+(?:\.\d+)?)d)?(?:(?P<h>\d+(?:\.\d+)?)h)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$"
)
_TOML_POS_RE = re.compile(r"\(at line (\d+), column (\d+)\)")
_HEADER_RE = re.compile(r"^[ \t]*\[\[?([^\[\]]+)\]\]?")
_KEY_RE = re.compile(r"^[ \t]*([A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')[ \t]*[=.]")


class ConfigError(Exception):
    """A problem with the sources file, rendered as one line: ``file: line: source: key: what``."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        source: str | None = None,
        key: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.source = source
        self.key = key
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        parts: list[str] = []
        if self.path is not None:
            parts.append(str(self.path))
        if self.line is not None:
            pos = f"line {self.line}"
            parts.append(pos if self.column is None else f"{pos}, column {self.column}")
        if self.source is not None:
            # Names cannot contain "[", so "[defaults]" and "sources[2]" are positions.
            parts.append(self.source if "[" in self.source else f"source {self.source!r}")
        if self.key is not None:
            parts.append(f"key {self.key!r}")
        parts.append(self.message)
        return ": ".join(parts)


# ---------------------------------------------------------------------------- durations


def parse_duration(value: str | int | float, maximum: float | None = None) -> float:
    """Seconds from ``"90s"``, ``"10m"``, ``"2h"``, ``"3d"``, ``"1h30m"`` or a bare number.

    Bare numbers (and numeric strings) are seconds. The result must be a finite number > 0, and
    at most ``maximum`` when one is given.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"bad duration {value!r} ({_DURATION_HELP})")
    if isinstance(value, str):
        text = re.sub(r"\s+", "", value).lower()
        seconds = _parse_duration_text(text)
        if seconds is None:
            raise ValueError(f"bad duration {value!r} ({_DURATION_HELP})")
    else:
        seconds = _float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"bad duration {value!r}: must be greater than zero ({_DURATION_HELP})")
    if maximum is not None and seconds > maximum:
        raise ValueError(f"bad duration {value!r}: must be at most {format_duration(maximum)}")
    return seconds


def _float(value: int | float) -> float:
    """``float`` that reads a too-large TOML integer as infinity instead of raising."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _parse_duration_text(text: str) -> float | None:
    try:
        return float(text) if text and not text[-1].isalpha() else _sum_units(text)
    except ValueError:
        return None


def _sum_units(text: str) -> float | None:
    match = _DURATION_RE.match(text)
    if not text or match is None:
        return None
    return sum(float(num) * _UNIT_SECONDS[unit] for unit, num in match.groupdict().items() if num)


def format_duration(seconds: float) -> str:
    """The shortest ``parse_duration`` spelling of ``seconds``: 600 → ``"10m"``, 5400 → ``"1h30m"``."""
    if isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format duration {seconds!r}")
    if seconds != int(seconds):
        return f"{float(seconds)!r}s"
    rest = int(seconds)
    if rest == 0:
        return "0s"
    parts = []
    for unit, size in _UNIT_SECONDS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


# ---------------------------------------------------------------------------- field validators


def _string(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def _name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(
            f"bad name {value!r} (use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit, e.g. 'tribuna-del-yaqui')"
        )
    return value


def _kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(
            f"unknown kind {value!r} (valid: {', '.join(KINDS)}){did_you_mean(value, KINDS)}"
        )
    return value


KEEP_POLICIES: tuple[str, ...] = ("all", "relevant")


def _keep(value: str) -> str:
    """``all`` stores every article; ``relevant`` keeps off-topic ones as URL/title/date/score."""
    if value not in KEEP_POLICIES:
        raise ValueError(
            f"unknown keep policy {value!r} (valid: {', '.join(KEEP_POLICIES)})"
            f"{did_you_mean(value, KEEP_POLICIES)}"
        )
    return value


REVISIT_POLICIES: tuple[str, ...] = ("none", "news")


def _revisit(value: str) -> str:
    """``news`` re-fetches recent articles on a backoff (storage.schedule.next_revisit) to catch
    silent edits and withdrawals; ``none`` (the default) fetches a page again only when its feed
    says it changed."""
    if value not in REVISIT_POLICIES:
        raise ValueError(
            f"unknown revisit policy {value!r} (valid: {', '.join(REVISIT_POLICIES)})"
            f"{did_you_mean(value, REVISIT_POLICIES)}"
        )
    return value


def _url(value: str) -> str:
    url = value.strip()
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValueError(f"bad URL {value!r}: must not be empty or contain spaces")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise ValueError(f"bad URL {value!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"bad URL {value!r}: only absolute http:// or https:// URLs are allowed")
    if not parts.hostname:
        raise ValueError(f"bad URL {value!r}: no host")
    why = _private_host_reason(parts.hostname)
    if why:
        raise ValueError(f"URL {value!r} refused: {why}")
    return url


def _private_host_reason(host: str) -> str | None:
    """Refuse, at load time, hosts that are private without a DNS lookup (literal IPs,
    ``localhost``); names that resolve to private addresses are refused at fetch time."""
    host = host.lower().rstrip(".")
    loopback = host == "localhost" or host.endswith(".localhost")
    return refusal_reason(host, ["127.0.0.1"] if loopback else [], settings.private_allowance())


def _language(value: str) -> str:
    if not LANGUAGE_RE.match(value):
        raise ValueError(
            f"bad language {value!r} (use a lowercase two-letter ISO 639-1 code, e.g. 'es' or 'en')"
        )
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(value, sorted(available_timezones()))
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'America/Mexico_City'){hint}"
        ) from None
    return value


def _interval(value: str | int | float) -> float:
    return parse_duration(value, MAX_INTERVAL)


def _max_age(value: str | int | float) -> float:
    return parse_duration(value, MAX_AGE)


def _delay(value: int | float) -> float:
    seconds = _float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_DELAY:
        raise ValueError(
            f"bad delay {value!r}: must be a number of seconds from 0 to {MAX_DELAY:.0f}"
        )
    return seconds


def _concurrency(value: int) -> int:
    if not 1 <= value <= MAX_CONCURRENCY:
        raise ValueError(f"bad concurrency {value!r}: must be between 1 and {MAX_CONCURRENCY}")
    return value


def _same(value: Any) -> Any:
    return value


def _string_list(value: list[Any], what: str) -> tuple[str, ...]:
    items: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"item {index} must be a non-empty string {what}, got {item!r}")
        items.append(item.strip())
    return tuple(items)


def _regexes(value: list[Any]) -> tuple[str, ...]:
    """URL patterns, compiled once here so a typo fails at load time, not mid-crawl."""
    patterns = _string_list(value, "(a regular expression)")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
    return patterns


def _selector(value: str) -> str:
    from crawler.articles.selectors import compile_selector

    text = value.strip()
    compile_selector(text)
    return text


def _selectors(value: list[Any]) -> tuple[str, ...]:
    selectors = _string_list(value, "(a CSS or XPath selector)")
    for selector in selectors:
        _selector(selector)
    return selectors


def _up_to(maximum: int) -> Callable[[int], int]:
    """A validator of whole numbers from 1 to ``maximum``."""

    def check(value: int) -> int:
        if value < 1:
            raise ValueError(f"bad value {value!r}: must be an integer >= 1")
        if value > maximum:
            raise ValueError(f"bad value {value!r}: must be at most {maximum}")
        return value

    return check


def _headers(value: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Extra HTTP headers as sorted pairs: immutable, and stable for the fingerprint."""
    pairs: dict[str, str] = {}
    for name, header_value in value.items():
        if not _HEADER_NAME_RE.match(name):
            raise ValueError(f"bad header name {name!r}")
        if not isinstance(header_value, str):
            raise ValueError(
                f"header {name!r} must be a string, got {_toml_type(header_value)} {header_value!r}"
            )
        if any(ch in header_value for ch in "\r\n\0"):
            raise ValueError(f"header {name!r} must not contain line breaks")
        pairs[name] = header_value.strip()
    return tuple(sorted(pairs.items(), key=lambda kv: kv[0].lower()))


# ---------------------------------------------------------------------------- the key table


@dataclass(frozen=True, slots=True)
class Field:
    """One accepted source key: the TOML types it takes, its default, and its validator.

    ``derive`` computes a default from the already-resolved keys (``title`` from ``name``,
    ``interval`` from ``kind``); ``required`` keys have neither.
    """

    types: tuple[type, ...]
    validate: Callable[[Any], Any] = _same
    default: Any = None
    derive: Callable[[Mapping[str, Any]], Any] | None = None
    required: bool = False


FIELDS: dict[str, Field] = {
    "name": Field((str,), _name, required=True),
    "kind": Field((str,), _kind, default="feed"),
    "url": Field((str,), _url, required=True),
    "title": Field((str,), _string, derive=lambda v: v["name"]),
    "language": Field((str,), _language, default=None),
    "timezone": Field((str,), _timezone, default="UTC"),
    "interval": Field(
        (str, int, float), _interval, derive=lambda v: parse_duration(KIND_INTERVALS[v["kind"]])
    ),
    "enabled": Field((bool,), default=True),
    "delay": Field((int, float), _delay, default=1.0),
    "concurrency": Field((int,), _concurrency, default=4),
    "verified": Field((bool,), default=True),
    "allow": Field((list,), _regexes, default=()),
    "deny": Field((list,), _regexes, default=()),
    "max_age": Field((str, int, float), _max_age, default=None),
    "max_items": Field((int,), _up_to(MAX_ITEMS), default=None),
    "headers": Field((dict,), _headers, default=()),
    "link_selector": Field((str,), _selector, default=None),
    "next_selector": Field((str,), _selector, default=None),
    "max_pages": Field((int,), _up_to(MAX_PAGES), default=DEFAULT_MAX_PAGES),
    "body_selector": Field((str,), _selector, default=None),
    "title_selector": Field((str,), _selector, default=None),
    "date_selector": Field((str,), _selector, default=None),
    "remove_selectors": Field((list,), _selectors, default=()),
    "keep": Field((str,), _keep, default="all"),
    "revisit": Field((str,), _revisit, default="none"),
}

_TYPE_WORDS = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "a table",
}


def _describe_types(types: tuple[type, ...]) -> str:
    if types == (str, int, float):
        return 'a duration such as "10m" or a number of seconds'
    if types == (int, float):
        return "a number"
    return " or ".join(_TYPE_WORDS[t] for t in types)


def _toml_type(value: Any) -> str:
    names = {
        bool: "boolean",
        str: "string",
        int: "integer",
        float: "float",
        dict: "table",
        list: "array",
    }
    return names.get(type(value), type(value).__name__)


def _check_type(value: Any, types: tuple[type, ...]) -> None:
    """Strict TOML typing: ``true`` is not an integer, ``"4"`` is not a number."""
    ok = isinstance(value, types) and (bool in types or not isinstance(value, bool))
    if not ok:
        raise ValueError(f"expected {_describe_types(types)}, got {_toml_type(value)} {value!r}")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``choices``, else nothing: the one hint of
    every unknown-name error (config keys and values, the CLI's filter names)."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# ---------------------------------------------------------------------------- data classes


@dataclass(frozen=True, slots=True)
class Source:
    """One validated source. Build it through ``load_config``/``build_source`` to get validation."""

    name: str
    kind: str
    url: str
    title: str = ""
    language: str | None = None
    timezone: str = "UTC"
    interval: float = 600.0
    enabled: bool = True
    delay: float = 1.0
    concurrency: int = 4
    verified: bool = True
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_age: float | None = None
    max_items: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    link_selector: str | None = None
    next_selector: str | None = None
    max_pages: int = DEFAULT_MAX_PAGES
    body_selector: str | None = None
    title_selector: str | None = None
    date_selector: str | None = None
    remove_selectors: tuple[str, ...] = ()
    keep: str = "all"
    revisit: str = "none"

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", self.name)

    @property
    def tzinfo(self) -> ZoneInfo:
        """The zone used for dates that the site prints without an offset."""
        return ZoneInfo(self.timezone)

    @property
    def host(self) -> str:
        """Lowercased host of ``url``: Scrapy's download-slot key, so per-host politeness."""
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def header_dict(self) -> dict[str, str]:
        """The extra request headers as a dict, for Scrapy settings and urllib."""
        return dict(self.headers)

    def fingerprint(self) -> str:
        """sha1 of every config field, so storage can notice that a source's definition changed."""
        blob = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()

    def info(self) -> SourceInfo:
        """The flattened view that storage keeps in its ``sources`` table."""
        return SourceInfo(
            name=self.name,
            kind=self.kind,
            url=self.url,
            title=self.title,
            language=self.language,
            timezone=self.timezone,
            enabled=self.enabled,
            fingerprint=self.fingerprint(),
        )


@dataclass(frozen=True, slots=True)
class Config:
    """All sources of one file, in file order."""

    path: Path | None
    sources: tuple[Source, ...] = field(default_factory=tuple)
    alert_tables: tuple[Any, ...] = ()
    """The raw ``[[alerts]]`` tables with their lines (``(table, _Block)``): validated by
    :func:`crawler.alerts.load_rules` where alerts are used, so a bad rule blocks no crawl."""
    alert_defaults: Mapping[str, Any] = field(default_factory=dict)
    """``[defaults]`` values the rules inherit (``timezone``, ``web_url``), raw."""
    cluster: bool = False
    """``[cluster] enabled = true``: the daemon queues runs for ``newswatch worker``s."""

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sources]

    def get(self, name: str) -> Source:
        """The source called ``name``; ``KeyError`` if absent (``select`` gives a friendly error)."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    def select(self, names: Sequence[str]) -> list[Source]:
        """No names → every enabled source; names → exactly those (even disabled), in that order."""
        if not names:
            return [s for s in self.sources if s.enabled]
        by_name = {s.name: s for s in self.sources}
        chosen: list[Source] = []
        for name in dict.fromkeys(names):
            if name not in by_name:
                valid = ", ".join(self.names) or "none"
                raise ConfigError(
                    f"unknown source (valid: {valid}){did_you_mean(name, self.names)}",
                    path=self.path,
                    source=name,
                )
            chosen.append(by_name[name])
        return chosen


# ---------------------------------------------------------------------------- loading


def default_catalog_path() -> Path:
    """The packaged catalog shipped inside the ``crawler`` package."""
    return CATALOG_DIR / "default.toml"


def resolve_config_path(path: Path | str | None) -> Path:
    """Explicit path (must exist) > ``./sources.toml`` > the packaged catalog."""
    if path is not None and str(path) != "":
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            what = "is a directory, not a file" if explicit.is_dir() else "not found"
            raise ConfigError(f"config file {what}: {explicit}")
        return explicit
    local = Path.cwd() / CONFIG_FILENAME
    if local.is_file():
        return local
    return default_catalog_path()


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the sources file chosen by ``resolve_config_path``."""
    resolved = resolve_config_path(path)
    try:
        data = resolved.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file: {exc.strerror or exc}", path=resolved
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", path=resolved) from None
    return parse_config(text, path=resolved)


def parse_config(text: str, path: Path | str | None = None) -> Config:
    """Validate TOML text; ``path`` is only used in messages and kept on the result."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, path) from None

    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(
                f"unknown top-level key (valid: {', '.join(TOP_LEVEL_KEYS)})"
                f"{did_you_mean(key, TOP_LEVEL_KEYS)}",
                path=path,
                key=key,
            )

    default_lines, blocks = _key_lines(text)
    raw_defaults = doc.get("defaults", {})
    alert_defaults: dict[str, Any] = {}
    if isinstance(raw_defaults, dict):
        alert_defaults = {k: raw_defaults[k] for k in ALERT_DEFAULT_KEYS if k in raw_defaults}
        raw_defaults = {k: v for k, v in raw_defaults.items() if k not in ALERT_DEFAULT_KEYS}
    defaults = _parse_defaults(raw_defaults, path, default_lines)
    if "timezone" in defaults:
        alert_defaults["timezone"] = defaults["timezone"]
    raw_sources = doc.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(
            "must be an array of tables: write each source under a [[sources]] header",
            path=path,
            key="sources",
        )
    if len(blocks) != len(raw_sources):
        blocks = [_Block(None)] * len(raw_sources)
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_sources):
        block = blocks[index]
        source = build_source(
            raw, defaults=defaults, path=path, index=index, line=block.line, key_lines=block.keys
        )
        if source.name in seen:
            first = seen[source.name]
            raise ConfigError(
                f"duplicate name {source.name!r}: used by sources[{first}] and sources[{index}]",
                path=path,
                source=f"sources[{index}]",
                key="name",
                line=block.keys.get("name", block.line),
            )
        seen[source.name] = index
        sources.append(source)
    raw_alerts = doc.get("alerts", [])
    alert_blocks = _key_lines(text, "alerts")[1]
    if not isinstance(raw_alerts, list):
        raw_alerts = [raw_alerts]
    if len(alert_blocks) != len(raw_alerts):
        alert_blocks = [_Block(None)] * len(raw_alerts)
    return Config(
        path=Path(path) if path is not None else None,
        sources=tuple(sources),
        alert_tables=tuple(zip(raw_alerts, alert_blocks, strict=True)),
        alert_defaults=alert_defaults,
        cluster=_parse_cluster(doc.get("cluster", {}), path),
    )


def _parse_cluster(raw: Any, path: Path | str | None) -> bool:
    """``[cluster]`` holds one key, ``enabled`` (a boolean)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"must be a table, got {_toml_type(raw)}", path=path, key="cluster")
    for key, value in raw.items():
        if key != "enabled":
            raise _unknown_key(key, {"enabled": None}, path=path, source="[cluster]")
        if not isinstance(value, bool):
            raise ConfigError(
                f"must be true or false, got {_toml_type(value)}",
                path=path,
                source="[cluster]",
                key=key,
            )
    return bool(raw.get("enabled", False))


def build_source(
    raw: Any,
    *,
    defaults: Mapping[str, Any] | None = None,
    path: Path | str | None = None,
    index: int = 0,
    line: int | None = None,
    key_lines: Mapping[str, int] | None = None,
) -> Source:
    """Validate one ``[[sources]]`` table; ``defaults`` are already-validated ``[defaults]`` values.

    ``line`` is the table's header line and ``key_lines`` each key's own line, so an error
    points at the line the user has to edit.
    """
    position = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(
            f"must be a table, got {_toml_type(raw)}", path=path, source=position, line=line
        )
    lines = key_lines or {}

    def at(key: str) -> int | None:
        return lines.get(key, line)

    raw_name = raw.get("name")
    if raw_name is None:
        raise ConfigError("missing required key", path=path, source=position, key="name", line=line)
    name = _convert("name", raw_name, path=path, source=position, line=at("name"))
    label = name

    values: dict[str, Any] = dict(defaults or {})
    for key, value in raw.items():
        if key not in FIELDS:
            raise _unknown_key(key, FIELDS, path=path, source=label, line=at(key))
        values[key] = _convert(key, value, path=path, source=label, line=at(key))
    kind = values.get("kind", FIELDS["kind"].default)
    for key, only in KIND_ONLY_KEYS.items():
        if key in raw and kind != only:
            raise ConfigError(
                f"only applies to kind = {only!r} sources, this one is kind = {kind!r}",
                path=path,
                source=label,
                key=key,
                line=at(key),
            )
        if key not in raw and kind != only:
            values.pop(key, None)

    for key, spec in FIELDS.items():
        if key in values:
            continue
        if spec.required:
            raise ConfigError("missing required key", path=path, source=label, key=key, line=line)
        values[key] = spec.derive(values) if spec.derive else spec.default
    return Source(**values)


def _parse_defaults(
    raw: Any, path: Path | str | None, key_lines: Mapping[str, int] | None = None
) -> dict[str, Any]:
    where = "[defaults]"
    lines = key_lines or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"must be a table, got {_toml_type(raw)}", path=path, key="defaults")
    allowed = {k: v for k, v in FIELDS.items() if k not in NOT_IN_DEFAULTS}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        line = lines.get(key)
        if key in NOT_IN_DEFAULTS:
            raise ConfigError(
                "cannot be set in [defaults]; set it on each source",
                path=path,
                source=where,
                key=key,
                line=line,
            )
        if key not in allowed:
            raise _unknown_key(key, allowed, path=path, source=where, line=line)
        values[key] = _convert(key, value, path=path, source=where, line=line)
    return values


def _convert(
    key: str, value: Any, *, path: Path | str | None, source: str, line: int | None = None
) -> Any:
    spec = FIELDS[key]
    try:
        _check_type(value, spec.types)
        return spec.validate(value)
    except ValueError as exc:
        raise ConfigError(str(exc), path=path, source=source, key=key, line=line) from None


def _unknown_key(
    key: str,
    allowed: Mapping[str, Any],
    *,
    path: Path | str | None,
    source: str,
    line: int | None = None,
) -> ConfigError:
    valid = ", ".join(allowed)
    return ConfigError(
        f"unknown key (valid: {valid}){did_you_mean(key, list(allowed))}",
        path=path,
        source=source,
        key=key,
        line=line,
    )


def _toml_error(exc: tomllib.TOMLDecodeError, path: Path | str | None) -> ConfigError:
    """tomllib on 3.11 only reports the position inside the message text, so lift it out."""
    message = str(exc)
    match = _TOML_POS_RE.search(message)
    line = column = None
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        message = message[: match.start()].rstrip()
    return ConfigError(f"invalid TOML: {message}", path=path, line=line, column=column)


@dataclass(slots=True)
class _Block:
    """One ``[[sources]]`` table in the text: its header's line and each of its keys' lines."""

    line: int | None
    keys: dict[str, int] = field(default_factory=dict)


def _key_lines(text: str, table: str = "sources") -> tuple[dict[str, int], list[_Block]]:
    """Where each key is written: ``[defaults]``'s keys, and each ``[[sources]]`` (or other
    ``table``) table's.

    A line scan, not a TOML parser: it finds ``key =`` at the start of a line and sub-tables
    such as ``[sources.headers]``; anything it misses falls back to the table's header line.
    """
    defaults: dict[str, int] = {}
    blocks: list[_Block] = []
    current: dict[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER_RE.match(line)
        if header:
            name = header.group(1).replace(" ", "").replace("\t", "")
            current = None
            if header.group(0).lstrip().startswith("[[") and name == table:
                blocks.append(_Block(number))
                current = blocks[-1].keys
            elif name == "defaults":
                current = defaults
            elif name.startswith((f"{table}.", "defaults.")):
                owner = blocks[-1].keys if name.startswith(f"{table}.") and blocks else defaults
                owner.setdefault(name.split(".", 1)[1].split(".")[0], number)
            continue
        key = _KEY_RE.match(line)
        if key and current is not None:
            current.setdefault(key.group(1).strip("\"'"), number)
    return defaults, blocks
