"""Database engines: one cached engine per URL, migrated to the latest schema on first use.

SQLite is the primary backend. Every SQLite connection runs in WAL mode with a long busy timeout so
the daemon, crawl children and a user's ``search`` can share one file: readers never block and are
never blocked, and writers queue behind each other instead of failing. Writes go through
:func:`write_connection`, which starts ``BEGIN IMMEDIATE`` so a writer takes the write lock up front
(a deferred transaction that later upgrades to a write can fail with SQLITE_BUSY regardless of the
busy timeout). PostgreSQL (``postgresql+psycopg://``) works too; SQLite-only SQL stays behind
dialect checks.

SQLite comes from ``pysqlite3`` (a recent SQLite built with lookaside memory) where its wheel is
installed, else from the standard library; see :func:`sqlite_dbapi`. Every connection this
package opens uses that one module, so a process never drives one file with two SQLite libraries.

The schema is managed by Alembic and upgraded programmatically, so users never delete a database
to get a newer schema.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from storage import tuning

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 7_305_112_633  # arbitrary constant for pg_advisory_xact_lock

_engines: dict[str, Engine] = {}
_engines_pid = os.getpid()
_lock = threading.Lock()
SQLITE_CACHE_KIB = 32 * 1024
SQLITE_MMAP_BYTES = 256 * 2**20


def busy_timeout() -> float:
    """Seconds a writer waits for another writer's lock (``NEWSWATCH_BUSY_TIMEOUT``, or 30)."""
    return tuning.current().busy_timeout


def sqlite_dbapi():
    """The DB-API module every SQLite connection of this package is opened with.

    ``pysqlite3`` (the ``pysqlite3-binary`` wheel, installed on Linux x86-64) is the standard
    library's module built against a recent SQLite with lookaside memory. Debian's system SQLite
    is built with ``OMIT_LOOKASIDE``, so FTS5 calls ``malloc`` (behind a process-wide mutex) for
    every row it ranks: bm25 is ~25 % slower on one thread, and two threads ranking at once each
    slow down ~1.8× instead of sharing the work. ``NEWSWATCH_SQLITE_DRIVER=stdlib`` forces the
    standard library's module (through :mod:`storage.tuning`); elsewhere it is the fallback.

    One process must not open a database file with two SQLite libraries: closing a file in one
    drops the POSIX locks the other holds on it (sqlite.org/howtocorrupt.html §2.2.1). Code that
    opens a newswatch file directly should use this module (or :func:`sqlite_connect`).
    """
    global _dbapi
    if _dbapi is None:
        wanted = tuning.current().sqlite_driver
        module = sqlite3
        if wanted == "pysqlite3":
            try:
                from pysqlite3 import dbapi2 as module  # type: ignore[no-redef]
            except ImportError:
                module = sqlite3
        _dbapi = module
    return _dbapi


_dbapi = None


def sqlite_connect(path: str | os.PathLike, **kwargs):
    """A plain DB-API connection to a SQLite file, with the module of :func:`sqlite_dbapi`."""
    return sqlite_dbapi().connect(os.fspath(path), **kwargs)


def sqlite_errors() -> tuple[type[BaseException], ...]:
    """Exception classes of both SQLite modules (the one in use and the standard library's)."""
    return (sqlite3.Error, sqlite_dbapi().Error)


class StorageError(Exception):
    """A database problem explained in one line (bad URL, unwritable path, not a database…)."""


def default_db_url() -> str:
    """SQLite file in the per-user data directory; the directory is made when a command that
    creates the database opens it (naming the default must not create anything)."""
    data_dir = Path(platformdirs.user_data_dir("newswatch"))
    return f"sqlite:///{data_dir / 'newswatch.sqlite'}"


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL (or bare path) names; None for an in-memory database or a server."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def database_exists(url: str) -> bool:
    """Whether the database ``url`` names is there to be read: a SQLite file that exists (a
    server's database is assumed to; connecting says otherwise). Reading commands check this
    first, so a typo in ``--db`` is an error instead of a new, empty database."""
    path = sqlite_file(url)
    return path is None or path.exists()


def normalize_url(url: str) -> str:
    """Accept a SQLAlchemy URL or a bare file path (``NEWSWATCH_DB=~/news.sqlite``)."""
    url = url.strip()
    if not url:
        raise StorageError("empty database URL")
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def get_engine(url: str) -> Engine:
    """Engine for ``url``, created, checked and migrated once per process."""
    global _engines_pid
    url = normalize_url(url)
    with _lock:
        if _engines_pid != os.getpid():
            for stale in _engines.values():
                stale.dispose(close=False)
            _engines.clear()
            _engines_pid = os.getpid()
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            try:
                _guarded(engine, lambda: upgrade(engine))
            except StorageError:
                engine.dispose()
                raise
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, and processes that want to release file handles)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside one write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on exit."""
    with engine.connect() as conn:
        conn.execution_options(newswatch_immediate=True)
        with conn.begin():
            yield conn


def database_info(engine: Engine) -> dict[str, str]:
    """Which database this is and what drives it (for ``newswatch status``): ``url`` without
    its password, ``backend``, the server's or library's ``version``, the DB-API ``driver``."""
    with engine.connect() as conn:
        if is_sqlite(engine):
            version = conn.exec_driver_sql("SELECT sqlite_version()").scalar()
        else:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
    return {
        "url": engine.url.render_as_string(hide_password=True),
        "backend": engine.dialect.name,
        "version": str(version),
        "driver": engine.dialect.dbapi.__name__.split(".")[0],
    }


def is_sqlite(engine_or_conn: Engine | Connection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def one_line(exc: BaseException) -> str:
    """The useful first line of a driver error, without SQLAlchemy's SQL and background links."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0].strip() if text else type(orig).__name__


def _guarded(engine: Engine, action) -> None:
    """Run ``action``, turning driver and OS errors into a one-line :class:`StorageError`."""
    where = engine.url.database if is_sqlite(engine) else engine.url.render_as_string()
    try:
        action()
    except (SQLAlchemyError, *sqlite_errors()) as exc:
        message = one_line(exc)
        if "file is not a database" in message:
            raise StorageError(
                f"{where} is not a SQLite database (file is not a database)"
            ) from None
        if "unable to open database file" in message:
            raise StorageError(f"cannot open database file {where}") from None
        if "readonly database" in message or "read-only" in message:
            raise StorageError(f"database {where} is read-only") from None
        raise StorageError(f"database error on {where}: {message}") from None
    except OSError as exc:
        raise StorageError(f"cannot use database {where}: {exc.strerror or exc}") from None


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _create_sqlite_engine(url, parsed.database or "")
        if backend == "postgresql":
            return create_engine(url, pool_pre_ping=True)
    except NoSuchModuleError:
        raise StorageError(
            f"no driver for {parsed.drivername!r} (install newswatch[postgres])"
        ) from None
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"cannot use database URL {url!r}: {one_line(exc)}") from None
    raise StorageError(
        f"unsupported database URL {parsed.drivername!r}: use sqlite:///PATH or postgresql+psycopg://…"
    )


def _create_sqlite_engine(url: str, database: str) -> Engine:
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        _check_sqlite_path(Path(database).expanduser())
    wait = busy_timeout()
    kwargs: dict = {
        "connect_args": {"timeout": wait, "check_same_thread": False},
        "module": sqlite_dbapi(),
    }
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # Search and the LSH band index touch pages all over a large file: a bigger page
            # cache and memory-mapped reads keep them off the read() path; temp b-trees
            # (sorting, IN lists) stay in memory.
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            if not in_memory:
                cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            cursor.execute("PRAGMA temp_store = MEMORY")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("newswatch_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _check_sqlite_path(path: Path) -> None:
    """Fail early, in one line, where SQLite would only say "unable to open database file"."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create directory {parent}: {exc.strerror}") from None
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a database file")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StorageError(f"database file {path} is not readable and writable")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StorageError(
            f"directory {parent} is not writable (SQLite needs it for its WAL files)"
        )


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


SCHEMA_HEAD = "0012"
"""The newest migration's revision (a test holds it equal to Alembic's head): checking it costs
one read, where asking Alembic costs ~0.1 s of imports and script parsing per process."""


def _at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except SQLAlchemyError:
        return False
    return [tuple(row) for row in rows] == [(SCHEMA_HEAD,)]


def upgrade(engine: Engine) -> None:
    """Bring the schema to Alembic ``head``; a no-op (one read) when it already is.

    A revision this version does not know was written by a newer newswatch: that is a
    :class:`StorageError` telling the user to upgrade, not Alembic's traceback.
    """
    if _at_head(engine):
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _alembic_config()
    scripts = ScriptDirectory.from_config(cfg)
    heads = set(scripts.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current == heads:
        return
    unknown = sorted(current - {script.revision for script in scripts.walk_revisions()})
    if unknown:
        raise StorageError(
            f"this database was written by a newer newswatch (schema {', '.join(unknown)}); "
            "upgrade newswatch"
        )
    with write_connection(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in ``alembic_version`` (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
