"""Fast search and containment dedupe: articles.shingles and indexes for search filters.

``shingles`` is the size of the shingle set an article's MinHash signature was made from, so a
copy with its ending cut (nearly all *contained* in the original) can be told from a brief that
quotes a long article. Existing rows get NULL: ``newswatch recluster`` fills it in.

Search filters on the article's date (``coalesce(published_at, fetched_at)``), source and
language are evaluated as an index-only subquery (``rowid IN (SELECT id FROM articles …)``)
inside the FTS5 ranking. Without these indexes that subquery reads whole rows (the date and
language columns sit after the body, in overflow pages): 280 ms for a 3-month window at 100k
articles, 7 ms with them. ``language`` is a trailing column so a language filter is checked from
the index too. Expression indexes are not modelled in ``storage.models`` (SQLAlchemy cannot
reflect them on SQLite), like the FTS tables.

Revision ID: 0004
Revises: 0003
Create Date: 2025-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


WHEN = "coalesce(published_at, fetched_at)"


def upgrade() -> None:
    op.add_column("articles", sa.Column("shingles", sa.Integer(), nullable=True))
    op.create_index("ix_articles_when", "articles", [sa.text(WHEN), "language"])
    op.create_index("ix_articles_source_when", "articles", ["source", sa.text(WHEN), "language"])


def downgrade() -> None:
    op.drop_index("ix_articles_source_when", table_name="articles")
    op.drop_index("ix_articles_when", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("shingles")
