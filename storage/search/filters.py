"""Which articles a search or export may return: date, source and language filters, and the
analysis filters (topics, entities, relevance), as SQL where the database can, else in Python."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, literal_column, or_, select, text

from storage.db import is_sqlite
from storage.models import article_versions, articles
from storage.records import to_utc
from storage.search.sql import when
from storage.textfold import fold


@dataclass(frozen=True, slots=True)
class Analysis:
    """Filters on the analysis columns (see ``docs/analysis.md``); empty means no filter.

    ``topics``: the article reports every one of these topics (a reported topic scored at or
    above the profile's topic floor); ``entities``: it mentions every one of these (entity id
    or display name, accent- and case-insensitive); ``min_score``: relevance at least this;
    ``relevant``: only articles at or above the profile's threshold.
    """

    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    min_score: float | None = None
    relevant: bool = False
    changed_since: datetime | None = None
    """Only articles with a substantive change (a non-minor version) recorded at or after this."""

    def __bool__(self) -> bool:
        return bool(
            self.topics
            or self.entities
            or self.min_score is not None
            or self.relevant
            or self.changed_since is not None
        )

    @property
    def needs_python(self) -> bool:
        """Whether, off SQLite (no JSON1 functions), records must be filtered in Python."""
        return bool(self.topics or self.entities)


def row_filters(
    since: datetime | None,
    until: datetime | None,
    sources: Sequence[str] | None,
    languages: Sequence[str] | None,
) -> list:
    """SQL conditions for the date window (``[since, until)``), sources and language codes (a
    code also matches its regional variants: ``es`` matches ``es-MX``)."""
    where = []
    if since is not None:
        where.append(when() >= to_utc(since))
    if until is not None:
        where.append(when() < to_utc(until))
    if sources:
        where.append(articles.c.source.in_(list(sources)))
    if languages:
        lang = func.lower(articles.c.language)
        codes = [code.strip().lower() for code in languages if code.strip()]
        where.append(or_(*(or_(lang == c, lang.like(c + "-%")) for c in codes)))
    return where


def changed_filter(since: datetime):
    """Articles edited substantively (storage.minor) since ``since``: a version row says so."""
    v = article_versions.c
    changed = select(v.article_id).where(v.replaced_at >= to_utc(since), v.minor.is_(False))
    return articles.c.id.in_(changed)


def analysis_filters(engine: Engine, analysis: Analysis) -> list:
    """SQL conditions for the analysis filters; topic/entity ones only on SQLite (JSON1)."""
    where: list = []
    a = articles.c
    if analysis.min_score is not None:
        where.append(a.relevance >= float(analysis.min_score))
    if analysis.relevant:
        where.append(a.relevant.is_(True))
    if analysis.changed_since is not None:
        where.append(changed_filter(analysis.changed_since))
    if not is_sqlite(engine):
        return where
    for i, topic in enumerate(analysis.topics):
        name = f"topic_{i}"
        where.append(
            text(
                f"EXISTS (SELECT 1 FROM json_each(articles.topics) AS jt WHERE jt.key = :{name})"
            ).bindparams(bindparam(name, topic.strip().lower()))
        )
    for i, ids in enumerate(entity_ids(engine, analysis.entities)):
        if not ids:
            where.append(literal_column("0") == 1)
            continue
        name = f"entity_{i}"
        where.append(
            text(
                "EXISTS (SELECT 1 FROM json_each(articles.entities) AS je "
                f"WHERE json_extract(je.value, '$.id') IN :{name})"
            ).bindparams(bindparam(name, sorted(ids), expanding=True))
        )
    return where


def entity_ids(engine: Engine, wanted: Iterable[str]) -> list[set[str]]:
    """For each ``--entity`` value, the stored entity ids it names (by id or display name).

    Names are compared accent- and case-folded, so "Secretaria de Relaciones Exteriores" finds
    the SRE. The stored (id, name) pairs are read once; there are only as many as the gazetteer.
    """
    wanted = [w for w in wanted if w and w.strip()]
    if not wanted:
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(articles.c.entities).where(articles.c.entities.is_not(None)))
        known: dict[str, set[str]] = {}
        for (entities,) in rows:
            for item in entities or []:
                if isinstance(item, dict) and item.get("id"):
                    ident = str(item["id"])
                    known.setdefault(_entity_key(ident), set()).add(ident)
                    if item.get("name"):
                        known.setdefault(_entity_key(str(item["name"])), set()).add(ident)
    return [known.get(_entity_key(w), set()) for w in wanted]


def _entity_key(value: str) -> str:
    """An entity id or name as compared: folded, ``_`` as a space, spaces collapsed."""
    return " ".join(fold(value, same_length=True).replace("_", " ").split())


def record_matches(record: dict[str, Any], topics: Iterable[str], ids: list[set[str]]) -> bool:
    """Python-side topic/entity filter (databases without SQLite's JSON functions)."""
    have_topics = set((record.get("topics") or {}).keys())
    if any(t.strip().lower() not in have_topics for t in topics):
        return False
    have_ids = {str(e.get("id")) for e in record.get("entities") or [] if isinstance(e, dict)}
    return all(have_ids & wanted for wanted in ids)


Backend = Callable[..., list[dict[str, Any]]]
"""A search backend: ``(engine, parsed, filters, limit, offset)`` → records, best first."""


def python_filtered(backend: Backend, analysis: Analysis) -> Backend:
    """Wrap a search backend so topic/entity filters are applied to its records."""

    def run(engine: Engine, parsed, filters, limit, offset) -> list[dict]:
        ids = entity_ids(engine, analysis.entities)
        hits = backend(engine, parsed, filters, (limit + offset) * 4 + 50, 0)
        kept = [h for h in hits if record_matches(h, analysis.topics, ids)]
        return kept[offset : offset + limit]

    return run
