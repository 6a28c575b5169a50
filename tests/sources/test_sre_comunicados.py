"""SRE press releases on gob.mx: the catalog's ``link_selector`` on the archive page, and the
fields of one release (gob.mx prints naive times, read in Mexico City's UTC−6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.config import Source
from crawler.items import Extracted
from tests.support.source_pages import catalog_source, listing_links, read_article

NAME = "sre-comunicados"
MEXICO_CITY = ZoneInfo("America/Mexico_City")
PRESS = "https://www.gob.mx/sre/prensa/"
ARTICLE_URL = f"{PRESS}mexico-y-estados-unidos-celebran-la-segunda-reunion-del-grupo-de-implementacion-de-seguridad"


@pytest.fixture(scope="module")
def source() -> Source:
    return catalog_source(NAME)


@pytest.fixture(scope="module")
def links(source: Source) -> list[str]:
    return listing_links(source)


@pytest.fixture(scope="module")
def article(source: Source) -> Extracted:
    return read_article(source, ARTICLE_URL)


def test_listing_finds_the_three_releases(links: list[str]) -> None:
    assert len(links) == 3


def test_listing_first_link_is_the_newest_release(links: list[str]) -> None:
    assert links[0] == f"{ARTICLE_URL}?idiom=es"


def test_listing_ignores_sidebar_pagination_and_documents(links: list[str]) -> None:
    assert all(link.startswith(PRESS) for link in links)
    assert not any("pasaporte" in link or "page=" in link for link in links)


def test_title(article: Extracted) -> None:
    assert article.title == (
        "México y Estados Unidos celebran la segunda reunión del Grupo de Implementación de "
        "Seguridad"
    )


def test_date_is_read_in_mexico_city_time(article: Extracted) -> None:
    assert article.published_at == datetime(2025, 12, 11, 14, 30, tzinfo=MEXICO_CITY)
    assert article.published_at.utcoffset() == timedelta(hours=-6)


def test_author_is_the_ministry(article: Extracted) -> None:
    assert article.authors == ["Secretaría de Relaciones Exteriores"]


def test_body_starts_with_the_release_number(article: Extracted) -> None:
    assert article.text.startswith(
        "Comunicado No. 512\n\nLa Secretaría de Relaciones Exteriores informa que este jueves"
    )


def test_body_ends_with_the_closing_mark(article: Extracted) -> None:
    assert article.text.endswith("durante el primer trimestre de 2026.\n\n--ooOoo--")


def test_body_has_no_page_furniture(article: Extracted) -> None:
    for furniture in ("Imprime la página", "Compartir", "Trámites", "¿Qué es gob.mx?", "Prensa"):
        assert furniture not in article.text
