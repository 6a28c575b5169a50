"""El Financiero's national section (Arc XP): dated listing links kept by the catalog's
``allow = '/nacional/\\d{4}/'``, and one article whose JSON-LD date is in UTC (``Z``), the same
instant as 11:40 in Mexico City (UTC−6)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from crawler.config import Source
from crawler.items import Extracted
from tests.support.source_pages import catalog_source, listing_links, read_article

NAME = "el-financiero-nacional"
MEXICO_CITY = ZoneInfo("America/Mexico_City")
SECTION = "https://www.elfinanciero.com.mx/nacional/"
ARTICLE_URL = (
    f"{SECTION}2025/12/11/"
    "mexico-y-eu-revisan-avances-contra-el-trafico-de-armas-en-segunda-reunion-de-seguridad/"
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


def test_listing_finds_the_three_dated_stories(links: list[str]) -> None:
    assert len(links) == 3


def test_listing_first_link_is_the_top_story(links: list[str]) -> None:
    assert links[0] == ARTICLE_URL


def test_listing_ignores_opinion_authors_and_paging(links: list[str]) -> None:
    assert all(link.startswith(f"{SECTION}2025/") for link in links)


def test_title(article: Extracted) -> None:
    assert article.title == (
        "México y EU revisan avances contra el tráfico de armas en segunda reunión de seguridad"
    )


def test_date_is_the_utc_instant_of_1140_in_mexico_city(article: Extracted) -> None:
    assert article.published_at == datetime(2025, 12, 11, 11, 40, tzinfo=MEXICO_CITY)
    assert article.published_at == datetime(2025, 12, 11, 17, 40, tzinfo=UTC)


def test_author(article: Extracted) -> None:
    assert article.authors == ["Eduardo Ortega"]


def test_body_starts_with_the_first_paragraph(article: Extracted) -> None:
    assert article.text.startswith("Los gobiernos de México y Estados Unidos revisaron este jueves")


def test_body_ends_with_the_last_paragraph(article: Extracted) -> None:
    assert article.text.endswith("se alternarán entre los dos países a lo largo de 2026.")


def test_body_has_no_page_furniture(article: Extracted) -> None:
    for furniture in ("Publicidad", "Suscríbete", "Compartir", "Recibe las noticias"):
        assert furniture not in article.text
