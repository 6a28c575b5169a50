"""Search and export: FTS5 matching, query safety, filters, record formats (real SQLite files)."""

from __future__ import annotations

import csv
import io
import json
import types
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from storage.db import dispose_engines
from storage.models import articles
from storage.records import RECORD_FIELDS
from storage.search import (
    QueryError,
    export,
    get_article,
    parse_query,
    search,
    to_fts5,
    write_records,
)
from storage.search.snippets import py_snippet
from storage.store import Store
from storage.textfold import fold
from storage.types import ArticleRecord
from tests.test_storage import BACKENDS, fresh_postgres

SONORA = timezone(timedelta(hours=-7))
CDMX = timezone(timedelta(hours=-6))


def rec(
    n: int, title: str, body: str, *, source="elimparcial", language="es", published=None, **kw
):
    return ArticleRecord(
        source=source,
        url=f"https://{source}.example/{n}",
        canonical_url=f"https://{source}.example/{n}",
        title=title,
        text=body,
        content_hash=f"h{n}",
        fetched_at=datetime(2025, 12, 12, tzinfo=UTC),
        guid=f"g{n}",
        published_at=published,
        language=language,
        **kw,
    )


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    dispose_engines()
    url = (
        f"sqlite:///{tmp_path / 'search.sqlite'}" if request.param == "sqlite" else fresh_postgres()
    )
    Store(url).store(
        [
            rec(
                1,
                "Misión Cortafuegos llega a Sonora",
                "El operativo federal busca frenar el tráfico de armas y fentanilo en la frontera.",
                published=datetime(2025, 12, 11, 9, 15, tzinfo=SONORA),
            ),
            rec(
                2,
                "Resumen semanal de seguridad",
                "Entre otros temas, la misión cortafuegos y los aranceles. Cortafuegos otra vez.",
                source="proceso",
                published=datetime(2025, 12, 10, 8, 0, tzinfo=CDMX),
            ),
            rec(
                3,
                "Border security talks resume",
                "US and Mexican officials discussed fentanyl trafficking and extradition.",
                source="reuters",
                language="en-US",
                published=datetime(2025, 12, 9, 12, 0, tzinfo=UTC),
            ),
            rec(
                4,
                "Extradiciones a Estados Unidos",
                "México extraditó a 26 personas; cortafuegos no se menciona en esta nota.",
                published=None,
            ),
        ]
    )
    yield url
    dispose_engines()


def titles(hits):
    return [h["title"] for h in hits]


def test_accent_free_query_finds_accented_text(db):
    hits = search(db, "mision cortafuegos")
    assert set(titles(hits)) == {
        "Misión Cortafuegos llega a Sonora",
        "Resumen semanal de seguridad",
    }
    assert titles(search(db, "MISIÓN")) == titles(search(db, "mision"))


def test_title_match_ranks_first(db):
    hits = search(db, "cortafuegos")
    assert hits[0]["title"] == "Misión Cortafuegos llega a Sonora"
    assert len(hits) == 3


def test_phrase_query(db):
    assert len(search(db, '"mision cortafuegos"')) == 2
    assert search(db, '"cortafuegos mision"') == []
    assert titles(search(db, '"trafico de armas"')) == ["Misión Cortafuegos llega a Sonora"]


def test_or_not_and_prefix(db):
    assert len(search(db, "fentanilo OR fentanyl")) == 2
    assert titles(search(db, "cortafuegos NOT aranceles NOT extraditó")) == [
        "Misión Cortafuegos llega a Sonora"
    ]
    assert {h["source"] for h in search(db, "extradi*")} == {"reuters", "elimparcial"}


def test_snippet_marks_matches_in_plain_text(db):
    (hit,) = search(db, "fentanilo")
    assert "«fentanilo»" in hit["snippet"]
    assert "<" not in hit["snippet"]


def test_filters(db):
    assert {h["source"] for h in search(db, "cortafuegos", sources=["proceso"])} == {"proceso"}
    assert titles(search(db, "fentanyl OR fentanilo", languages=["en"])) == [
        "Border security talks resume"
    ]
    since = datetime(2025, 12, 11, 0, 0, tzinfo=SONORA)
    assert titles(
        search(db, "cortafuegos", since=since, until=datetime(2025, 12, 11, 16, tzinfo=SONORA))
    ) == ["Misión Cortafuegos llega a Sonora"]
    # no published_at: falls back to fetched_at (2025-12-12)
    assert titles(search(db, "cortafuegos", since=datetime(2025, 12, 12, tzinfo=UTC))) == [
        "Extradiciones a Estados Unidos"
    ]


def test_limit_and_offset(db):
    all_hits = search(db, "cortafuegos")
    assert search(db, "cortafuegos", limit=1, offset=1) == all_hits[1:2]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        '"mision cortafuegos',
        'a "b" "c',
        "AND",
        "OR",
        "NOT",
        "a OR",
        "OR a",
        "a AND",
        "NOT a",
        "a OR OR b",
        '""',
        "x" * 1001,
        "mision\x00",
        "tab\tsep",
        "***",
        "- : ^",
    ],
)
def test_malformed_queries_raise_query_error(db, query):
    with pytest.raises(QueryError) as info:
        search(db, query)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE articles; --",
        "title:armas",
        "NEAR(mision cortafuegos)",
        "-fentanilo",
        "^mision",
        "a) OR (b",
        "col:*",
        "text : fentanilo",
        "mision' OR '1'='1",
    ],
)
def test_hostile_queries_are_just_data(db, query):
    search(db, query)  # must not raise
    list(export(db, query=query))
    with Store(db).engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar_one() == 4


def test_column_syntax_is_not_interpreted(db):
    # "de:armas" is the phrase "de armas" (in "tráfico de armas"), not a filter on a column "de"
    assert titles(search(db, "de:armas")) == ["Misión Cortafuegos llega a Sonora"]
    assert search(db, "title:armas") == []


def test_to_fts5_quotes_every_term():
    assert to_fts5(
        parse_query('mision "trafico de armas" fentanilo OR fentanyl extradi* NOT aranceles')
    ) == (
        '("mision" AND "trafico de armas" AND ("fentanilo" OR "fentanyl") AND "extradi"*) NOT ("aranceles")'
    )
    assert to_fts5(parse_query("col:x")) == '"col:x"'


def test_export_streams_newest_first(db):
    stream = export(db)
    assert isinstance(stream, types.GeneratorType)
    records = list(stream)
    assert [r["title"] for r in records] == [
        "Extradiciones a Estados Unidos",  # fetched 2025-12-12, no published date
        "Misión Cortafuegos llega a Sonora",
        "Resumen semanal de seguridad",
        "Border security talks resume",
    ]
    assert all(r["snippet"] is None for r in records)
    assert all(tuple(r) == RECORD_FIELDS for r in records)
    assert [
        r["title"] for r in export(db, query="cortafuegos", sources=["elimparcial"], limit=1)
    ] == ["Extradiciones a Estados Unidos"]


def test_records_keep_original_offsets(db):
    by_source = {r["source"]: r for r in export(db, languages=["es"])}
    assert by_source["proceso"]["published_at"] == "2025-12-10T08:00:00-06:00"
    assert search(db, '"Misión Cortafuegos"')[0]["published_at"] == "2025-12-11T09:15:00-07:00"


def test_get_article(db):
    assert get_article(db, 3)["authors"] == []
    assert get_article(db, 999) is None


def test_write_records_json_jsonl_csv_round_trip(db):
    records = list(export(db))
    for fmt in ("json", "jsonl"):
        out = io.StringIO()
        assert write_records(iter(records), fmt, out) == 4
        parsed = (
            json.loads(out.getvalue())
            if fmt == "json"
            else [json.loads(x) for x in out.getvalue().splitlines()]
        )
        assert parsed == records
    out = io.StringIO()
    records[0]["authors"] = ["Ana Pérez", "Luis Ñúñez"]
    records[0]["relevant"] = True
    assert write_records(records, "csv", out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(RECORD_FIELDS)
    assert rows[0]["authors"] == "Ana Pérez; Luis Ñúñez" and rows[0]["relevant"] == "true"
    assert [r["title"] for r in rows] == [r["title"] for r in records]


def test_write_records_empty_and_bad_format():
    out = io.StringIO()
    assert write_records([], "json", out) == 0 and json.loads(out.getvalue()) == []
    out = io.StringIO()
    write_records([], "csv", out)
    assert out.getvalue().strip().split(",") == list(RECORD_FIELDS)
    with pytest.raises(ValueError, match="unknown format"):
        write_records([], "xml", io.StringIO())


def test_fold_and_python_snippet_used_by_postgres_fallback():
    assert fold("Misión CORTAFUEGOS Ñandú", same_length=True) == "mision cortafuegos nandu"
    body = "Texto inicial. " * 20 + "La Misión Cortafuegos contra el fentanilo continúa."
    snippet = py_snippet(
        body, [t for g in parse_query('"mision cortafuegos" fentan*').groups for t in g]
    )
    assert "«Misión Cortafuegos»" in snippet and "«fentanilo»" in snippet
    assert snippet.startswith("…")


PARITY_RECORDS = [
    ("Misión Cortafuegos llega a Sonora", "El operativo busca frenar el tráfico de armas."),
    ("EXTRADICIÓN DE CAPOS", "La SRE confirmó la extradición de 26 personas a Estados Unidos."),
    ("Aranceles y acero", "El T-MEC y los aranceles al acero dominaron la reunión bilateral."),
    ("Fentanilo en Nogales", "Aseguran fentanilo y metanfetamina en la garita de Nogales."),
    ("Border talks", "Officials discussed fentanyl trafficking, extradition and steel tariffs."),
    ("Niños migrantes", "Organizaciones piden proteger a niñas y niños en la frontera norte."),
]
PARITY_QUERIES = [
    "cortafuegos", "MISION", '"trafico de armas"', "extradi*", "EXTRADICION", "extradición",
    "aranceles NOT acero", "fentanilo OR fentanyl", '"garita de nogales"', "ninos", "nino*",
    '"Estados Unidos" extradicion', "nogales NOT metanfetamina", "acero", "sre",
]  # fmt: skip


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs NEWSWATCH_TEST_PG_URL")
def test_postgres_full_text_search_finds_what_sqlite_fts5_finds(tmp_path):
    records = [rec(i, t, b) for i, (t, b) in enumerate(PARITY_RECORDS)]
    found = {}
    for name, url in (("sqlite", f"sqlite:///{tmp_path / 'p.sqlite'}"), ("pg", fresh_postgres())):
        dispose_engines()
        Store(url).store(records)
        found[name] = {q: sorted(titles(search(url, q, limit=50))) for q in PARITY_QUERIES}
        first = search(url, "extradicion", limit=50)[0]["title"]
        assert first == "EXTRADICIÓN DE CAPOS", name  # title outranks body on both
    dispose_engines()
    assert found["pg"] == found["sqlite"]
    assert all(found["sqlite"][q] for q in PARITY_QUERIES if "NOT" not in q)


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs NEWSWATCH_TEST_PG_URL")
def test_postgres_search_reads_the_gin_index():
    from sqlalchemy import text

    from storage.db import get_engine
    from storage.models import posts
    from storage.search.postgres import POSTS_TSV, pg_condition

    url = fresh_postgres()
    Store(url).store([rec(i, t, b) for i, (t, b) in enumerate(PARITY_RECORDS)])
    engine = get_engine(url)
    parsed = parse_query('"trafico de armas" OR extradi*')
    plans = {}
    for table, condition in (
        (articles, pg_condition(parsed)),
        (posts, pg_condition(parsed, POSTS_TSV)),
    ):
        stmt = select(table.c.id).where(condition)
        sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))  # a few rows: force a big table's plan
            plans[table.name] = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
    dispose_engines()
    assert "ix_articles_search_tsv" in plans["articles"], plans
    assert "ix_posts_search_tsv" in plans["posts"], plans


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs NEWSWATCH_TEST_PG_URL")
def test_postgres_search_stays_on_the_gin_index_after_analyze():
    """With statistics (autovacuum analyzes any real archive), a query matching much of the
    table is costed as a sequential scan that reads every row's tsvector out of TOAST; search
    turns sequential scans off for its transaction, so the GIN index is used."""
    from storage.db import get_engine
    from storage.search.postgres import no_seq_scan, pg_search_statement

    url = fresh_postgres()
    Store(url).store([rec(i, t, b) for i, (t, b) in enumerate(PARITY_RECORDS)])
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE articles")
    sql = str(
        pg_search_statement(parse_query("acero OR cortafuegos OR extradi*"), [], 20, 0).compile(
            engine, compile_kwargs={"literal_binds": True}
        )
    )
    plans = []
    for guarded in (False, True):
        with engine.connect() as conn:
            if guarded:
                no_seq_scan(conn)
            plans.append("\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql)))
    dispose_engines()
    assert "Seq Scan on articles" in plans[0], plans[0]  # what the planner picks by itself
    assert "Seq Scan" not in plans[1] and "ix_articles_search_tsv" in plans[1], plans[1]
    assert search(url, "acero OR cortafuegos OR extradi*", limit=5)


def test_query_fold_matches_the_one_the_postgres_index_was_built_with():
    import importlib.util
    from pathlib import Path

    import storage
    from storage.search import postgres

    path = Path(storage.__file__).parent / "migrations/versions/0005_pg_search.py"
    spec = importlib.util.spec_from_file_location("m0005", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert (migration.ACCENTED, migration.PLAIN) == (postgres.ACCENTED, postgres.PLAIN)
    assert len(migration.ACCENTED) == len(migration.PLAIN)


def test_prefix_of_only_underscores_matches_nothing_on_every_backend(db):
    assert search(db, "___*") == []
