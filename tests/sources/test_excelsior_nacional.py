"""Excélsior's national section: Drupal listing links (``/nacional/slug/id``) kept by the
catalog's ``allow``, and one article whose date carries its own −06:00 offset."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.config import Source
from crawler.items import Extracted
from tests.support.source_pages import catalog_source, listing_links, read_article

NAME = "excelsior-nacional"
MEXICO_CITY = ZoneInfo("America/Mexico_City")
SECTION = "https://www.excelsior.com.mx/nacional/"
ARTICLE_URL = (
    f"{SECTION}grupo-de-implementacion-de-seguridad-mexico-eu-revisa-la-mision-cortafuegos/1721450"
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


def test_listing_finds_the_three_national_stories(links: list[str]) -> None:
    assert len(links) == 3


def test_listing_first_link_is_the_top_story(links: list[str]) -> None:
    assert links[0] == ARTICLE_URL


def test_listing_ignores_opinion_tags_and_paging(links: list[str]) -> None:
    assert all(link.startswith(SECTION) for link in links)


def test_title(article: Extracted) -> None:
    assert article.title == (
        "Grupo de Implementación de Seguridad México-EU revisa la Misión Cortafuegos"
    )


def test_date_keeps_mexico_city_offset(article: Extracted) -> None:
    assert article.published_at == datetime(2025, 12, 11, 13, 5, tzinfo=MEXICO_CITY)
    assert article.published_at.utcoffset() == timedelta(hours=-6)


def test_author(article: Extracted) -> None:
    assert article.authors == ["Enrique Sánchez"]


def test_body_starts_with_the_dateline(article: Extracted) -> None:
    assert article.text.startswith("CIUDAD DE MÉXICO.— Funcionarios de México y Estados Unidos")


def test_body_ends_with_the_last_paragraph(article: Extracted) -> None:
    assert article.text.endswith("en Washington en el primer trimestre de 2026.")


def test_body_has_no_page_furniture(article: Extracted) -> None:
    for furniture in ("Publicidad", "Te recomendamos", "WhatsApp", "Aviso de privacidad"):
        assert furniture not in article.text
