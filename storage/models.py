"""SQLAlchemy 2.0 table definitions.

Conventions: every ``DateTime`` column holds *naive UTC*; where the original offset matters for
display (``published_at``, ``updated_at``) it is kept in minutes next to it, so records can show
``2025-12-11T09:15:00-07:00`` as the source wrote it. ``articles.source`` is an indexed plain
string rather than a foreign key so articles can be stored before (or after) a source's config row
exists. The FTS5 index ``articles_fts`` and its triggers are created in the migration (SQLite only)
and are not modelled here.

The schema itself is owned by the Alembic migrations; a test checks these models against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    fingerprint: Mapped[str] = mapped_column(String(128), default="")
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_attempt: Mapped[datetime | None] = mapped_column(DateTime)
    last_success: Mapped[datetime | None] = mapped_column(DateTime)
    next_due: Mapped[datetime | None] = mapped_column(DateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    backoff_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source", "guid", name="uq_articles_source_guid"),
        UniqueConstraint("source", "content_hash", name="uq_articles_source_content_hash"),
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_fetched_at", "fetched_at"),
        Index("ix_articles_first_seen_at", "first_seen_at"),
        Index("ix_articles_cluster_id", "cluster_id"),
        Index("ix_articles_next_revisit_at", "source", "next_revisit_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    guid: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_offset: Mapped[int | None] = mapped_column(Integer)
    date_source: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_offset: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(16))
    section: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    image: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    raw_html: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(128))
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)
    last_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    relevance: Mapped[float | None] = mapped_column(Float)
    relevant: Mapped[bool | None] = mapped_column(Boolean)
    topics: Mapped[Any | None] = mapped_column(JSON)
    entities: Mapped[Any | None] = mapped_column(JSON)
    posts: Mapped[Any | None] = mapped_column(JSON)
    cluster_id: Mapped[int | None] = mapped_column(Integer)
    credited_source: Mapped[str | None] = mapped_column(Text)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    cluster_rep: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    matched: Mapped[Any | None] = mapped_column(JSON)
    shingles: Mapped[int | None] = mapped_column(Integer)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    next_revisit_at: Mapped[datetime | None] = mapped_column(DateTime)


class ArticleVersion(Base):
    """A previous version of an article, kept when a fetch changed it (see storage/versions.py).

    ``text_z`` is the previous text zstd-compressed with the NEXT version's text as its dictionary
    (a reverse delta): an edit costs bytes for what changed, not for the whole text.
    """

    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "seq", name="uq_article_versions_article_id_seq"),
        Index("ix_article_versions_replaced_at", "replaced_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    replaced_at: Mapped[datetime] = mapped_column(DateTime)
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    description: Mapped[str | None] = mapped_column(Text)
    text_z: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(128))
    chars_added: Mapped[int] = mapped_column(Integer, default=0)
    chars_removed: Mapped[int] = mapped_column(Integer, default=0)
    minor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ArticleUrl(Base):
    """Every URL that led to a stored article (fetched URL, tracking-laden feed link, AMP, mirror)."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )


class LshBand(Base):
    """One LSH band of an article's MinHash signature: near-duplicate candidates share a row's
    ``(band, hash)``, found through one indexed lookup whatever the corpus size."""

    __tablename__ = "lsh_bands"
    __table_args__ = (Index("ix_lsh_bands_band_hash", "band", "hash"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger)


class Post(Base):
    """One embedded social post of an article, searchable on its own (``posts_fts`` on SQLite)."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(32))
    author: Mapped[str | None] = mapped_column(Text)
    handle: Mapped[str | None] = mapped_column(Text)
    date: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)


class Skipped(Base):
    """An article a ``keep = "relevant"`` source judged off-topic: remembered, not kept."""

    __tablename__ = "skipped"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(Text, index=True)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_offset: Mapped[int | None] = mapped_column(Integer)
    relevance: Mapped[float | None] = mapped_column(Float)
    topics: Mapped[Any | None] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(128))
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[Any | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    """The machine of the process that ran it (cluster workers: the worker's host)."""
    worker: Mapped[int | None] = mapped_column(Integer)
    """The pid of the cluster worker that started the crawl process (None for the daemon)."""


class ClusterRetry(Base):
    """One cluster job retried because its worker stopped beating (``newswatch status``)."""

    __tablename__ = "cluster_retries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(Integer)
    sources: Mapped[Any | None] = mapped_column(JSON)
    retried_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ClusterWorker(Base):
    """One live ``newswatch worker`` (its own heartbeat), for ``newswatch status``."""

    __tablename__ = "cluster_workers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)
    job_id: Mapped[int | None] = mapped_column(Integer)
    current: Mapped[Any | None] = mapped_column(JSON)


class DaemonLock(Base):
    """At most one row (id 1): which daemon process schedules this database, and its heartbeat."""

    __tablename__ = "daemon_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)


class RobotsTxt(Base):
    """A site's robots.txt as last fetched (HTTP status and body), reused while fresh."""

    __tablename__ = "robots_txt"

    netloc: Mapped[str] = mapped_column(String(300), primary_key=True)
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)


RUN_OUTCOMES = ("running", "ok", "failed", "aborted", "timeout")


class AlertRule(Base):
    """An alert rule's progress: stories first stored after ``start_id`` are new to it."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    start_id: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer)
    last_evaluated_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_version_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AlertDelivery(Base):
    """One thing a rule tells its channels, once: unique on (rule, key)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("rule", "key", name="uq_alert_deliveries_rule_key"),
        Index("ix_alert_deliveries_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(400))
    story_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    matched_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    channels_sent: Mapped[Any | None] = mapped_column(JSON)
    payload: Mapped[Any | None] = mapped_column(JSON)


class AlertHealth(Base):
    """The last source state a health rule reported (ok, failing, silent)."""

    __tablename__ = "alert_health"

    rule: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(DateTime)


articles = Article.__table__
sources = Source.__table__
article_urls = ArticleUrl.__table__
lsh_bands = LshBand.__table__
posts = Post.__table__
skipped = Skipped.__table__
crawl_runs = CrawlRun.__table__
daemon_lock = DaemonLock.__table__
cluster_retries = ClusterRetry.__table__
cluster_workers = ClusterWorker.__table__
robots_txt = RobotsTxt.__table__
alert_rules = AlertRule.__table__
alert_deliveries = AlertDelivery.__table__
alert_health = AlertHealth.__table__
article_versions = ArticleVersion.__table__


def article_time() -> Any:
    """An article's time as a SQL expression over ``articles``: the one rule,
    :data:`storage.types.ARTICLE_TIME` (the search indexes are built on it, migration 0008)."""
    return func.coalesce(articles.c.published_at, articles.c.first_seen_at)
