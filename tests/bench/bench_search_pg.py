"""Search on PostgreSQL: the same corpus and 50 queries as ``bench_search``, on a real server.

Needs a throwaway database in ``NEWSWATCH_BENCH_PG_URL`` (emptied first!), e.g. the one
``.ci/postgres.sh`` starts: ``NEWSWATCH_BENCH_PG_URL=$NEWSWATCH_TEST_PG_URL``. Without it this
benchmark prints nothing and says why on stderr. 20,000 articles by default (bulk loading into
PostgreSQL is slower than into SQLite), ``NEWSWATCH_BENCH_PG_ARTICLES`` to change it, 500 with
``--quick``. Figures are named ``pg_*`` and are not comparable with the SQLite ones at 100k.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from tests.bench.bench_ingest import record
from tests.bench.bench_search import BATCH, SOURCES, Corpus, percentile, time_queries

ENV_URL = "NEWSWATCH_BENCH_PG_URL"
ENV_ARTICLES = "NEWSWATCH_BENCH_PG_ARTICLES"


def _empty(url: str) -> None:
    from sqlalchemy import create_engine

    from storage.models import Base

    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def run(quick: bool = False) -> Iterator[dict]:
    url = os.environ.get(ENV_URL, "").strip()
    if not url:
        print(f"search_pg: set {ENV_URL} to a throwaway PostgreSQL database", file=sys.stderr)
        return
    from storage.db import dispose_engines, get_engine
    from storage.store import Store
    from storage.types import SourceInfo

    total = 500 if quick else int(os.environ.get(ENV_ARTICLES, "20000"))
    dispose_engines()
    _empty(url)
    store = Store(url)
    store.sync_sources(
        [
            SourceInfo(
                f"fuente-{s:02d}", "feed", f"https://fuente-{s:02d}.example.mx/rss",
                f"Fuente {s}", "es", "America/Mexico_City",
            )
            for s in range(SOURCES)
        ]
    )  # fmt: skip
    corpus, now, store_s = Corpus(), datetime.now(UTC), 0.0
    for first in range(0, total, BATCH):
        batch = corpus.records(first, min(BATCH, total - first), now)
        t0 = time.perf_counter()
        store.store(batch)
        store_s += time.perf_counter() - t0
    yield record(
        "pg_bulk_load_articles_per_s", total / store_s, "articles/s", articles=total,
        batch=BATCH, quick=quick,
    )  # fmt: skip
    engine = get_engine(url)
    with engine.begin() as conn:  # committed: a rolled-back ANALYZE leaves no statistics
        conn.exec_driver_sql("ANALYZE")
    with engine.connect() as conn:
        size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        server = conn.exec_driver_sql("SHOW server_version").scalar()
    yield record("pg_db_bytes_per_article", size / total, "bytes", articles=total, server=server)

    timings, _, _, slowest = time_queries(url)
    common = {"queries": len(timings), "articles": total, "limit": 20, "server": server}
    yield record("pg_search_p50_ms", percentile(timings, 50), "ms", **common)
    yield record(
        "pg_search_p95_ms", percentile(timings, 95), "ms", max_ms=round(max(timings), 2),
        slowest=slowest, **common,
    )  # fmt: skip
    store.close()
    dispose_engines()
