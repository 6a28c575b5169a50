"""The search page's reads beyond :func:`storage.search.search`: the newest stories when nothing
is asked, and the facets and histogram of a search.

Facet counts come from ``storage.search.facets`` (one query per facet in the database). Until
that module is on this branch, :func:`_counted_facets` counts the same figures from the export
stream, which is fine for a small archive and is dropped once the real one is merged.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

from storage.search import Analysis, export

try:  # the facets read ships with the JSON API's branch
    from storage.search.facets import facets as _db_facets
except ImportError:  # pragma: no cover - removed once both branches are merged
    _db_facets = None


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
    """Newest first, one record per story (its newest copy), ``snippet`` the text's opening."""
    seen: set[Any] = set()
    out: list[dict[str, Any]] = []
    records = export(url, since=since, until=until, sources=sources, languages=languages)
    for record in records:
        key = record["cluster_id"] if record["cluster_id"] is not None else ("a", record["id"])
        if key in seen:
            continue
        seen.add(key)
        text = " ".join((record.get("text") or "").split()[:40])
        record["snippet"] = text + ("…" if len((record.get("text") or "").split()) > 40 else "")
        out.append(record)
        if len(out) >= offset + limit:
            break
    return out[offset:]


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
    scope = {"since": since, "until": until, "sources": sources, "languages": languages}
    if _db_facets is not None:
        return _db_facets(url, query, **scope, analysis=analysis or None)
    return _counted_facets(url, query, scope, analysis)


FALLBACK_LIMIT = 20_000


def _counted_facets(
    url: str, query: str | None, scope: dict[str, Any], analysis: Analysis
) -> dict[str, Any]:
    records = islice(export(url, query=query, **scope, analysis=analysis), FALLBACK_LIMIT)
    counts: dict[str, Counter] = {k: Counter() for k in ("sources", "languages", "topics")}
    entities: Counter = Counter()
    names: dict[str, str] = {}
    relevant: Counter = Counter()
    days: dict[date, set] = {}
    total = 0
    for r in records:
        total += 1
        counts["sources"][r["source"]] += 1
        counts["languages"][(r["language"] or "?").split("-")[0]] += 1
        counts["topics"].update((r.get("topics") or {}).keys())
        for e in r.get("entities") or []:
            if isinstance(e, dict) and e.get("id"):
                entities[e["id"]] += 1
                names[e["id"]] = e.get("name") or e["id"]
        relevant[{True: "true", False: "false"}.get(r["relevant"], "unknown")] += 1
        when = r["published_at"] or r["fetched_at"]
        if when:
            day = datetime.fromisoformat(when).astimezone(UTC).date()
            days.setdefault(day, set()).add(r["cluster_id"] or ("a", r["id"]))
    out: dict[str, Any] = {
        k: [{"value": v, "count": n} for v, n in c.most_common(10)] for k, c in counts.items()
    }
    out["entities"] = [{"value": names[v], "count": n} for v, n in entities.most_common(10)]
    out["relevant"] = {k: relevant.get(k, 0) for k in ("true", "false", "unknown")}
    out["articles"] = total
    out["stories"] = len(set().union(*days.values())) if days else 0
    out["histogram"] = _day_bars(days)
    return out


def _day_bars(days: dict[date, set]) -> dict[str, Any]:
    if not days:
        return {"bucket": "day", "bars": []}
    first, last = min(days), max(days)
    bars = []
    day = first
    while day <= last:
        end = day + timedelta(days=1)
        bars.append(
            {"start": day.isoformat(), "end": end.isoformat(), "stories": len(days.get(day, ()))}
        )
        day = end
    return {"bucket": "day", "bars": bars}
