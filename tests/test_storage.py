"""Storage: migrations, engine settings, dedupe upsert, source state and run log (real SQLite files)."""

from __future__ import annotations

import os
import threading
import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select, text, update

from storage.db import (
    StorageError,
    current_revision,
    dispose_engines,
    get_engine,
    upgrade,
    write_connection,
)
from storage.models import Base, article_urls, articles
from storage.records import compress_html
from storage.search import get_article
from storage.store import Store
from storage.types import ArticleRecord, SourceInfo

HEAD_REVISION = "0012"

SONORA = timezone(timedelta(hours=-7))


def make_record(**overrides) -> ArticleRecord:
    values = {
        "source": "elimparcial",
        "url": "https://www.elimparcial.com/sonora/mision-cortafuegos/",
        "canonical_url": "https://www.elimparcial.com/sonora/mision-cortafuegos/",
        "title": "Misión Cortafuegos llega a Sonora",
        "text": "La Misión Cortafuegos busca frenar el tráfico de fentanilo en la frontera.",
        "content_hash": "hash-1",
        "fetched_at": datetime(2025, 12, 11, 17, 0, tzinfo=UTC),
        "guid": "guid-1",
        "published_at": datetime(2025, 12, 11, 9, 15, tzinfo=SONORA),
        "language": "es",
        "authors": ["Ana Pérez"],
        "tags": ["seguridad", "frontera"],
        "raw_html": b"<html><body>Misi\xc3\xb3n</body></html>",
    }
    values.update(overrides)
    return ArticleRecord(**values)


def fresh_postgres() -> str:
    """The database in NEWSWATCH_TEST_PG_URL, emptied first (it must be a throwaway database).

    PostgreSQL variants of the tests run only when that variable is set, e.g.
    ``NEWSWATCH_TEST_PG_URL='postgresql+psycopg://postgres@/nw?host=/tmp/pg&port=55432'``.
    """
    assert PG_URL
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    return PG_URL


@pytest.fixture
def sqlite_url(tmp_path):
    dispose_engines()
    yield f"sqlite:///{tmp_path / 'news.sqlite'}"
    dispose_engines()


PG_URL = os.environ.get("NEWSWATCH_TEST_PG_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    dispose_engines()
    yield f"sqlite:///{tmp_path / 'news.sqlite'}" if request.param == "sqlite" else fresh_postgres()
    dispose_engines()


@pytest.fixture
def store(db_url):
    return Store(db_url)


def count_articles(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(articles)).scalar_one()


# -- engine and migrations --------------------------------------------------------------------


def test_fresh_database_is_migrated_to_head(sqlite_url):
    engine = get_engine(sqlite_url)
    assert current_revision(engine) == HEAD_REVISION
    with engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert {"sources", "articles", "article_urls", "crawl_runs", "articles_fts"} <= names


def test_schema_head_constant_is_alembics_head():
    """storage.db skips Alembic when the database is at SCHEMA_HEAD: it must be the real head."""
    from alembic.script import ScriptDirectory

    from storage.db import SCHEMA_HEAD, _alembic_config

    assert ScriptDirectory.from_config(_alembic_config()).get_heads() == [SCHEMA_HEAD]
    assert SCHEMA_HEAD == HEAD_REVISION


def test_opening_a_database_at_head_does_not_import_alembic(tmp_path):
    """A command on an up-to-date database reads its revision and goes on (no Alembic import);
    an older one is still migrated."""
    import subprocess
    import sys

    path = tmp_path / "head.sqlite"
    code = (
        "import sys; from storage.db import get_engine, current_revision; e = get_engine(sys.argv[1]);"
        " print('alembic' in sys.modules)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in runs] == ["True", "False"], [r.stderr for r in runs]


def test_upgrading_twice_is_a_noop(sqlite_url):
    engine = get_engine(sqlite_url)
    upgrade(engine)
    dispose_engines()
    engine = get_engine(sqlite_url)
    with engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    assert versions == [(HEAD_REVISION,)]


def test_models_match_the_migrations(sqlite_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with get_engine(sqlite_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [
        d
        for d in diff
        if not (d[0] == "remove_table" and d[1].name.startswith(("articles_fts", "posts_fts")))
    ] == []


def test_sqlite_connections_use_wal_and_busy_timeout(sqlite_url):
    with get_engine(sqlite_url).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_bare_path_is_accepted(tmp_path):
    path = tmp_path / "sub" / "plain.sqlite"
    assert current_revision(get_engine(str(path))) == HEAD_REVISION
    assert path.exists()
    dispose_engines()


def test_file_that_is_not_a_database_gives_clear_error(tmp_path):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StorageError, match="not a database") as info:
        get_engine(f"sqlite:///{bogus}")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("url", ["mysql://localhost/news", "not a url://x", "oracle+cx://h/db"])
def test_unsupported_url_gives_clear_error(url):
    with pytest.raises(StorageError) as info:
        get_engine(url)
    assert "\n" not in str(info.value)


def test_directory_path_gives_clear_error(tmp_path):
    with pytest.raises(StorageError, match="directory"):
        get_engine(f"sqlite:///{tmp_path}")


def test_reader_is_not_blocked_by_open_write_transaction(store, db_url):
    store.store([make_record()])
    engine = get_engine(db_url)
    seen: dict[str, object] = {}
    with write_connection(engine) as conn:
        conn.execute(articles.update().values(title="uncommitted"))
        reader = threading.Thread(
            target=lambda: seen.update(
                known=store.known_urls([make_record().url]), article=get_article(db_url, 1)
            )
        )
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive()
    assert seen["known"] == {make_record().url}
    assert seen["article"]["title"] == "Misión Cortafuegos llega a Sonora"
    assert get_article(db_url, 1)["title"] == "uncommitted"


def test_concurrent_writers_queue_instead_of_failing(store):
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                store.store(
                    [
                        make_record(
                            url=f"https://x/{n}/{i}",
                            canonical_url=f"https://x/{n}/{i}",
                            guid=f"{n}-{i}",
                            content_hash=f"{n}-{i}",
                        )
                    ]
                )
                store.store(
                    [
                        make_record(
                            url="https://x/shared",
                            canonical_url="https://x/shared",
                            guid="shared",
                            content_hash="shared",
                        )
                    ]
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count_articles(store) == 41


# -- dedupe upsert ----------------------------------------------------------------------------


def test_new_then_duplicate(store):
    first = store.store([make_record()])
    again = store.store([make_record()])
    assert [r.outcome for r in first] == ["new"]
    assert [r.outcome for r in again] == ["duplicate"]
    assert again[0].article_id == first[0].article_id
    assert count_articles(store) == 1


def test_same_canonical_via_other_url_is_duplicate_and_url_recorded(store):
    store.store([make_record()])
    tracked = "https://www.elimparcial.com/sonora/mision-cortafuegos/?utm_source=rss"
    amp = "https://www.elimparcial.com/amp/sonora/mision-cortafuegos/"
    result = store.store([make_record(url=tracked, guid=None, alt_urls=[amp])])
    assert result[0].outcome == "duplicate"
    with store.engine.connect() as conn:
        recorded = set(conn.execute(select(article_urls.c.url)).scalars())
    assert {tracked, amp} <= recorded
    assert store.known_urls([tracked, amp, "https://elsewhere/x"]) == {tracked, amp}


def test_known_urls_handles_large_batches(store):
    store.store([make_record()])
    urls = [f"https://example.com/{i}" for i in range(2000)] + [make_record().url]
    assert store.known_urls(urls) == {make_record().url}
    assert store.known_urls([]) == set()


def test_same_guid_with_changed_text_is_updated_in_place(store, db_url):
    first = store.store([make_record()])[0]
    changed = make_record(
        text="Actualización: la Misión Cortafuegos detuvo a tres personas.",
        content_hash="hash-2",
        url="https://www.elimparcial.com/sonora/mision-cortafuegos-actualizada/",
        canonical_url="https://www.elimparcial.com/sonora/mision-cortafuegos-actualizada/",
    )
    result = store.store([changed])[0]
    assert (result.outcome, result.article_id) == ("updated", first.article_id)
    assert count_articles(store) == 1
    record = get_article(db_url, first.article_id)
    assert record["text"].startswith("Actualización")
    assert record["updated_at"] is not None
    assert record["published_at"] == "2025-12-11T09:15:00-07:00"


def test_update_keeps_given_updated_at_and_ignores_older_versions(store, db_url):
    store.store([make_record()])
    edited_at = datetime(2025, 12, 11, 12, 0, tzinfo=SONORA)
    assert (
        store.store([make_record(text="v2", content_hash="h2", updated_at=edited_at)])[0].outcome
        == "updated"
    )
    older = make_record(
        text="v1 again", content_hash="h1b", updated_at=edited_at - timedelta(hours=2)
    )
    assert store.store([older])[0].outcome == "duplicate"
    record = get_article(db_url, 1)
    assert (record["text"], record["updated_at"]) == ("v2", "2025-12-11T12:00:00-07:00")


def test_same_text_from_another_source_is_a_separate_row(store):
    a = store.store([make_record()])[0]
    b = store.store(
        [
            make_record(
                source="proceso",
                url="https://www.proceso.com.mx/nota/1",
                canonical_url="https://www.proceso.com.mx/nota/1",
            )
        ]
    )[0]
    assert (a.outcome, b.outcome) == ("new", "new")
    assert a.article_id != b.article_id


def test_same_text_same_source_different_url_is_duplicate(store):
    store.store([make_record(guid=None)])
    other = make_record(
        guid=None, url="https://m.elimparcial.com/x", canonical_url="https://m.elimparcial.com/x"
    )
    assert store.store([other])[0].outcome == "duplicate"
    assert store.known_urls(["https://m.elimparcial.com/x"]) == {"https://m.elimparcial.com/x"}


def test_bad_record_does_not_lose_the_batch(store):
    good2 = make_record(
        guid="g2", url="https://x/2", canonical_url="https://x/2", content_hash="h2"
    )
    results = store.store([make_record(), make_record(guid="bad", content_hash=""), good2])
    assert [r.outcome for r in results] == ["new", "error", "new"]
    assert count_articles(store) == 2


def test_nul_and_lone_surrogates_are_stripped(store, db_url):
    dirty = make_record(
        title="Misi\x00ón\ud800 Cortafuegos",
        text="Texto\x00 con \udcff basura 😀",
        authors=["Ana\x00 Pérez"],
    )
    article_id = store.store([dirty])[0].article_id
    record = get_article(db_url, article_id)
    assert record["title"] == "Misión Cortafuegos"
    assert record["text"] == "Texto con  basura 😀"
    assert record["authors"] == ["Ana Pérez"]


def test_times_round_trip_with_original_offset(store, db_url):
    article_id = store.store([make_record()])[0].article_id
    record = get_article(db_url, article_id)
    assert record["published_at"] == "2025-12-11T09:15:00-07:00"
    assert record["fetched_at"] == "2025-12-11T17:00:00+00:00"
    with store.engine.connect() as conn:
        stored = conn.execute(select(articles.c.published_at, articles.c.published_offset)).one()
    assert tuple(stored) == (datetime(2025, 12, 11, 16, 15), -420)


def test_raw_html_is_compressed(store):
    raw = b"<html>" + "Misión Cortafuegos ".encode() * 500 + b"</html>"
    article_id = store.store([make_record(raw_html=raw)])[0].article_id
    with store.engine.connect() as conn:
        blob = conn.execute(select(articles.c.raw_html)).scalar_one()
    assert len(blob) < len(raw) and blob[:4] == b"\x28\xb5\x2f\xfd"  # a zstd frame
    assert store.raw_html(article_id) == raw


def test_raw_html_written_as_zlib_before_zstd_still_reads(store):
    """Databases written before zstd hold zlib streams; both kinds read back."""
    old, new = b"<html>vieja " * 200 + b"</html>", b"<html>nueva " * 200 + b"</html>"
    first = store.store([make_record(raw_html=b"", raw_html_z=zlib.compress(old, 1))])
    second = store.store(
        [
            make_record(
                url="https://example.mx/otra",
                canonical_url="https://example.mx/otra",
                guid="guid-2",
                content_hash="otra",
                raw_html=new,
            )
        ]
    )
    assert store.raw_html(first[0].article_id) == old
    assert store.raw_html(second[0].article_id) == new


def test_precompressed_raw_html_is_stored_as_given(store):
    raw = b"<html>" + b"Fuente: Tribuna del Yaqui " * 300 + b"</html>"
    blob = compress_html(raw)
    article_id = store.store([make_record(raw_html=b"", raw_html_z=blob)])[0].article_id
    with store.engine.connect() as conn:
        assert conn.execute(select(articles.c.raw_html)).scalar_one() == blob
    assert store.raw_html(article_id) == raw


def test_fts_index_follows_updates(sqlite_url):
    store = Store(sqlite_url)
    store.store([make_record()])
    store.store([make_record(text="Ahora habla de extradiciones.", content_hash="h2")])
    with store.engine.connect() as conn:
        hits = conn.execute(
            text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'fentanilo'")
        ).all()
        new = conn.execute(
            text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'extradiciones'")
        ).all()
    assert hits == [] and new == [(1,)]


# -- sources and runs -------------------------------------------------------------------------


def info(**kw) -> SourceInfo:
    values = {
        "name": "elimparcial",
        "kind": "feed",
        "url": "https://www.elimparcial.com/rss",
        "title": "El Imparcial",
        "language": "es",
        "timezone": "America/Hermosillo",
    }
    values.update(kw)
    return SourceInfo(**values)


def test_sync_sources_keeps_state_columns(store):
    store.sync_sources([info()])
    store.record_source_result("elimparcial", ok=False, error="HTTP 503")
    store.record_source_result("elimparcial", ok=False, error="timeout")
    store.sync_sources([info(title="El Imparcial (Hermosillo)", enabled=False)])
    (status,) = store.source_status()
    assert status["title"] == "El Imparcial (Hermosillo)" and status["enabled"] is False
    assert status["consecutive_failures"] == 2 and status["last_error"] == "timeout"
    assert status["last_attempt"].tzinfo is not None and status["last_success"] is None


def test_success_resets_failures_and_keeps_validators(store):
    store.sync_sources([info()])
    store.record_source_result("elimparcial", ok=False, error="boom")
    store.record_source_result(
        "elimparcial", ok=True, etag='"abc"', last_modified="Thu, 11 Dec 2025 16:00:00 GMT"
    )
    store.record_source_result("elimparcial", ok=True)
    (status,) = store.source_status()
    assert status["consecutive_failures"] == 0 and status["last_error"] is None
    assert status["etag"] == '"abc"' and status["last_success"] is not None


def test_source_result_for_unsynced_source_creates_row(store):
    store.record_source_result("nueva", ok=False, error="DNS")
    assert [(s["name"], s["consecutive_failures"]) for s in store.source_status()] == [("nueva", 1)]


def test_source_status_counts_articles(store):
    store.sync_sources([info(), info(name="proceso", title="Proceso")])
    store.store(
        [
            make_record(),
            make_record(
                guid="g2", url="https://x/2", canonical_url="https://x/2", content_hash="h2"
            ),
        ]
    )
    with store.engine.begin() as conn:
        conn.execute(
            articles.update().where(articles.c.id == 2).values(first_seen_at=datetime(2020, 1, 1))
        )
    by_name = {s["name"]: s for s in store.source_status()}
    assert (
        by_name["elimparcial"]["articles_total"],
        by_name["elimparcial"]["articles_24h"],
        by_name["elimparcial"]["articles_7d"],
    ) == (2, 1, 1)
    assert by_name["proceso"]["articles_total"] == 0


def test_run_log(store):
    run_id = store.start_run("elimparcial", pid=4242)
    (run,) = store.recent_runs()
    assert (run["outcome"], run["pid"], run["finished_at"]) == ("running", 4242, None)
    store.finish_run(run_id, "timeout", {"new": 3, "errors": 1}, "killed after 600 s")
    (run,) = store.recent_runs(source="elimparcial")
    assert run["outcome"] == "timeout" and run["counts"] == {"new": 3, "errors": 1}
    assert run["finished_at"] >= run["started_at"]
    with pytest.raises(ValueError, match="unknown run outcome"):
        store.finish_run(run_id, "exploded", {}, None)


def _open_and_store(url: str, n: int) -> str:
    Store(url).store(
        [
            make_record(
                guid=f"p{n}",
                url=f"https://p/{n}",
                canonical_url=f"https://p/{n}",
                content_hash=f"p{n}",
            )
        ]
    )
    return current_revision(get_engine(url))


def test_processes_racing_to_create_the_database(sqlite_url):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(3) as pool:
        revisions = pool.starmap(_open_and_store, [(sqlite_url, n) for n in range(3)])
    assert revisions == [HEAD_REVISION] * 3
    assert count_articles(Store(sqlite_url)) == 3


def test_migrations_leave_app_logging_alone(sqlite_url):
    import logging

    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.getLogger("sqlalchemy").level)
    get_engine(sqlite_url)
    assert (list(root.handlers), root.level, logging.getLogger("sqlalchemy").level) == before


def test_interval_sets_next_due_and_exponential_backoff(store):
    store.sync_sources([info()])
    for expected_hours in (1, 2, 4):
        store.record_source_result("elimparcial", ok=False, error="HTTP 500", interval=3600)
        (status,) = store.source_status()
        delay = status["backoff_until"] - status["last_attempt"]
        assert delay == timedelta(hours=expected_hours)
        assert status["next_due"] - status["last_attempt"] == timedelta(hours=1)
    store.record_source_result("elimparcial", ok=True, interval=3600)
    (status,) = store.source_status()
    assert status["backoff_until"] is None and status["consecutive_failures"] == 0


def test_backoff_delay_is_capped():
    from storage.schedule import MAX_BACKOFF, backoff_delay

    assert backoff_delay(600, 1) == timedelta(minutes=10)
    assert backoff_delay(600, 50) == MAX_BACKOFF
    assert backoff_delay(48 * 3600, 3) == timedelta(hours=48)  # never shorter than the interval


def test_daemon_lock(store):
    assert store.acquire_daemon_lock(os.getpid(), "here", stale_after=30) is None
    holder = store.acquire_daemon_lock(999_999_999, "elsewhere", stale_after=30)
    assert holder is not None and holder["pid"] == os.getpid() and holder["host"] == "here"
    assert holder["heartbeat_at"].tzinfo is not None
    store.daemon_heartbeat(os.getpid())
    assert store.acquire_daemon_lock(os.getpid(), "here", stale_after=30) is None  # re-entrant
    store.release_daemon_lock(999_999_999)  # not the holder: no effect
    assert store.acquire_daemon_lock(999_999_999, "elsewhere", stale_after=30) is not None
    store.release_daemon_lock(os.getpid())
    assert store.acquire_daemon_lock(999_999_999, "elsewhere", stale_after=30) is None


def test_stale_or_dead_daemon_lock_is_taken_over(store):
    assert store.acquire_daemon_lock(999_999_999, "here", stale_after=30) is None  # no such pid
    assert store.acquire_daemon_lock(os.getpid(), "here", stale_after=30) is None  # dead → taken
    assert store.acquire_daemon_lock(12345, "other-host", stale_after=0) is None  # stale → taken


def test_close_open_and_abort_running_runs(store):
    a = store.start_run("elimparcial", pid=100)
    b = store.start_run("proceso", pid=100)
    c = store.start_run("elimparcial", pid=200)
    store.finish_run(c, "ok", {}, None)
    assert store.close_open_runs("elimparcial", 100, "timeout", "time limit") == 1
    assert store.abort_running_runs("daemon restarted") == 1
    runs = {r["id"]: r for r in store.recent_runs()}
    assert (runs[a]["outcome"], runs[a]["error"]) == ("timeout", "time limit")
    assert (runs[b]["outcome"], runs[b]["error"]) == ("aborted", "daemon restarted")
    assert runs[c]["outcome"] == "ok"


def test_source_states_match_the_state_part_of_source_status(store):
    store.sync_sources([info()])
    store.record_source_result("elimparcial", False, "HTTP 500", interval=600)
    (status,) = store.source_status()
    states = store.source_states()
    assert set(states) == {"elimparcial"}
    assert states["elimparcial"] == {
        k: v for k, v in status.items() if not k.startswith("articles_")
    }
    assert states["elimparcial"]["consecutive_failures"] == 1
    assert states["elimparcial"]["backoff_until"] > states["elimparcial"]["last_attempt"]


def test_robots_txt_is_kept_replaced_and_forgotten_when_stale(store) -> None:
    from storage.models import robots_txt

    assert store.cached_robots("www.gob.mx", 3600) is None
    store.save_robots("www.gob.mx", 200, b"User-agent: *\nDisallow: /buscar\n")
    assert store.cached_robots("www.gob.mx", 3600) == (200, b"User-agent: *\nDisallow: /buscar\n")
    store.save_robots("www.gob.mx", 404, b"")  # the newest fetch wins
    assert store.cached_robots("www.gob.mx", 3600) == (404, b"")
    assert store.cached_robots("www.gob.mx", 0) is None
    with store.engine.begin() as conn:
        conn.execute(update(robots_txt).values(fetched_at=datetime(2025, 1, 1)))
    assert store.cached_robots("www.gob.mx", 3600) is None
    assert store.cached_robots("mx.usembassy.gov", 3600) is None


def test_an_undated_article_keeps_its_time_when_fetched_again(store, db_url):
    """An article's time is published, else first seen (storage.types.ARTICLE_TIME): a page
    fetched again because its text changed must not jump forward in ``--since`` and ordering."""
    from storage.search import search

    first = make_record(published_at=None, fetched_at=datetime.now(UTC) - timedelta(days=10))
    store.store([first])
    with store.engine.begin() as conn:
        conn.execute(update(articles).values(first_seen_at=datetime.now(UTC) - timedelta(days=10)))
    edited = make_record(
        published_at=None,
        fetched_at=datetime.now(UTC),
        text=first.text + " Actualización: la frontera reabre.",
        content_hash="hash-2",
    )
    assert [r.outcome for r in store.store([edited])] == ["updated"]
    recent = search(db_url, "Cortafuegos", since=datetime.now(UTC) - timedelta(days=2))
    older = search(db_url, "Cortafuegos", since=datetime.now(UTC) - timedelta(days=11))
    assert recent == [] and len(older) == 1


def test_the_article_time_indexes_are_rebuilt_and_undone(sqlite_url):
    """Migration 0008 moves the search date indexes to the one rule, and back on downgrade."""
    from alembic import command

    from storage.db import _alembic_config

    engine = get_engine(sqlite_url)

    def index_sql() -> str:
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_articles_when'"
            ).scalar_one()

    assert "first_seen_at" in index_sql()
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
    assert "fetched_at" in index_sql()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert "first_seen_at" in index_sql()
