"""Edit history: previous versions of an article, withdrawn articles, revisit state.

``article_versions`` keeps each version a fetch replaced (written in the same transaction as the
in-place update); ``articles`` gains ``withdrawn_at`` (the page answered 404/410 on a revisit),
the page's validators for conditional GET (``etag``, ``last_modified``) and ``next_revisit_at``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    ("withdrawn_at", sa.DateTime()),
    ("etag", sa.Text()),
    ("last_modified", sa.Text()),
    ("next_revisit_at", sa.DateTime()),
)


def upgrade() -> None:
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=True),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("text_z", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(length=128), nullable=False),
        sa.Column("chars_added", sa.Integer(), nullable=False),
        sa.Column("chars_removed", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_versions_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_article_versions"),
        sa.UniqueConstraint("article_id", "seq", name="uq_article_versions_article_id_seq"),
    )
    op.create_index("ix_article_versions_replaced_at", "article_versions", ["replaced_at"])
    for name, kind in NEW_COLUMNS:
        op.add_column("articles", sa.Column(name, kind, nullable=True))
    op.create_index("ix_articles_next_revisit_at", "articles", ["source", "next_revisit_at"])


def downgrade() -> None:
    op.drop_index("ix_articles_next_revisit_at", table_name="articles")
    for name, _ in reversed(NEW_COLUMNS):
        op.drop_column("articles", name)  # not batch: a table copy would lose the FTS triggers
    op.drop_index("ix_article_versions_replaced_at", table_name="article_versions")
    op.drop_table("article_versions")
