"""Search input limits (a term cap, a deadline) and collapsed rows that show one article whole."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from storage.db import dispose_engines
from storage.search import QueryError, search
from storage.search import postgres as search_postgres
from storage.search import sql as search_sql
from storage.search import sqlite as search_sqlite
from storage.search.query import MAX_TERMS, parse_query
from storage.store import Store
from tests.test_clusters import copy_record, seed_record
from tests.test_search import rec
from tests.test_storage import BACKENDS, fresh_postgres


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    dispose_engines()
    url = f"sqlite:///{tmp_path / 's.sqlite'}" if request.param == "sqlite" else fresh_postgres()
    Store(url).store(
        [
            rec(i, f"Nota {i} sobre seguridad", f"Operativo {i} en Sonora: armas y fentanilo.")
            for i in range(1, 40)
        ]
    )
    yield url
    dispose_engines()


def test_a_query_of_many_terms_is_refused_in_one_line():
    many = " ".join(["a*"] * 300)  # 899 characters: under the length cap
    with pytest.raises(QueryError) as info:
        parse_query(many)
    assert str(info.value) == f"too many terms (300; at most {MAX_TERMS})"
    assert "\n" not in str(info.value)
    negatives = "uno " + " ".join(f"NOT x{i}" for i in range(MAX_TERMS))
    with pytest.raises(QueryError, match=r"too many terms \(33; at most 32\)"):
        parse_query(negatives)


def test_the_largest_allowed_query_runs_quickly(db):
    query = " OR ".join(f"o{i}*" for i in range(MAX_TERMS - 1)) + " OR sonora"
    assert len(parse_query(query).terms()) == MAX_TERMS
    started = time.monotonic()
    hits = search(db, query, limit=50)
    assert time.monotonic() - started < 5
    assert len(hits) == 39


@pytest.fixture
def sqlite_db(tmp_path):
    """The SQLite corpus alone: the progress-handler deadline is SQLite's own mechanism."""
    dispose_engines()
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    Store(url).store(
        [rec(i, f"Nota {i}", f"Operativo {i} en Sonora: armas.") for i in range(1, 40)]
    )
    yield url
    dispose_engines()


def test_a_search_past_its_deadline_stops_with_one_line(sqlite_db, monkeypatch):
    db = sqlite_db
    monkeypatch.setattr(search_sql, "SEARCH_DEADLINE_S", 0.0)
    monkeypatch.setattr(search_sqlite, "_PROGRESS_STEPS", 1)
    with pytest.raises(QueryError) as info:
        search(db, "sonora OR armas*")
    assert str(info.value).startswith("search took too long (more than 0 s)")
    assert "\n" not in str(info.value)
    monkeypatch.setattr(search_sql, "SEARCH_DEADLINE_S", 20.0)
    assert len(search(db, "sonora", limit=5)) == 5  # the handler was removed with the deadline


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs NEWSWATCH_TEST_PG_URL")
def test_postgres_search_past_its_deadline_stops_with_one_line(monkeypatch):
    url = fresh_postgres()
    Store(url).store([rec(1, "Nota", "Operativo en Sonora.")])
    monkeypatch.setattr(search_sql, "SEARCH_DEADLINE_S", 0.000001)  # 1 ms, the least
    original = search_postgres.statement_deadline

    def deadline_then_a_slow_statement(conn):
        original(conn)
        search_sql.run(conn, text("SELECT pg_sleep(0.5)"))

    monkeypatch.setattr(search_postgres, "statement_deadline", deadline_then_a_slow_statement)
    with pytest.raises(QueryError, match="search took too long"):
        search(url, "sonora")
    dispose_engines()


def test_a_collapsed_row_takes_its_snippet_from_the_copy_it_shows(tmp_path):
    """The copy outranks the original (the word is all over its extra paragraph) but the
    original represents the story: title, URL and snippet must all be the original's."""
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    store = Store(url)
    seed = seed_record(published=datetime(2025, 12, 11, 16, 0, tzinfo=UTC))
    copy = copy_record(published=seed.published_at + timedelta(hours=2))
    copy.text += "\nCortafuegos: Diario Nacional resume cortafuegos, cortafuegos y cortafuegos."
    store.store([seed, copy])
    store.close()
    ranked = search(url, "cortafuegos", all_copies=True)
    assert [r["source"] for r in ranked] == ["diario", "tribuna"]  # the copy ranks first
    [row] = search(url, "cortafuegos")
    assert row["source"] == "tribuna" and row["copies"] == 2
    assert row["url"] == seed.url and row["title"] == seed.title
    shown = row["snippet"].replace("«", "").replace("»", "").strip("…")
    assert shown in seed.text
    assert "Diario Nacional" not in row["snippet"]
    dispose_engines()
