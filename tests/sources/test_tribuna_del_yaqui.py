"""Tribuna del Yaqui, the reference source: its WordPress feed's links, and the seed article's
page (text from the project's seed, ``fixtures/tribuna-del-yaqui/seed-article.txt``) with its
naive WordPress time read in Sonora's UTC−7."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawler.config import Source
from crawler.documents.feeds import parse_feed
from crawler.items import Extracted
from tests.support.source_pages import FIXTURES, catalog_source, read_article

NAME = "tribuna-del-yaqui"
HERMOSILLO = ZoneInfo("America/Hermosillo")
SITE = "https://www.tribuna.com.mx"
ARTICLE_URL = f"{SITE}/2025/12/11/grupo-implementacion-seguridad-mexico-estados-unidos/"
SEED_PAGE = FIXTURES / "extract" / "tribuna_seed_article.html"
SEED_TEXT = FIXTURES / NAME / "seed-article.txt"


@pytest.fixture(scope="module")
def source() -> Source:
    return catalog_source(NAME)


@pytest.fixture(scope="module")
def links(source: Source) -> list[str]:
    """The entry links of the saved feed (the shared fixture site's copy, at the real host)."""
    body = (
        (FIXTURES / "tribuna" / "feed.xml").read_bytes().replace(b"{{BASE}}/tribuna", SITE.encode())
    )
    feed = parse_feed(body, source.url, tz=source.tzinfo)
    return [entry.link for entry in feed.entries if entry.link]


@pytest.fixture(scope="module")
def article(source: Source) -> Extracted:
    return read_article(source, ARTICLE_URL, page=SEED_PAGE)


@pytest.fixture(scope="module")
def seed_paragraphs() -> list[str]:
    return [p for p in SEED_TEXT.read_text(encoding="utf-8").strip().split("\n\n") if p]


def test_feed_has_six_entries(links: list[str]) -> None:
    assert len(links) == 6


def test_feed_first_link_is_the_seed_story(links: list[str]) -> None:
    assert links[0] == (
        f"{SITE}/2025/12/11/"
        "realizan-segunda-reunion-del-grupo-de-implementacion-de-seguridad-mexico-estados-unidos/"
    )


def test_title(article: Extracted) -> None:
    assert article.title == (
        "Realizan en CDMX segunda reunión del Grupo de Implementación de Seguridad "
        "México-Estados Unidos"
    )


def test_date_is_read_in_sonora_time(article: Extracted) -> None:
    assert article.published_at == datetime(2025, 12, 11, 9, 15, tzinfo=HERMOSILLO)
    assert article.published_at.utcoffset() == timedelta(hours=-7)


def test_author(article: Extracted) -> None:
    assert article.authors == ["Redacción Tribuna"]


def test_body_starts_with_the_seed_text(article: Extracted, seed_paragraphs: list[str]) -> None:
    assert article.text.startswith(seed_paragraphs[0])


def test_body_is_the_seed_text_without_its_embedded_posts(
    article: Extracted, seed_paragraphs: list[str]
) -> None:
    """The seed was copied from the page with the two embedded tweets flattened into it; the
    extractor keeps those in ``posts``, so the body is every other seed paragraph, in order."""
    tweets = [p for p in seed_paragraphs if "pic.twitter.com" in p]
    assert len(tweets) == 2
    assert article.text == "\n\n".join(p for p in seed_paragraphs if p not in tweets)
    # The seed spells emoji as escaped surrogates ("uD83DuDCF8"), the posts as emoji: compare ends.
    assert len(article.posts) == 2
    for post, tweet in zip(article.posts, tweets, strict=True):
        assert post["text"][-40:] in tweet


def test_body_ends_with_the_credit_line(article: Extracted) -> None:
    assert article.text.endswith("región bilateral.\n\nFuente: Tribuna del Yaqui")


def test_body_has_no_page_furniture_or_tweets(article: Extracted) -> None:
    for furniture in (
        "Compartir",
        "Notas relacionadas",
        "Lo más leído",
        "Etiquetas",
        "pic.twitter",
    ):
        assert furniture not in article.text
