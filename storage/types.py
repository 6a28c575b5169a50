"""Typed records that cross the crawler → storage boundary.

`storage` imports nothing of ours, so the item the crawler hands over is defined here and the
crawler builds it. Times are timezone-aware; storage keeps them in UTC plus the original offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DATE_SOURCES: tuple[str, ...] = (
    "jsonld",
    "meta",
    "page",
    "listing",
    "sitemap",
    "feed",
    "url",
    "none",
)
"""Where an article's ``published_at`` was read, strongest first: the page's JSON-LD, its meta
tags, its visible markup or text, the listing page, sitemap or feed that linked to it, the date
in its URL path (day only), or nowhere (``published_at`` is None)."""


@dataclass(slots=True)
class ArticleRecord:
    """One extracted article, ready to store.

    The dedupe key has a fixed fallback order: ``(source, guid)`` when the feed gave a guid, else
    ``canonical_url``, else ``(source, content_hash)``. Each is backed by a unique index.
    """

    source: str
    url: str
    canonical_url: str
    title: str
    text: str
    content_hash: str
    fetched_at: datetime
    guid: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    date_source: str = "none"
    """Where ``published_at`` came from: one of :data:`DATE_SOURCES`."""
    updated_at: datetime | None = None
    language: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    description: str | None = None
    raw_html: bytes = b""
    raw_html_z: bytes | None = None
    """The raw HTML already compressed by :func:`storage.records.compress_html` (wins over
    ``raw_html``): the crawler compresses in its extraction workers, off the writer's core."""
    alt_urls: list[str] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    minhash: list[int] | None = None
    """Near-duplicate signature of the body (None: too short to judge, exact dedupe only)."""
    shingle_count: int | None = None
    """How many distinct shingles the signature was made from (containment checks need set
    sizes); None: storage estimates it from the text."""
    credited_source: str | None = None
    """The outlet or agency the text credits ("Fuente: X", "(AP)"), normalised."""
    relevance: float | None = None
    """Overall relevance in [0, 1] against the topic profile (None: not scored)."""
    relevant: bool | None = None
    topics: dict[str, float] = field(default_factory=dict)
    """Reported topics and their scores, best first."""
    matched: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per topic, the matched terms with counts (the explanation of the scores)."""
    entities: list[dict[str, Any]] = field(default_factory=list)
    kept: bool = True
    """False: off-topic under ``keep = "relevant"``; only URL, title, date and score are kept."""
    etag: str | None = None
    """The page's validators as served, for revisits' conditional GET: stored with the text
    they describe (same transaction), so a crash can never pair old text with new validators."""
    last_modified: str | None = None


@dataclass(slots=True)
class StoreResult:
    """What storing one record did: ``new``, ``updated`` or ``duplicate``."""

    outcome: str
    article_id: int


@dataclass(slots=True)
class SourceInfo:
    """A configured source as storage sees it (the crawler's config, flattened)."""

    name: str
    kind: str
    url: str
    title: str
    language: str | None
    timezone: str
    enabled: bool = True
    fingerprint: str = ""


@dataclass(slots=True)
class RunCounts:
    """Per-source counters of one crawl run, as shown in the summary and kept in ``crawl_runs``."""

    entries: int = 0
    pages: int = 0
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


ARTICLE_TIME = "coalesce(published_at, first_seen_at)"
"""An article's time, the one rule: when it says it was published, else when it was first seen.

Not ``fetched_at``, which moves every time a changed page is fetched again. Filters (``--since``),
ordering, a story's timeline and its original all use it (``storage.models.article_time`` in
SQL, :func:`article_time_of` in Python)."""


def article_time_of(row: Mapping[str, Any]) -> datetime | None:
    """:data:`ARTICLE_TIME` of an article already read (a record or a row mapping)."""
    return row.get("published_at") or row.get("first_seen_at")
