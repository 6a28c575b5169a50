"""Nogales International's news front (BLOX CMS): ``article_<uuid>.html`` links kept by the
catalog's ``allow = '/news/'``, and one article dated with Arizona's own −07:00."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.config import Source
from crawler.items import Extracted
from tests.support.source_pages import catalog_source, listing_links, read_article

NAME = "nogales-international-listing"
PHOENIX = ZoneInfo("America/Phoenix")
NEWS = "https://www.nogalesinternational.com/news/"
ARTICLE_URL = (
    f"{NEWS}cbp-officers-seize-fentanyl-pills-at-mariposa-port-of-entry/"
    "article_5f0c2a9e-d6b1-11f0-9a3e-3b7f4e1c2d10.html"
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


def test_listing_finds_the_three_articles(links: list[str]) -> None:
    assert len(links) == 3


def test_listing_first_link_is_the_top_story(links: list[str]) -> None:
    assert links[0] == ARTICLE_URL


def test_listing_ignores_videos_profiles_and_paging(links: list[str]) -> None:
    assert all(link.startswith(NEWS) and "/article_" in link for link in links)


def test_title(article: Extracted) -> None:
    assert article.title == "CBP officers seize fentanyl pills at Mariposa Port of Entry"


def test_date_keeps_arizona_offset(article: Extracted) -> None:
    assert article.published_at == datetime(2025, 12, 11, 15, 10, tzinfo=PHOENIX)
    assert article.published_at.utcoffset() == timedelta(hours=-7)


def test_author(article: Extracted) -> None:
    assert article.authors == ["Jonathan Clark"]


def test_body_starts_with_the_first_paragraph(article: Extracted) -> None:
    assert article.text.startswith("U.S. Customs and Border Protection officers at the Mariposa")


def test_body_ends_with_the_last_paragraph(article: Extracted) -> None:
    assert article.text.endswith(
        "the third large fentanyl seizure at the Nogales ports this month."
    )


def test_body_has_no_page_furniture(article: Extracted) -> None:
    for furniture in ("Advertisement", "Subscribe", "Tags:", "Email", "Privacy Policy"):
        assert furniture not in article.text
