"""Issue 16, item 2: no invented dates, Spanish date forms, listing and URL dates, date_source.

A publication date is stored only when the page, its feed/sitemap/listing entry or its URL says
it; a year alone is never one. Every stored date says where it came from (``date_source``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from crawler.articles.dates import find_date, parse_date, url_date
from crawler.articles.extraction import extract
from crawler.documents.listing import link_dates
from crawler.items import FeedEntry
from storage.db import SCHEMA_HEAD, _alembic_config, dispose_engines, get_engine
from storage.records import RECORD_FIELDS
from storage.search import get_article
from storage.store import Store
from storage.types import DATE_SOURCES, ArticleRecord
from tests.support import FIXTURES_DIR

CDMX = ZoneInfo("America/Mexico_City")
HERMOSILLO = ZoneInfo("America/Hermosillo")
SITE = FIXTURES_DIR / "prensa-fechas" / "comunicados"
BASE = "https://www.gob.mx/sspc/prensa-fechas/comunicados"
FETCHED = datetime(2025, 12, 11, 18, 0, tzinfo=UTC)


def page(path: Path) -> str:
    return path.read_text(encoding="utf-8").replace("{{BASE}}", "https://www.gob.mx/sspc")


def local(*parts: int, tz=CDMX) -> datetime:
    return datetime(*parts, tzinfo=tz)


# ----------------------------------------------------------------------------- the date module


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19 de noviembre de 2026", local(2026, 11, 19)),
        ("jueves 11 de diciembre de 2025, 10:30 hrs", local(2025, 12, 11, 10, 30)),
        (
            "Hermosillo, Son., jueves 11 de diciembre de 2025, 10:30 hrs.-",
            local(2025, 12, 11, 10, 30),
        ),
        ("11/12/2025", local(2025, 12, 11)),
        ("11.12.2025", local(2025, 12, 11)),
        ("Publicado el 11/12/2025 13:15", local(2025, 12, 11, 13, 15)),
        ("Fecha: 3 dic. 2025", local(2025, 12, 3)),
        ("Dec 11, 2025 3:04 PM", local(2025, 12, 11, 15, 4)),
        ("publiziert am 25. September 2018", local(2018, 9, 25)),
        ("© 2025 Diario del Yaqui", None),
        ("Ausgabe 8/2021", None),
        ("diciembre de 2025", None),
    ],
)
def test_find_date_reads_dates_written_in_text(text: str, expected: datetime | None) -> None:
    assert find_date(text, CDMX) == expected


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("Publicado: hace 3 horas", timedelta(hours=3)),
        ("hace 2 días", timedelta(days=2)),
        ("hace 30 minutos", timedelta(minutes=30)),
        ("hace una hora", timedelta(hours=1)),
        ("3 hours ago", timedelta(hours=3)),
    ],
)
def test_relative_dates_count_back_from_the_fetch_time(text: str, ago: timedelta) -> None:
    assert find_date(text, CDMX, now=FETCHED) == FETCHED - ago


def test_yesterday_is_a_day_and_relative_phrases_need_a_fetch_time_and_a_short_line() -> None:
    assert find_date("ayer", CDMX, now=FETCHED) == local(2025, 12, 10)
    assert find_date("hace 3 horas", CDMX) is None
    prose = "Hace 2 días el Servicio Meteorológico Nacional había advertido sobre lluvias intensas."
    assert find_date(prose, CDMX, now=FETCHED) is None


def test_url_dates_need_a_full_day() -> None:
    assert url_date("https://x.mx/2025/12/11/nota.html", CDMX) == local(2025, 12, 11)
    assert url_date("https://x.mx/2025-12-11-nota", CDMX) == local(2025, 12, 11)
    assert url_date("https://x.mx/2025/12/nota.html", CDMX) is None
    assert url_date("https://x.mx/2025/13/01/nota.html", CDMX) is None


def test_month_names_of_the_sources_languages() -> None:
    assert parse_date("3 de março de 2025", CDMX) == local(2025, 3, 3)
    assert parse_date("3 mars 2025", CDMX) == local(2025, 3, 3)
    assert parse_date("3. März 2025", CDMX) == local(2025, 3, 3)


# ----------------------------------------------------------------------------- article pages


def test_gobmx_communique_takes_its_dt_dd_date_not_1_january() -> None:
    html = page(SITE / "prensa" / "gabinete-de-seguridad-informa-resultados.html")
    ex = extract(html, f"{BASE}/prensa/gabinete-de-seguridad-informa-resultados.html", tz=CDMX)
    assert ex.published_at == local(2026, 11, 19)
    assert ex.published_at.utcoffset() == timedelta(hours=-6)
    assert ex.date_source == "page"


def test_sonora_daily_date_line_under_the_headline() -> None:
    html = (FIXTURES_DIR / "dates" / "sonora-diario.html").read_text(encoding="utf-8")
    ex = extract(html, "https://diariodelyaqui.mx/sonora/aseguran-fentanilo", tz=HERMOSILLO)
    assert ex.published_at == local(2025, 12, 11, 10, 30, tz=HERMOSILLO)
    assert ex.published_at.utcoffset() == timedelta(hours=-7)
    assert ex.date_source == "page"


def test_agency_page_hace_3_horas_counts_from_the_fetch_time() -> None:
    html = (FIXTURES_DIR / "dates" / "agencia-hace-horas.html").read_text(encoding="utf-8")
    url = "https://agencia.mx/estados/lluvias-tamaulipas"
    ex = extract(html, url, tz=CDMX, now=FETCHED)
    assert ex.published_at == FETCHED - timedelta(hours=3)
    assert ex.date_source == "page"
    assert extract(html, url, tz=CDMX).published_at is None  # no fetch time: no guess


def test_page_with_only_a_year_in_its_footer_has_no_date() -> None:
    html = page(SITE / "prensa" / "programa-de-canje-de-armas.html")
    ex = extract(html, f"{BASE}/prensa/programa-de-canje-de-armas.html", tz=CDMX)
    assert ex.published_at is None
    assert ex.date_source == "none"


def test_structured_dates_name_their_source() -> None:
    jsonld = page(SITE / "prensa" / "detienen-a-generador-de-violencia.html")
    meta = page(SITE / "prensa" / "aseguran-laboratorio-clandestino.html")
    assert extract(jsonld, f"{BASE}/a.html", tz=CDMX).date_source == "jsonld"
    assert extract(meta, f"{BASE}/b.html", tz=CDMX).date_source == "meta"


def test_labelled_line_with_time() -> None:
    html = page(SITE / "prensa" / "entregan-patrullas-a-municipios.html")
    ex = extract(html, f"{BASE}/prensa/entregan-patrullas-a-municipios.html", tz=CDMX)
    assert ex.published_at == local(2026, 11, 10, 14, 20)
    assert ex.date_source == "page"


def test_hint_and_url_dates_are_fallbacks_with_their_source() -> None:
    html = page(SITE / "prensa" / "guardia-nacional-refuerza-carreteras.html")
    url = f"{BASE}/prensa/guardia-nacional-refuerza-carreteras.html"
    for origin in ("listing", "sitemap", "feed"):
        hint = FeedEntry(link=url, published=local(2026, 11, 18), origin=origin)
        ex = extract(html, url, tz=CDMX, hints=hint)
        assert (ex.published_at, ex.date_source) == (local(2026, 11, 18), origin)
    dated_url = f"{BASE}/2026/11/05/guardia-nacional.html"
    ex = extract(html, dated_url, tz=CDMX)
    assert (ex.published_at, ex.date_source) == (local(2026, 11, 5), "url")
    page_dated = page(SITE / "prensa" / "gabinete-de-seguridad-informa-resultados.html")
    hint = FeedEntry(link=dated_url, published=local(2026, 11, 1), origin="listing")
    assert extract(page_dated, dated_url, tz=CDMX, hints=hint).date_source == "page"


# ----------------------------------------------------------------------------- listing pages


def test_listing_dates_next_to_links() -> None:
    dates = link_dates(page(SITE / "index.html"), f"{BASE}/", tz=CDMX, dayfirst=True)
    assert dates == {
        f"{BASE}/prensa/gabinete-de-seguridad-informa-resultados.html": local(2026, 11, 19),
        f"{BASE}/prensa/guardia-nacional-refuerza-carreteras.html": local(2026, 11, 18),
        f"{BASE}/prensa/detienen-a-generador-de-violencia.html": local(2026, 11, 17),
        f"{BASE}/prensa/aseguran-laboratorio-clandestino.html": local(2026, 11, 16),
    }
    assert link_dates(page(SITE / "page" / "2" / "index.html"), f"{BASE}/page/2/") == {}


def test_a_card_with_two_articles_gives_neither_the_other_ones_date() -> None:
    html = (
        "<ul><li><a href='/a/nota-uno-larga'>Uno</a> <a href='/a/nota-dos-larga'>Dos</a>"
        " <span>11/12/2025</span></li>"
        "<li><a href='/a/nota-tres-larga'>Tres</a><time datetime='2025-12-10T08:00:00-06:00'>"
        "ayer</time></li></ul>"
    )
    assert link_dates(html, "https://x.mx/", tz=CDMX) == {
        "https://x.mx/a/nota-tres-larga": local(2025, 12, 10, 8)
    }


# ----------------------------------------------------------------------------- storage


def make_record(**overrides: object) -> ArticleRecord:
    values: dict = {
        "source": "sspc",
        "url": f"{BASE}/prensa/guardia-nacional-refuerza-carreteras.html",
        "canonical_url": f"{BASE}/prensa/guardia-nacional-refuerza-carreteras.html",
        "title": "Guardia Nacional refuerza vigilancia",
        "text": "La Guardia Nacional refuerza la vigilancia en las carreteras del norte del país.",
        "content_hash": "h1",
        "fetched_at": FETCHED,
        "published_at": local(2026, 11, 18),
        "date_source": "listing",
    }
    values.update(overrides)
    return ArticleRecord(**values)


@pytest.fixture
def sqlite_url(tmp_path: Path):
    dispose_engines()
    yield f"sqlite:///{tmp_path / 'news.sqlite'}"
    dispose_engines()


def test_date_source_round_trip_and_export_field(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.store(
        [
            make_record(),
            make_record(
                url="https://x/b", canonical_url="https://x/b", content_hash="h2", published_at=None
            ),
        ]
    )
    record = get_article(sqlite_url, 1)
    assert record is not None and record["date_source"] == "listing"
    assert record["published_at"] == "2026-11-18T00:00:00-06:00"
    assert get_article(sqlite_url, 2)["date_source"] == "none"
    assert RECORD_FIELDS.index("date_source") == RECORD_FIELDS.index("published_at") + 1
    assert set(DATE_SOURCES) == {
        "jsonld",
        "meta",
        "page",
        "listing",
        "sitemap",
        "feed",
        "url",
        "none",
    }


def test_a_url_day_is_replaced_by_a_real_date_but_a_real_date_is_kept(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.store([make_record(published_at=local(2026, 11, 5), date_source="url")])
    store.store(
        [make_record(content_hash="h2", published_at=local(2026, 11, 5, 9), date_source="page")]
    )
    assert get_article(sqlite_url, 1)["date_source"] == "page"
    store.store(
        [make_record(content_hash="h3", published_at=local(2026, 11, 6), date_source="meta")]
    )
    record = get_article(sqlite_url, 1)
    assert (record["published_at"], record["date_source"]) == ("2026-11-05T09:00:00-06:00", "page")


def test_migration_0007_adds_date_source_to_an_existing_database(tmp_path: Path) -> None:
    from alembic import command

    path = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        for n, published in ((1, "2025-12-11 16:30:00"), (2, None)):
            conn.execute(
                text(
                    "INSERT INTO articles (id, source, url, canonical_url, title, text, authors,"
                    " tags, content_hash, fetched_at, first_seen_at, published_at)"
                    " VALUES (:n, 's', :u, :u, 't', 'x', '[]', '[]', :h, :f, :f, :p)"
                ),
                {
                    "n": n,
                    "u": f"https://x/{n}",
                    "h": f"h{n}",
                    "f": "2025-12-11 17:00:00",
                    "p": published,
                },
            )
    engine.dispose()
    dispose_engines()
    get_engine(str(path))
    dispose_engines()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, date_source FROM articles ORDER BY id").fetchall()
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert rows == [(1, None), (2, "none")]
    assert version == SCHEMA_HEAD


# ----------------------------------------------------------------------------- end to end

PRESS_OFFICE_TOML = """[defaults]
delay = 0
concurrency = 8

[[sources]]
name = "sspc-prensa"
title = "SSPC, comunicados (fixture)"
kind = "listing"
url = "{base}/prensa-fechas/comunicados/"
language = "es"
timezone = "America/Mexico_City"
interval = "30m"
link_selector = "ul.comunicados h2 a"
max_pages = 2
"""

EXPECTED_DATES = {
    "prensa/gabinete-de-seguridad-informa-resultados.html": ("2026-11-19 06:00:00", "page"),
    "prensa/guardia-nacional-refuerza-carreteras.html": ("2026-11-18 06:00:00", "listing"),
    "prensa/detienen-a-generador-de-violencia.html": ("2026-11-17 15:30:00", "jsonld"),
    "prensa/aseguran-laboratorio-clandestino.html": ("2026-11-16 18:00:00", "meta"),
    "prensa/entregan-patrullas-a-municipios.html": ("2026-11-10 20:20:00", "page"),
    "2026/11/05/reunion-de-coordinacion-regional.html": ("2026-11-05 06:00:00", "url"),
    "prensa/programa-de-canje-de-armas.html": (None, "none"),
}
"""Every communiqué of the press-office fixture, its publication time in UTC and its source."""


@pytest.mark.slow
def test_press_office_listing_crawl_stores_every_date_right(site, tmp_path: Path) -> None:
    from tests.test_e2e_cli import run_cli

    cfg = tmp_path / "sources.toml"
    cfg.write_text(PRESS_OFFICE_TOML.format(base=site.base_url.rstrip("/")), encoding="utf-8")
    db = tmp_path / "news.sqlite"
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT url, published_at, published_offset, date_source FROM articles"
        ).fetchall()
    prefix = f"{site.base_url.rstrip('/')}/prensa-fechas/comunicados/"
    found = {url.removeprefix(prefix): (published, source) for url, published, _, source in stored}
    assert {k: (v[0][:19] if v[0] else None, v[1]) for k, v in found.items()} == EXPECTED_DATES
    assert {offset for _, published, offset, _ in stored if published} == {-360}
