"""The search page's reads beyond :func:`storage.search.search`: the newest stories when nothing
is asked, and the facets and histogram of a search (:func:`storage.search.facets.facets`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from storage.search import Analysis, export
from storage.search.facets import facets

SNIPPET_WORDS = 40


def newest_stories(
    url: str,
    *,
    since: datetime | None,
    until: datetime | None,
    sources: list[str] | None,
    languages: list[str] | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Newest first, one record per story (its newest copy), ``snippet`` the text's opening.

    The export streams newest first, so reading stops as soon as the page is full."""
    seen: set[Any] = set()
    out: list[dict[str, Any]] = []
    records = export(url, since=since, until=until, sources=sources, languages=languages)
    for record in records:
        key = record["cluster_id"] if record["cluster_id"] is not None else ("a", record["id"])
        if key in seen:
            continue
        seen.add(key)
        words = (record.get("text") or "").split()
        more = "…" if len(words) > SNIPPET_WORDS else ""
        record["snippet"] = " ".join(words[:SNIPPET_WORDS]) + more
        out.append(record)
        if len(out) >= offset + limit:
            break
    return out[offset:]


FACETS_POOL = ThreadPoolExecutor(4, thread_name_prefix="nw-facets")
"""Facets are counted while the page of results is read (API and search page alike): both are
mostly SQLite work, which runs outside the GIL, so a search with facets costs about the slower
of the two."""


def search_facets(
    url: str,
    query: str | None,
    *,
    since: datetime | None,
    until: datetime | None,
    sources: list[str] | None,
    languages: list[str] | None,
    analysis: Analysis,
) -> dict[str, Any]:
    """Counts per source, language, topic, entity and relevance, and the date histogram."""
    return facets(
        url, query or None, since=since, until=until, sources=sources, languages=languages,
        analysis=analysis if analysis else None,
    )  # fmt: skip
