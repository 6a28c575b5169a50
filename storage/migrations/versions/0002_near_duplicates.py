"""Near duplicates: lsh_bands index, articles.minhash and articles.cluster_rep.

Existing articles become one-member clusters (cluster_id = id, representative) until
``newswatch recluster`` signs and groups them.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-13
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lsh_bands",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "band", name="pk_lsh_bands"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_lsh_bands_article_id_articles",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_lsh_bands_band_hash", "lsh_bands", ["band", "hash"])
    op.add_column("articles", sa.Column("minhash", sa.LargeBinary(), nullable=True))
    op.add_column(
        "articles",
        sa.Column("cluster_rep", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE articles SET cluster_id = id WHERE cluster_id IS NULL")
    op.execute(sa.text("UPDATE articles SET cluster_rep = :t").bindparams(t=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("cluster_rep")
        batch.drop_column("minhash")
    op.drop_index("ix_lsh_bands_band_hash", table_name="lsh_bands")
    op.drop_table("lsh_bands")
