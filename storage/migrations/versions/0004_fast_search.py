"""Fast search and containment dedupe: articles.shingles and indexes for search filters.

``shingles`` is the size of the shingle set an article's MinHash signature was made from, so a
copy with its ending cut (nearly all *contained* in the original) can be told from a brief that
quotes a long article. Existing rows get NULL: ``newswatch recluster`` fills it in.

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


def upgrade() -> None:
    op.add_column("articles", sa.Column("shingles", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("shingles")
