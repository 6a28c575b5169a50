"""The cluster: which host and worker ran a crawl, the live workers, and the jobs retried after a
worker died.

``crawl_runs.host`` and ``crawl_runs.worker`` say where a run happened once several machines crawl
one database; ``cluster_retries`` counts the jobs recovered from a stalled worker, which
``newswatch status`` reports. The task queue's own tables are procrastinate's and are applied by
its schema manager (scheduler.cluster.app), not here.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("worker", sa.Integer(), nullable=True))
    op.create_table(
        "cluster_retries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.Column("retried_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cluster_retries"),
    )
    op.create_index("ix_cluster_retries_retried_at", "cluster_retries", ["retried_at"])
    op.create_table(
        "cluster_workers",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("current", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_cluster_workers"),
    )


def downgrade() -> None:
    op.drop_table("cluster_workers")
    op.drop_index("ix_cluster_retries_retried_at", table_name="cluster_retries")
    op.drop_table("cluster_retries")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("worker")
        batch.drop_column("host")
