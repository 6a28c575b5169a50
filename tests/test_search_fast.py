"""The staged SQLite search (rank rowids, collapse light rows, read only the page) returns what
the straightforward query does: same records, same order, same snippets, with filters, story
collapsing, offsets and bm25 ties (real SQLite file, a generated corpus)."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler import settings
from crawler.identity.fingerprint import sign
from storage import clusters, tuning
from storage.db import dispose_engines, get_engine
from storage.search import parse_query, search
from storage.search import sqlite as search_sqlite
from storage.search.filters import row_filters
from storage.search.sqlite import light_statement, rank_statement, reference_search
from storage.store import Store
from storage.types import ArticleRecord

VOCAB = (
    "frontera armas fentanilo cártel extradición aduana garita operativo guardia nacional "
    "sonora arizona nogales hermosillo acuerdo seguridad migración decomiso laboratorio "
    "precursores químicos túnel lavado dinero aranceles acero embajada cancillería reunión "
    "delegación fiscalía juez proceso detenido tráfico misión cortafuegos huachicol tren"
).split()
FILLER = "el la los de del en y que a por con para se su un una al es como más pero".split()
SOURCES = [f"medio-{i}" for i in range(6)]
LANGS = ["es", "es", "es-MX", "en", "en-US"]
QUERIES = [
    "fentanilo",
    "mision cortafuegos",
    '"tráfico de armas"',
    "aduana OR garita",
    "frontera NOT arizona",
    "extradi*",
    '"guardia nacional" sonora',
    "acuerdo",
]
START = datetime(2025, 1, 1, tzinfo=UTC)


def _text(rng: random.Random) -> str:
    paras = []
    for _ in range(rng.randint(2, 5)):
        words = []
        for _ in range(rng.randint(30, 70)):
            pool = VOCAB if rng.random() < 0.3 else FILLER
            words.append(rng.choice(pool))
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = "tráfico de armas"
        paras.append(" ".join(words).capitalize() + ".")
    return "\n".join(paras)


def corpus(n: int = 360, seed: int = 5) -> list[ArticleRecord]:
    """Articles over a year from six sources; every tenth repeats an earlier one word for word
    in another source (same bm25: ties broken by date and id), some are cut copies that form
    clusters, a few have no published date."""
    rng = random.Random(seed)
    out: list[ArticleRecord] = []
    for i in range(n):
        source = SOURCES[i % len(SOURCES)]
        if out and i % 10 == 0:
            base = rng.choice(out)
            title, text = base.title, base.text
        elif out and i % 7 == 0:
            base = rng.choice(out)
            title, text = base.title + " (copia)", "\n".join(base.text.split("\n")[:-1] or [""])
        else:
            title = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(3, 7))).capitalize()
            text = _text(rng)
        tz = timezone(timedelta(hours=rng.choice((-7, -6, 0))))
        published = None if rng.random() < 0.05 else START + timedelta(hours=rng.randrange(8760))
        signature, count = sign(text)
        out.append(
            ArticleRecord(
                source=source,
                url=f"https://{source}.example/{i}",
                canonical_url=f"https://{source}.example/{i}",
                title=title,
                text=text,
                content_hash=f"h{i}",
                fetched_at=START + timedelta(days=400),
                published_at=published.astimezone(tz) if published else None,
                language=rng.choice(LANGS),
                minhash=signature,
                shingle_count=count,
            )
        )
    return out


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    dispose_engines()
    url = f"sqlite:///{tmp_path_factory.mktemp('fast') / 'search.sqlite'}"
    store = Store(url)
    records = corpus()
    for i in range(0, len(records), 50):
        store.store(records[i : i + 50])
    store.close()
    yield url
    dispose_engines()


def reference(url, query, *, limit, offset, all_copies, **kw) -> list[dict]:
    """The search as it was before staging: one join ranking every match with its snippet, then
    story collapsing over a growing window of full records."""
    engine = get_engine(url)
    parsed = parse_query(query)
    filters = row_filters(kw.get("since"), kw.get("until"), kw.get("sources"), kw.get("languages"))
    if all_copies:
        hits = reference_search(engine, parsed, filters, limit, offset)
        with engine.connect() as conn:
            return clusters.annotate(conn, hits)
    window = max(4 * (limit + offset), 50)
    while True:
        hits = reference_search(engine, parsed, filters, window, 0)
        with engine.connect() as conn:
            stories = clusters.collapse(conn, hits)
            if len(stories) >= limit + offset or len(hits) < window:
                return clusters.annotate(conn, stories[offset : offset + limit])
        window *= 4


FILTERS = [
    {},
    {"sources": ["medio-1"]},
    {"sources": ["medio-2", "medio-4"], "since": datetime(2025, 3, 1, tzinfo=UTC)},
    {"since": datetime(2025, 2, 1, tzinfo=UTC), "until": datetime(2025, 5, 1, tzinfo=UTC)},
    {"languages": ["en"]},
    {"languages": ["es"], "until": datetime(2025, 7, 1, tzinfo=UTC), "sources": ["medio-0"]},
    {"since": datetime(2026, 1, 15, tzinfo=UTC)},  # only articles without a published date
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("all_copies", [False, True])
def test_staged_search_equals_the_reference_query(db, query, all_copies):
    compared = 0
    for filters in FILTERS:
        for limit, offset in ((20, 0), (7, 5), (3, 0), (50, 10)):
            want = reference(
                db, query, limit=limit, offset=offset, all_copies=all_copies, **filters
            )
            got = search(db, query, limit=limit, offset=offset, all_copies=all_copies, **filters)
            assert got == want, (query, filters, limit, offset)
            compared += len(got)
    assert compared > 0


@pytest.mark.slow
@pytest.mark.parametrize(("threads", "margin"), [(2, 32), (3, 0)])
def test_parallel_ranking_equals_the_reference_query(db, monkeypatch, threads, margin):
    """Ranking split over rowid ranges in threads (big archives) gives the same pages: the parts'
    bm25 ranks are the whole table's, and ties across parts at the cut are all fetched (margin
    0 makes the limit grow on every tie)."""
    tuning.configure(search_threads=threads)
    monkeypatch.setattr(search_sqlite, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(search_sqlite, "_parallel", lambda conn: True)
    monkeypatch.setattr(search_sqlite, "_TIE_MARGIN", margin)
    with get_engine(db).connect() as conn:
        parts = search_sqlite._rank_parts(conn)
    assert len(parts) == threads and parts[0][0] == 1
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    for query in QUERIES:
        for all_copies in (False, True):
            for filters in FILTERS:
                for limit, offset in ((20, 0), (7, 5), (50, 10), (1, 0), (2, 1)):
                    want = reference(
                        db, query, limit=limit, offset=offset, all_copies=all_copies, **filters
                    )
                    got = search(
                        db, query, limit=limit, offset=offset, all_copies=all_copies, **filters
                    )
                    assert got == want, (query, filters, limit, offset, all_copies)


def test_parallel_ranking_fetches_every_tie_at_the_cut(tmp_path, monkeypatch):
    """Twelve word-for-word copies (equal bm25, published a day apart) spread over the rowid
    range, among other articles: the best hit is the newest copy, the last of its part, though
    a part asked for one row returns its first."""
    rng = random.Random(3)
    text = "Misión Cortafuegos: reunión de seguridad en la frontera. " * 5
    records = []
    for i in range(120):
        copy = i % 10 == 4
        body = text if copy else _text(rng) + " misión"
        signature, count = sign(body)
        records.append(
            ArticleRecord(
                source=f"medio-{i}", url=f"https://m{i}.example/a", canonical_url=f"https://m{i}.example/a",
                title="Cortafuegos" if copy else "Nota", text=body, content_hash=f"t{i}",
                fetched_at=START, published_at=START + timedelta(days=i if copy else rng.randrange(300)),
                language="es", minhash=signature, shingle_count=count,
            )
        )  # fmt: skip
    url = f"sqlite:///{tmp_path / 'ties.sqlite'}"
    store = Store(url)
    store.store(records)
    store.close()
    tuning.configure(search_threads=3)
    monkeypatch.setattr(search_sqlite, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(search_sqlite, "_parallel", lambda conn: True)
    monkeypatch.setattr(search_sqlite, "_TIE_MARGIN", 0)
    best = search(url, "cortafuegos", limit=1, all_copies=True)
    assert [r["url"] for r in best] == [records[114].url]  # the newest copy, not a part's first
    for limit, offset in ((1, 0), (2, 0), (3, 2), (11, 0)):
        want = reference(url, "cortafuegos", limit=limit, offset=offset, all_copies=True)
        got = search(url, "cortafuegos", limit=limit, offset=offset, all_copies=True)
        assert [r["id"] for r in got] == [r["id"] for r in want], (limit, offset)
    dispose_engines()


def test_only_the_ranked_rows_are_looked_up_in_articles(db):
    """The light columns (date, cluster) are read for the ranking's best rows only: the ranking
    runs first as a subquery, then each of its rows is one primary-key lookup."""
    stmt = light_statement('"fentanilo"', row_filters(None, None, ["medio-1"], None), 20, (1, 200))
    engine = get_engine(db)
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    assert plan.index("SCAN top") < plan.index(
        "SEARCH articles USING INTEGER PRIMARY KEY (rowid=?)"
    )
    assert not any(step.startswith("SCAN articles ") for step in plan), plan


def test_search_threads_setting(monkeypatch, db):
    monkeypatch.setenv("NEWSWATCH_SEARCH_THREADS", "1")
    settings.check_environment()  # how a command hands the variable to storage
    monkeypatch.setattr(search_sqlite, "PARALLEL_MIN_ROWS", 0)
    with get_engine(db).connect() as conn:
        assert search_sqlite._rank_parts(conn) == []
    monkeypatch.setenv("NEWSWATCH_SEARCH_THREADS", "two")
    with pytest.raises(settings.SettingsError, match="NEWSWATCH_SEARCH_THREADS='two'"):
        settings.check_environment()


def test_corpus_exercises_ties_clusters_and_filters(db):
    """The equivalence above means something only if the corpus has what could break it."""
    every = search(db, "fentanilo", all_copies=True, limit=1000)
    stories = search(db, "fentanilo", limit=1000)
    assert len(stories) < len(every)  # some clusters collapse
    texts = [(h["title"], h["text"]) for h in every]
    assert len(set(texts)) < len(texts)  # word-for-word copies: equal bm25 ranks
    assert search(db, "fentanilo", sources=["medio-1"], limit=1000)
    assert any(h["copies"] > 1 for h in stories)


def test_without_text_only_the_body_is_left_out(db):
    full = search(db, "cortafuegos", limit=5)
    lean = search(db, "cortafuegos", limit=5, with_text=False)
    assert [r["id"] for r in lean] == [r["id"] for r in full]
    assert all(r["text"] is None for r in lean)
    assert [{**r, "text": None} for r in full] == lean


def test_zero_limit_and_no_matches(db):
    assert search(db, "fentanilo", limit=0) == []
    assert search(db, "inexistentepalabra") == []
    assert search(db, "fentanilo", sources=["nadie"]) == []


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"since": datetime(2025, 3, 1, tzinfo=UTC)}, "ix_articles_when"),
        (
            {"sources": ["medio-1"], "until": datetime(2025, 3, 1, tzinfo=UTC)},
            "ix_articles_source_when",
        ),
    ],
)
@pytest.mark.parametrize("bounds", [None, (1, 200)])
def test_filters_are_one_index_only_id_set_inside_the_ranking(db, filters, index, bounds):
    """Filters become one list of ids read from an index (not a MATCH re-run per id, not a scan
    of article rows whose date and language sit in overflow pages), also for one rowid range of
    a parallel ranking (where "id >= lo" could otherwise pick the primary key)."""
    stmt, rank = rank_statement(
        '"fentanilo"',
        row_filters(
            **{"since": None, "until": None, "sources": None, "languages": ["es"]} | filters
        ),
        bounds,
    )
    engine = get_engine(db)
    sql = str(stmt.order_by(rank).limit(20).compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " | ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "LIST SUBQUERY" in plan, plan
    assert re.search(rf"USING (COVERING )?INDEX {index} ", plan), plan
    assert "SCAN articles " not in plan and "PRIMARY KEY" not in plan, plan
