"""Facet counts and the date histogram of a search (storage.search.facets) on real databases."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from sys import modules

import pytest
from sqlalchemy import update

from storage.db import dispose_engines, get_engine
from storage.models import articles
from storage.search import Analysis, QueryError, facets, search
from storage.search.facets import histogram
from storage.store import Store
from tests.test_search import rec
from tests.test_storage import BACKENDS, fresh_postgres

SRE = {"id": "sre", "name": "Secretaría de Relaciones Exteriores"}


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    dispose_engines()
    url = (
        f"sqlite:///{tmp_path / 'facets.sqlite'}" if request.param == "sqlite" else fresh_postgres()
    )
    day = lambda d: datetime(2025, 12, d, 12, tzinfo=UTC)  # noqa: E731
    Store(url).store(
        [
            rec(
                1,
                "Misión Cortafuegos llega a Sonora",
                "Cortafuegos en la frontera.",
                published=day(11),
                topics={"seguridad": 0.9},
                entities=[SRE],
                relevant=True,
                relevance=0.9,
            ),
            rec(
                2,
                "Misión Cortafuegos, copia",
                "Cortafuegos en la frontera. Fuente: otro.",
                source="tribuna",
                published=day(11),
                topics={"seguridad": 0.8},
                relevant=False,
                relevance=0.2,
            ),
            rec(
                3,
                "Cortafuegos otra vez",
                "Cortafuegos y aranceles.",
                source="proceso",
                published=day(13),
                topics={"comercio": 0.7},
                relevant=False,
                relevance=0.2,
            ),
            rec(
                4,
                "Cortafuegos in English",
                "Cortafuegos is a word here.",
                source="reuters",
                language="en",
                published=day(13),
            ),
            rec(5, "Nada que ver", "Lluvias en Hermosillo.", published=day(12)),
        ]
    )
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(update(articles).where(articles.c.id.in_([1, 2])).values(cluster_id=1))
        conn.execute(update(articles).where(articles.c.id == 1).values(cluster_rep=True))
    yield url
    dispose_engines()


def values(items):
    return {item["value"]: item["count"] for item in items}


def test_counts_per_story(db):
    got = facets(db, "cortafuegos")
    assert got["articles"] == 4
    assert got["stories"] == 3 == len(search(db, "cortafuegos"))
    assert got["approximate"] is False
    assert values(got["sources"]) == {"elimparcial": 1, "tribuna": 1, "proceso": 1, "reuters": 1}
    assert values(got["languages"]) == {"es": 2, "en": 1}
    assert values(got["topics"]) == {"seguridad": 1, "comercio": 1}
    assert got["entities"] == [{"value": "sre", "count": 1, "label": SRE["name"]}]
    assert got["relevant"] == {"true": 1, "false": 1, "unknown": 1}


def test_histogram_days_with_empty_bars(db):
    got = facets(db, "mision OR aranceles OR english")["histogram"]
    assert got["bucket"] == "day"
    assert got["bars"] == [
        {"start": "2025-12-11", "end": "2025-12-12", "stories": 1},
        {"start": "2025-12-12", "end": "2025-12-13", "stories": 0},
        {"start": "2025-12-13", "end": "2025-12-14", "stories": 2},
    ]


def test_same_filters_as_search(db):
    got = facets(db, "cortafuegos", sources=["proceso", "reuters"], languages=["es"])
    assert got["articles"] == 1 and values(got["sources"]) == {"proceso": 1}
    since = datetime(2025, 12, 12, tzinfo=UTC)
    assert facets(db, "cortafuegos", since=since)["articles"] == 2
    assert facets(db, "cortafuegos", until=since)["articles"] == 2
    topical = facets(db, "cortafuegos", analysis=Analysis(topics=("seguridad",)))
    assert topical["articles"] == 2 and topical["stories"] == 1
    named = facets(db, "cortafuegos", analysis=Analysis(entities=("Secretaria de Relaciones",)))
    assert named["articles"] == 0
    named = facets(db, "", analysis=Analysis(entities=("secretaria de relaciones exteriores",)))
    assert named["articles"] == 1
    assert facets(db, "cortafuegos", analysis=Analysis(relevant=True))["articles"] == 1


def test_blank_query_counts_everything(db):
    got = facets(db, None)
    assert got["articles"] == 5 and got["stories"] == 4
    assert facets(db, "   ")["articles"] == 5


def test_no_match_and_bad_query(db):
    got = facets(db, "inexistente")
    assert got["articles"] == got["stories"] == 0
    assert got["histogram"] == {"bucket": "day", "bars": []}
    with pytest.raises(QueryError):
        facets(db, '"unclosed')
    for hostile in ("NEAR(a b)", "title:x", "*", "a\x00b"):
        with contextlib.suppress(QueryError):
            facets(db, hostile)


def test_cap_marks_counts_approximate(db, monkeypatch):
    monkeypatch.setattr(modules["storage.search.facets"], "MAX_SCANNED", 2)
    got = facets(db, "cortafuegos")
    assert got["approximate"] is True
    assert got["articles"] == 4
    if db.startswith("sqlite"):  # an even sample, scaled up to every match
        assert sum(values(got["sources"]).values()) == 4
        assert sum(bar["stories"] for bar in got["histogram"]["bars"]) == got["stories"]
    else:  # the best two by rank
        assert sum(values(got["sources"]).values()) == 2
    got = facets(db, None)
    assert got["approximate"] is True and got["articles"] == 5


def test_histogram_buckets_by_span():
    weeks = histogram([datetime(2025, 1, 1), datetime(2025, 6, 30)])
    assert weeks["bucket"] == "week" and weeks["bars"][0]["start"] == "2024-12-30"
    months = histogram([datetime(2023, 11, 5), datetime(2025, 12, 31)])
    assert months["bucket"] == "month"
    assert months["bars"][0] == {"start": "2023-11-01", "end": "2023-12-01", "stories": 1}
    assert months["bars"][-1] == {"start": "2025-12-01", "end": "2026-01-01", "stories": 1}
    assert len(months["bars"]) == 26
    assert date.fromisoformat(months["bars"][1]["start"]) == date(2023, 12, 1)


def test_sql_counts_agree_with_the_python_counts(db):
    """SQLite counts in SQL (JSON1); PostgreSQL in Python over the light rows: the same."""
    module = modules["storage.search.facets"]
    with get_engine(db).connect() as conn:
        rows, total = module._matches_browse(conn, [])
    expected = {**module._count(rows, 10), "articles": total, "approximate": False}
    assert facets(db, None) == expected
