"""JSON-LD: the article object of a page's ``ld+json`` scripts and an index of its ``@id`` nodes.

Publishers write JSON-LD loosely (HTML comments and CDATA around it, raw control characters,
``@graph`` nesting, authors given as ``{"@id": …}`` references), so reading is forgiving and
every accessor accepts a value, a list of values or a reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from crawler.articles.extraction.values import clean

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "askpublicnewsarticle",
        "livebligposting",
        "liveblogposting",
        "scholarlyarticle",
        "report",
    }
)

JsonObject = dict[str, Any]


def _load_json(text: str) -> Any:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    if text.startswith("//<![CDATA["):
        text = text.removeprefix("//<![CDATA[").removesuffix("//]]>")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(re.sub(r"[\x00-\x1f]", " ", text), strict=False)
    except ValueError:
        return None


def _walk(node: Any, depth: int = 0) -> Iterator[JsonObject]:
    if depth > 6:
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, depth + 1)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in node:
                yield from _walk(node[key], depth + 1)


def _types(node: JsonObject) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.lower() for v in values if isinstance(v, str)}


def collect_jsonld(scripts: Iterable[str]) -> tuple[JsonObject | None, dict[str, JsonObject]]:
    """The first article-typed object (the one with a headline if several) and an @id index."""
    best: JsonObject | None = None
    ids: dict[str, JsonObject] = {}
    for script in scripts:
        data = _load_json(script)
        if data is None:
            continue
        for node in _walk(data):
            if isinstance(node.get("@id"), str):
                ids.setdefault(node["@id"], node)
            if _types(node) & ARTICLE_TYPES and (
                best is None or (not best.get("headline") and node.get("headline"))
            ):
                best = node
    return best, ids


def resolve(node: Any, ids: dict[str, JsonObject]) -> Any:
    """The object a bare ``{"@id": …}`` reference points to, else ``node`` itself."""
    if isinstance(node, dict) and set(node) <= {"@id", "@type"} and node.get("@id") in ids:
        return ids[node["@id"]]
    return node


def jsonld_names(value: Any, ids: dict[str, JsonObject]) -> list[str]:
    """Names of a person/organization value (a name, an object, a reference, or a list)."""
    values = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in values:
        item = resolve(item, ids)
        if isinstance(item, dict):
            item = item.get("name")
            if isinstance(item, list):
                item = item[0] if item else None
        cleaned = clean(item)
        if cleaned:
            names.append(cleaned)
    return names


def jsonld_url(value: Any, ids: dict[str, JsonObject]) -> str | None:
    """The URL of a value that may be a URL, an ImageObject/WebPage, a reference or a list."""
    if isinstance(value, list):
        value = value[0] if value else None
    value = resolve(value, ids)
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
        if isinstance(value, list):
            value = value[0] if value else None
    return clean(value)


def jsonld_list(value: Any) -> list[str]:
    """A comma-separated string or a list of strings (keywords, sections) as clean strings."""
    if isinstance(value, str):
        return [v for v in (clean(p) for p in value.split(",")) if v]
    if isinstance(value, list):
        return [v for v in (clean(p) for p in value) if v]
    return []
