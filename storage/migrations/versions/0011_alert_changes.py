"""Alerts on changed stories: each rule's watermark over ``article_versions``.

A change alert is a delivery row like any other, keyed ``change:<article>:<version>`` under the
existing unique (rule, key): once per (rule, story, version) with no second unique index. What
the schema lacked is where a rule has read the versions up to (an id, like ``last_id`` for
articles, so the crawl's clock and the evaluator's never disagree). Rules that exist when this
runs start from the newest version: an upgrade never alerts on old edits.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_rules") as batch:
        batch.add_column(
            sa.Column("last_version_id", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE alert_rules SET last_version_id = "
        "(SELECT COALESCE(MAX(id), 0) FROM article_versions)"
    )


def downgrade() -> None:
    with op.batch_alter_table("alert_rules") as batch:
        batch.drop_column("last_version_id")
