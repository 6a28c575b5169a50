"""Analysis: articles.matched, the embedded-posts table (+ FTS5 on SQLite), and off-topic skips.

``posts`` holds one row per embedded social post of an article (also kept as JSON in
``articles.posts`` for records); ``posts_fts`` indexes author, handle and text with the same
accent-folding tokenizer as ``articles_fts``. ``skipped`` remembers articles a ``keep =
"relevant"`` source judged off-topic (URLs, title, date, score, no text), so they are never
fetched again and never reach search, export or the article index.

Revision ID: 0003
Revises: 0002
Create Date: 2025-12-13
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POSTS_FTS_DDL = [
    """CREATE VIRTUAL TABLE posts_fts USING fts5(
        author, handle, text, content='posts', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER posts_fts_ai AFTER INSERT ON posts BEGIN
        INSERT INTO posts_fts(rowid, author, handle, text)
        VALUES (new.id, new.author, new.handle, new.text);
    END""",
    """CREATE TRIGGER posts_fts_ad AFTER DELETE ON posts BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, author, handle, text)
        VALUES ('delete', old.id, old.author, old.handle, old.text);
    END""",
    """CREATE TRIGGER posts_fts_au AFTER UPDATE OF author, handle, text ON posts BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, author, handle, text)
        VALUES ('delete', old.id, old.author, old.handle, old.text);
        INSERT INTO posts_fts(rowid, author, handle, text)
        VALUES (new.id, new.author, new.handle, new.text);
    END""",
]


def upgrade() -> None:
    op.add_column("articles", sa.Column("matched", sa.JSON(), nullable=True))
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("handle", sa.Text(), nullable=True),
        sa.Column("date", sa.String(40), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_posts"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_posts_article_id_articles", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_posts_article_id", "posts", ["article_id"])
    op.create_table(
        "skipped",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("published_offset", sa.Integer(), nullable=True),
        sa.Column("relevance", sa.Float(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=True),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_skipped"),
        sa.UniqueConstraint("canonical_url", name="uq_skipped_canonical_url"),
    )
    op.create_index("ix_skipped_url", "skipped", ["url"])
    op.create_index("ix_skipped_source", "skipped", ["source"])
    if op.get_bind().dialect.name == "sqlite":
        for ddl in POSTS_FTS_DDL:
            op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("posts_fts_au", "posts_fts_ad", "posts_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS posts_fts")
    op.drop_index("ix_skipped_source", table_name="skipped")
    op.drop_index("ix_skipped_url", table_name="skipped")
    op.drop_table("skipped")
    op.drop_index("ix_posts_article_id", table_name="posts")
    op.drop_table("posts")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("matched")
