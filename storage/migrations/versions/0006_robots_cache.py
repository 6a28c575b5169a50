"""robots.txt kept between runs: one row per site (``host:port``), reused while it is fresh.

A daemon polls each feed every few minutes, and every poll fetched the site's robots.txt before
its feed: for a site with nothing new, half of what newswatch asked of it was robots.txt. The
file and its HTTP status are kept here with the time they were fetched and reused for
``NEWSWATCH_ROBOTS_TTL`` (an hour by default; RFC 9309 allows up to 24 hours). A failed fetch
(no answer at all) is not kept, so it is tried again on the next run.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "robots_txt",
        sa.Column("netloc", sa.String(300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("netloc", name="pk_robots_txt"),
    )


def downgrade() -> None:
    op.drop_table("robots_txt")
