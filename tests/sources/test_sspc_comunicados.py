"""SSPC press releases on gob.mx: a listing without a selector (the article-URL heuristic plus
the catalog's ``allow``) and the fields of one release, dated in Mexico City's UTC−6."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.config import Source
from crawler.items import Extracted
from tests.support.source_pages import catalog_source, listing_links, read_article

NAME = "sspc-comunicados"
MEXICO_CITY = ZoneInfo("America/Mexico_City")
PRESS = "https://www.gob.mx/sspc/prensa/"
ARTICLE_URL = (
    f"{PRESS}gabinete-de-seguridad-detiene-en-sonora-a-dos-personas-con-armas-de-alto-poder"
)


@pytest.fixture(scope="module")
def source() -> Source:
    return catalog_source(NAME)


@pytest.fixture(scope="module")
def links(source: Source) -> list[str]:
    return listing_links(source)


@pytest.fixture(scope="module")
def article(source: Source) -> Extracted:
    return read_article(source, ARTICLE_URL)


def test_listing_finds_the_four_releases(links: list[str]) -> None:
    assert len(links) == 4


def test_listing_first_link_is_the_newest_release(links: list[str]) -> None:
    assert links[0] == f"{ARTICLE_URL}?idiom=es"


def test_listing_ignores_documents_pagination_and_portal_links(links: list[str]) -> None:
    assert all(link.startswith(PRESS) for link in links)


def test_title(article: Extracted) -> None:
    assert article.title == (
        "Gabinete de Seguridad detiene en Sonora a dos personas con armas de alto poder"
    )


def test_date_is_read_in_mexico_city_time(article: Extracted) -> None:
    assert article.published_at == datetime(2025, 12, 11, 19, 45, tzinfo=MEXICO_CITY)
    assert article.published_at.utcoffset() == timedelta(hours=-6)


def test_author_is_the_ministry(article: Extracted) -> None:
    assert article.authors == ["Secretaría de Seguridad y Protección Ciudadana"]


def test_body_starts_with_the_first_paragraph(article: Extracted) -> None:
    assert article.text.startswith(
        "En el marco de la Estrategia Nacional de Seguridad, elementos del Gabinete"
    )


def test_body_ends_with_the_last_paragraph(article: Extracted) -> None:
    assert article.text.endswith("reducir la violencia y el tráfico de armas en el país.")


def test_body_has_no_page_furniture(article: Extracted) -> None:
    for furniture in ("Imprime la página", "Compartir", "Trámites", "¿Qué es gob.mx?", "Prensa"):
        assert furniture not in article.text
