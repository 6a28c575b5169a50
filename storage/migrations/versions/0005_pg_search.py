"""Indexed full-text search on PostgreSQL: ``articles.search_tsv``, ``posts.search_tsv``, GIN.

SQLite has searched through FTS5 since 0001; PostgreSQL matched a regular expression against
every article's folded text, a sequential scan that grows with the archive. This adds a stored
generated ``tsvector`` of the title (weight A) and body (weight B), lower-cased and accent-folded
the way queries are (``translate`` of the Spanish/Latin accents, the same fold the old path
used) and split by PostgreSQL's ``simple`` parser (no stemming, no stop words), plus a GIN
index, so a query reads only the matching rows. Embedded posts get the same over author,
handle and text (one weight). Queries are parsed by the same parser
(``phraseto_tsquery``), so both sides split words alike. Unlike FTS5's tokenizer, that parser
keeps a host name or an e-mail address as one token, and a hyphenated word whole besides its
parts. No-op on SQLite.

Cost: adding a stored generated column rewrites ``articles`` under an exclusive lock, computing
every article's vector: 26 s for 20,000 articles on the 2-core test machine (~1.3 ms each, so
about 20 minutes for a million). The README says to upgrade a big archive in a quiet moment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüñçýÿÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇÝ"
PLAIN = "aaaaaaeeeeiiiiooooouuuuncyyaaaaaaeeeeiiiiooooouuuuncy"
"""The fold, frozen here as this migration wrote it; ``storage.search`` folds queries with the
same two strings (a test holds them equal). Upper-case accented letters are listed too: in a
database with the C locale, ``lower`` leaves them alone."""


def _doc(column: str, weight: str) -> str:
    folded = f"translate(lower(coalesce({column}, '')), '{ACCENTED}', '{PLAIN}')"
    return f"setweight(to_tsvector('simple'::regconfig, {folded}), '{weight}')"


POST_DOC = "coalesce(author, '') || ' ' || coalesce(handle, '') || ' ' || coalesce(text, '')"
"""Spelled with ``||``: ``concat_ws`` is not immutable, so a generated column cannot use it."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE articles ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS "
        f"({_doc('title', 'A')} || {_doc('text', 'B')}) STORED"
    )
    op.execute("CREATE INDEX ix_articles_search_tsv ON articles USING gin (search_tsv)")
    op.execute(
        "ALTER TABLE posts ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS "
        f"({_doc(POST_DOC, 'A')}) STORED"
    )
    op.execute("CREATE INDEX ix_posts_search_tsv ON posts USING gin (search_tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_posts_search_tsv")
    op.execute("ALTER TABLE posts DROP COLUMN IF EXISTS search_tsv")
    op.execute("DROP INDEX IF EXISTS ix_articles_search_tsv")
    op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_tsv")
