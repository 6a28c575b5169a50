"""``[[alerts]]`` rules of the sources file: validated here, with the sources' one-line errors
(file, line, rule, key, "did you mean"), by :func:`load_rules`.

The daemon and ``newswatch alerts`` call it; ``crawl`` and ``search`` do not, so a broken rule
stops the alerting (with an error naming it) and blocks nothing else. ``env:NAME`` channels are
read from the environment here, so a secret never has to be written in the file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crawler.alert_times import QuietHours, Schedule, parse_quiet_hours, parse_schedule
from crawler.config import (
    MAX_INTERVAL,
    Config,
    ConfigError,
    _language,
    _name,
    _timezone,
    did_you_mean,
    parse_duration,
)
from storage.search.query import QueryError, parse_query

MODES = ("instant", "digest")
EVENTS = ("new", "changed")
MAX_PER_HOUR = 10_000


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One validated rule. ``notify`` holds the resolved Apprise URLs (secrets included), and
    ``channels`` what may be shown of them (``env:NAME`` or the URL's scheme and host)."""

    name: str
    notify: tuple[str, ...]
    channels: tuple[str, ...]
    query: str | None = None
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    relevant: bool = False
    min_relevance: float | None = None
    mode: str = "instant"
    schedule: Schedule | None = None
    timezone: str = "UTC"
    quiet_hours: QuietHours | None = None
    max_per_hour: int | None = None
    health: bool = False
    silent_after: float | None = None
    on: tuple[str, ...] = ("new",)
    web_url: str | None = None


def _strings(value: list[Any]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("expected an array of non-empty strings")
    return tuple(v.strip() for v in value)


def _query(value: str) -> str:
    try:
        parse_query(value)
    except QueryError as exc:
        raise ValueError(f"bad query: {exc}") from None
    return value


def _score(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"expected a number from 0 to 1, got {value!r}")
    return float(value)


def _choice(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            hint = did_you_mean(value, allowed)
            raise ValueError(f"unknown value {value!r} (valid: {', '.join(allowed)}){hint}")
        return value

    return check


def _events(value: list[Any]) -> tuple[str, ...]:
    return tuple(_choice(EVENTS)(v) for v in _strings(value))


def _per_hour(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PER_HOUR:
        raise ValueError(f"expected a whole number from 1 to {MAX_PER_HOUR}, got {value!r}")
    return value


def _typed(kind: type | tuple[type, ...], convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ValueError(f"wrong type {type(value).__name__} for this key ({value!r})")
        return convert(value)

    return check


KEYS: dict[str, Callable[[Any], Any]] = {
    "name": _typed(str, _name),
    "query": _typed(str, _query),
    "sources": _strings,
    "languages": lambda v: tuple(_language(x) for x in _strings(v)),
    "topics": _strings,
    "entities": _strings,
    "relevant": _typed(bool, bool),
    "min_relevance": _score,
    "mode": _typed(str, _choice(MODES)),
    "schedule": _typed(str, lambda v: parse_schedule(v, parse_duration)),
    "timezone": _typed(str, _timezone),
    "quiet_hours": _typed(str, parse_quiet_hours),
    "notify": lambda v: _strings(v if isinstance(v, list) else [v]),
    "max_per_hour": _per_hour,
    "health": _typed(bool, bool),
    "silent_after": lambda v: parse_duration(v, MAX_INTERVAL),
    "on": _events,
}


def load_rules(config: Config, environ: Mapping[str, str] | None = None) -> tuple[AlertRule, ...]:
    """Every ``[[alerts]]`` rule of ``config``, validated; the first problem is a ConfigError."""
    environ = os.environ if environ is None else environ
    path = config.path
    defaults = dict(config.alert_defaults)
    web_url = _web_url(defaults.get("web_url"), path)
    rules: list[AlertRule] = []
    seen: set[str] = set()
    for index, (raw, block) in enumerate(config.alert_tables):
        rule = _build(raw, block, index, path, defaults, web_url, environ, config.names)
        if rule.name in seen:
            raise ConfigError(
                f"duplicate rule name {rule.name!r}",
                path=path,
                source=f"alerts[{index}]",
                key="name",
                line=block.keys.get("name", block.line),
            )
        seen.add(rule.name)
        rules.append(rule)
    return tuple(rules)


def _web_url(value: Any, path: Any) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"bad web_url {value!r}: use the web app's http:// or https:// address",
            path=path,
            source="[defaults]",
            key="web_url",
        )
    return value.rstrip("/")


def _build(raw, block, index, path, defaults, web_url, environ, source_names) -> AlertRule:
    where = f"alerts[{index}]"
    lines = block.keys

    def error(message: str, key: str | None = None, label: str = where) -> ConfigError:
        return ConfigError(
            message, path=path, source=label, key=key, line=lines.get(key, block.line)
        )

    if not isinstance(raw, dict):
        raise error(f"must be a table, got {type(raw).__name__}")
    if "name" not in raw:
        raise error("missing required key", "name")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        label = where if key == "name" else f"rule {values.get('name', where)}"
        if key not in KEYS:
            raise error(
                f"unknown key (valid: {', '.join(KEYS)}){did_you_mean(key, KEYS)}", key, label
            )
        try:
            values[key] = KEYS[key](value)
        except ValueError as exc:
            raise error(str(exc), key, label) from None
    label = f"rule {values['name']}"
    for name in values.get("sources", ()):
        if name not in source_names:
            hint = did_you_mean(name, source_names)
            raise error(f"unknown source {name!r}{hint}", "sources", label)
    _check_shape(values, error, label)
    values.setdefault("timezone", defaults.get("timezone", "UTC"))
    notify = values.pop("notify", None)
    if not notify:
        raise error("missing required key: at least one Apprise URL", "notify", label)
    urls, shown = _channels(notify, environ, lambda m: error(m, "notify", label))
    events = values.pop("on", ("new",))
    return AlertRule(notify=urls, channels=shown, on=events, web_url=web_url, **values)


def _check_shape(values: dict[str, Any], error, label: str) -> None:
    health = values.get("health", False)
    mode = values.get("mode", "instant")
    if health:
        content = [
            k for k in ("query", "topics", "entities", "relevant", "min_relevance") if k in values
        ]
        if content:
            raise error("a health rule matches no stories: remove it or health", content[0], label)
        if "silent_after" not in values:
            values["silent_after"] = None
    elif "silent_after" in values:
        raise error("only applies to health = true rules", "silent_after", label)
    elif not (
        values.get("query")
        or values.get("topics")
        or values.get("entities")
        or values.get("relevant")
        or "min_relevance" in values
    ):
        raise error(
            "give a query or a filter (topics, entities, relevant, min_relevance)", "query", label
        )
    if mode == "digest" and "schedule" not in values:
        raise error('a digest needs a schedule, e.g. "daily 07:30"', "schedule", label)
    if mode != "digest" and "schedule" in values:
        raise error('only applies to mode = "digest"', "schedule", label)
    if "min_relevance" in values and not math.isfinite(values["min_relevance"]):
        raise error("must be a finite number", "min_relevance", label)


def _channels(notify, environ, error) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Resolve ``env:NAME`` and check that Apprise can read every URL (without sending)."""
    import apprise

    urls: list[str] = []
    shown: list[str] = []
    for item in notify:
        url, label = item, item
        if item.startswith("env:"):
            name = item[4:]
            url = environ.get(name, "").strip()
            if not url:
                raise error(f"environment variable {name} (from {item!r}) is not set")
        else:
            parts = urlsplit(item)
            label = f"{parts.scheme}://{parts.hostname or ''}" if parts.scheme else item
        probe = apprise.Apprise()
        if not probe.add(url):
            raise error(f"Apprise cannot use the URL {label!r}: check its scheme and form")
        urls.append(url)
        shown.append(label)
    return tuple(urls), tuple(shown)
