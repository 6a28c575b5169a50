"""The procrastinate App on our database, and its schema, applied by procrastinate itself."""

from __future__ import annotations

from procrastinate import App, PsycopgConnector, SyncPsycopgConnector
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import get_engine, write_connection

NEEDS_POSTGRES = "the cluster needs PostgreSQL (--db postgresql://…)"


class ClusterError(Exception):
    """A one-line error about the cluster's setup (shown without a traceback, exit 2)."""


def conninfo(db_url: str) -> str:
    """libpq's URI for our SQLAlchemy URL (``postgresql+psycopg://…`` → ``postgresql://…``);
    a non-PostgreSQL URL is a :class:`ClusterError`."""
    try:
        url = make_url(db_url)
    except Exception:
        raise ClusterError(NEEDS_POSTGRES) from None
    if url.get_backend_name() != "postgresql":
        raise ClusterError(NEEDS_POSTGRES)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(db_url: str, *, sync: bool = False) -> App:
    """The App on ``db_url``; ``sync`` for callers without an event loop (the daemon, status)."""
    info = conninfo(db_url)
    if sync:
        return App(connector=SyncPsycopgConnector(conninfo=info))
    return App(connector=PsycopgConnector(conninfo=info))


def procrastinate_version() -> str:
    from importlib.metadata import version

    return version("procrastinate")


def ensure_schema(db_url: str) -> str | None:
    """Apply procrastinate's schema when it is absent (our own schema is Alembic's, applied by
    :func:`storage.db.get_engine`); returns the version applied now, None when it was there.

    Serialised by an advisory lock, so a daemon and workers started together apply it once.
    """
    conninfo(db_url)
    engine = get_engine(db_url)
    with write_connection(engine) as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(7201120)"))
        present = conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
        if present is not None:
            return None
        from procrastinate.schema import SchemaManager

        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(SchemaManager.get_schema())  # no parameters: its '%' stay literal
        cursor.execute(
            "COMMENT ON TABLE procrastinate_jobs IS "
            f"'procrastinate {procrastinate_version()} (applied by newswatch)'"
        )
    return procrastinate_version()


def schema_version(db_url: str) -> str | None:
    """The procrastinate version whose schema this database holds (None: not applied)."""
    engine = get_engine(db_url)
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            return None
        note = conn.execute(
            text("SELECT obj_description('procrastinate_jobs'::regclass, 'pg_class')")
        ).scalar()
    return (note or "procrastinate unknown").split()[1]
