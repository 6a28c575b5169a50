"""Milenio's police section: a listing read by the heuristic with the catalog's allow/deny (no
``/temas/`` or ``/autor/`` pages), and one article whose JSON-LD dates are naive (UTC−6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.config import Source
from crawler.items import Extracted
from tests.support.source_pages import catalog_source, listing_links, read_article

NAME = "milenio-policia"
MEXICO_CITY = ZoneInfo("America/Mexico_City")
SECTION = "https://www.milenio.com/policia/"
ARTICLE_URL = f"{SECTION}detienen-en-cajeme-a-presunto-jefe-de-celula-delictiva-sonora"


@pytest.fixture(scope="module")
def source() -> Source:
    return catalog_source(NAME)


@pytest.fixture(scope="module")
def links(source: Source) -> list[str]:
    return listing_links(source)


@pytest.fixture(scope="module")
def article(source: Source) -> Extracted:
    return read_article(source, ARTICLE_URL)


def test_listing_finds_the_three_stories_once_each(links: list[str]) -> None:
    assert len(links) == 3


def test_listing_first_link_is_the_top_story(links: list[str]) -> None:
    assert links[0] == ARTICLE_URL


def test_listing_ignores_topics_authors_other_sections_and_paging(links: list[str]) -> None:
    assert all(link.startswith(SECTION) for link in links)
    assert not any("page=" in link for link in links)


def test_title(article: Extracted) -> None:
    assert article.title == "Detienen en Cajeme a presunto jefe de célula delictiva"


def test_date_is_read_in_mexico_city_time(article: Extracted) -> None:
    assert article.published_at == datetime(2025, 12, 11, 8, 20, tzinfo=MEXICO_CITY)
    assert article.published_at.utcoffset() == timedelta(hours=-6)


def test_author(article: Extracted) -> None:
    assert article.authors == ["Silvia Arellano"]


def test_body_starts_with_the_summary(article: Extracted) -> None:
    assert article.text.startswith("El hombre era buscado por homicidio y extorsión")


def test_body_ends_with_the_last_paragraph(article: Extracted) -> None:
    assert article.text.endswith("en la región durante las últimas semanas.")


def test_body_has_no_page_furniture(article: Extracted) -> None:
    for furniture in ("Publicidad", "LEER TAMBIÉN", "Compartir", "Notas relacionadas", "Grupo"):
        assert furniture not in article.text
