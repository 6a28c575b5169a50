"""The search date indexes follow the one rule for an article's time: published, else first seen.

Search filtered and ordered on ``coalesce(published_at, fetched_at)`` while a story's timeline and
its original used ``coalesce(published_at, first_seen_at)``: an undated article that was fetched
again (its text changed) moved forward in search but not in its story. ``fetched_at`` is when we
last fetched the page, not the article's time, so every place now uses
``storage.types.ARTICLE_TIME``, and the two expression indexes of 0004 are rebuilt on it (the
planner uses an expression index only for the very same expression).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ARTICLE_TIME = "coalesce(published_at, first_seen_at)"
OLD = "coalesce(published_at, fetched_at)"


def _rebuild(expression: str) -> None:
    op.drop_index("ix_articles_source_when", table_name="articles")
    op.drop_index("ix_articles_when", table_name="articles")
    op.create_index("ix_articles_when", "articles", [sa.text(expression), "language"])
    op.create_index(
        "ix_articles_source_when", "articles", ["source", sa.text(expression), "language"]
    )


def upgrade() -> None:
    _rebuild(ARTICLE_TIME)


def downgrade() -> None:
    _rebuild(OLD)
