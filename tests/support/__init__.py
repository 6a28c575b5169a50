"""Test helpers shared by the suite: the fixture HTTP server and a sources-file writer."""

from __future__ import annotations

from pathlib import Path

from tests.support.server import FIXTURES_DIR, FixtureServer, RequestLog

__all__ = ["FIXTURES_DIR", "FIXTURE_SOURCES", "FixtureServer", "RequestLog", "write_sources_toml"]

FIXTURE_SOURCES: dict[str, dict[str, str]] = {
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
}
"""The fixture sites as sources, in file order; ``path`` is relative to the server's base URL."""


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_sources_toml(path: Path, base_url: str, names: list[str] | None = None) -> Path:
    """Write a sources file pointing at the fixture server; ``names`` selects and orders sources."""
    chosen = list(FIXTURE_SOURCES) if names is None else names
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
            "",
        ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
