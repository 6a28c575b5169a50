"""Where each article's publication date came from: ``articles.date_source``.

A date read from the page's JSON-LD is not as trustworthy as one guessed from a listing card or
the URL's ``/2025/12/11/``; analysts filter the weak ones out. Values: jsonld, meta, page,
listing, sitemap, feed, url, none (see ``storage.types.DATE_SOURCES``). Rows stored before this
column existed are NULL (unknown) when they have a date, and ``none`` when they have none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("date_source", sa.String(16), nullable=True))
    op.execute("UPDATE articles SET date_source = 'none' WHERE published_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("date_source")
