"""Test helpers shared by the suite: the fixture HTTP server and a sources-file writer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tests.support.server import FIXTURES_DIR, FixtureServer, RequestLog

__all__ = [
    "DEFAULT_FIXTURE_SOURCES",
    "FIXTURES_DIR",
    "FIXTURE_SOURCES",
    "SITEMAP_MAX_AGE",
    "FixtureServer",
    "RequestLog",
    "write_sources_toml",
]

SITEMAP_MAX_AGE = f"{(datetime.now(UTC).date() - date(2025, 11, 1)).days}d"
"""A ``max_age`` that keeps the fixture sitemaps' December 2025 entries and drops the 2024 ones,
whatever today's date is."""

FIXTURE_SOURCES: dict[str, dict[str, Any]] = {
    "tribuna": {
        "title": "Tribuna del Yaqui (fixture)",
        "kind": "feed",
        "path": "/tribuna/feed.xml",
        "language": "es",
        "timezone": "America/Hermosillo",
        "interval": "10m",
    },
    "borderreport": {
        "title": "Border Report (fixture)",
        "kind": "feed",
        "path": "/borderreport/atom.xml",
        "language": "en",
        "timezone": "America/Denver",
        "interval": "15m",
    },
    "sitemapsite": {
        "title": "El Diario Nacional (fixture)",
        "kind": "sitemap",
        "path": "/",
        "language": "es",
        "timezone": "America/Mexico_City",
        "interval": "30m",
        "max_age": SITEMAP_MAX_AGE,
    },
    "listingsite": {
        "title": "Sala de Prensa, boletines de seguridad (fixture)",
        "kind": "listing",
        "path": "/listingsite/boletines/",
        "language": "es",
        "timezone": "America/Mexico_City",
        "interval": "30m",
        "link_selector": "article.nota h2 a",
        "max_pages": 2,
        "allow": [r"/\d{4}/\d{2}/\d{2}/"],
        "deny": ["/tag/", "/autor/"],
        "body_selector": ".cuerpo-nota",
        "title_selector": "h1.titulo",
        "date_selector": ".datos .fecha",
        "remove_selectors": [".relacionada", ".compartir"],
    },
    "pressoffice": {
        "title": "Secretaría de Salud, comunicados (fixture)",
        "kind": "listing",
        "path": "/pressoffice/comunicados/",
        "language": "es",
        "timezone": "America/Hermosillo",
        "interval": "30m",
        "max_pages": 2,
    },
}
"""The fixture sites as sources, in file order; ``path`` is relative to the server's base URL.

``sitemapsite`` is a site root, so its sitemaps are found through the server's robots.txt;
``listingsite`` needs extraction overrides. Both reach the tribuna seed article too.
``pressoffice`` is a listing without selectors: its links are found by the heuristic and its
pages must show article evidence (nav, section, topic and pager pages must not be stored)."""

DEFAULT_FIXTURE_SOURCES: tuple[str, ...] = ("tribuna", "borderreport")
"""What ``names=None`` selects: the two feed sites the original end-to-end tests were written for."""

_BASIC_KEYS = ("title", "kind", "path", "language", "timezone", "interval")


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return _toml_str(str(value))


def write_sources_toml(path: Path, base_url: str, names: list[str] | None = None) -> Path:
    """Write a sources file pointing at the fixture server; ``names`` selects and orders sources.

    ``names=None`` means :data:`DEFAULT_FIXTURE_SOURCES` (the two feeds), not every fixture site,
    so tests written before the sitemap and listing sites keep crawling exactly what they did.
    """
    chosen = list(DEFAULT_FIXTURE_SOURCES) if names is None else names
    unknown = [n for n in chosen if n not in FIXTURE_SOURCES]
    if unknown:
        raise KeyError(f"unknown fixture source(s): {', '.join(unknown)}")
    lines = ["[defaults]", "delay = 0", "concurrency = 8", ""]
    for name in chosen:
        src = FIXTURE_SOURCES[name]
        lines += [
            "[[sources]]",
            f"name = {_toml_str(name)}",
            f"title = {_toml_str(src['title'])}",
            f"kind = {_toml_str(src['kind'])}",
            f"url = {_toml_str(base_url.rstrip('/') + src['path'])}",
            f"language = {_toml_str(src['language'])}",
            f"timezone = {_toml_str(src['timezone'])}",
            f"interval = {_toml_str(src['interval'])}",
            *(f"{k} = {_toml_value(v)}" for k, v in src.items() if k not in _BASIC_KEYS),
            "",
        ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
