"""Listing sources without selectors store articles only: article evidence on good and bad pages,
the pager heuristics, and a crawl of a press-office section (tests/fixtures/pressoffice)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.articles.evidence import article_evidence
from crawler.articles.html import parse_html
from crawler.config import Source
from crawler.documents.listing import extract_links, looks_like_article_url, next_page, page_number
from crawler.items import RawPage
from crawler.pipeline.process import NoArticleEvidence, needs_evidence, process_page
from tests.support import FIXTURES_DIR
from tests.test_sources_kinds import crawl, rows

BASE = "http://press.test"
OFFICE = FIXTURES_DIR / "pressoffice"
LISTING = f"{BASE}/pressoffice/comunicados/"
COMMUNIQUES = {
    "101": "comunicado-101-inauguran-centro-de-salud-en-guaymas.html",
    "102": "comunicado-102-llaman-a-completar-esquema-de-vacunacion.html",
    "103": "comunicado-103-cierre-de-brote-de-hepatitis-en-cajeme.html",
    "104": "comunicado-104-informe-anual-de-laboratorios.html",
}


def fixture(path: str) -> bytes:
    return (OFFICE / path).read_bytes().replace(b"{{BASE}}", BASE.encode())


def html(body: str, head: str = "") -> str:
    return f"<html><head><title>t</title>{head}</head><body>{body}</body></html>"


PROSE = (
    "La Secretaría de Seguridad informó que el operativo se realizó durante la madrugada en "
    "tres colonias de la ciudad, con apoyo de la Guardia Nacional."
)


@pytest.mark.parametrize(
    ("path", "why"),
    [
        (f"comunicados/{COMMUNIQUES['101']}", "a body of 4 paragraphs"),
        (f"comunicados/{COMMUNIQUES['102']}", "a headline with a date"),  # two short paragraphs
        (f"comunicados/{COMMUNIQUES['103']}", "a body of 3 paragraphs"),
    ],
)
def test_communiques_show_article_evidence(path, why):
    assert article_evidence(fixture(path), f"{BASE}/pressoffice/{path}") == why


@pytest.mark.parametrize(
    "path",
    [
        "comunicados/index.html",
        "comunicados/pagina-2.html",
        "prensa/index.html",  # dated teasers of a section front
        "prensa/agenda.html",  # dates without a headline, no body
        "temas-de-salud-publica/index.html",  # og:type=article on a list of stories
    ],
)
def test_navigation_section_and_pager_pages_show_none(path):
    assert article_evidence(fixture(path), f"{BASE}/pressoffice/{path}") is None


def test_evidence_on_small_pages():
    body = "<article>" + "".join(f"<p>{PROSE}</p>" for _ in range(3)) + "</article>"
    assert article_evidence(html(body), BASE) == "a body of 3 paragraphs"
    assert article_evidence(html(f"<div>{PROSE}<br>{PROSE}<br>{PROSE}</div>"), BASE) == (
        "a body of running text"
    )
    headline = "<h1>Detienen a tres personas en operativo nocturno</h1>"
    dated = f"{headline}<p>Publicado: 20/11/2026 13:05</p><p>{PROSE}</p>"
    assert article_evidence(html(dated), BASE) == "a headline with a date"
    kicker = f"<header><span>NACIONAL</span><time>20/11/2026 13:05</time>{headline}</header>"
    assert article_evidence(html(kicker), BASE) == "a headline with a date"
    assert article_evidence(html(f"{headline}<p>{PROSE}</p>"), BASE) is None  # no date
    assert article_evidence(html("<h1>Agenda</h1><p>20/11/2026</p>"), BASE) is None
    jsonld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "Detienen a tres personas en operativo nocturno"}</script>'
    )
    assert article_evidence(html(headline, jsonld), BASE) == "JSON-LD NewsArticle"
    listed = (
        '<script type="application/ld+json">{"@type": "ItemList", "itemListElement": '
        '[{"@type": "NewsArticle", "headline": "Otra nota de la lista"}]}</script>'
    )
    assert article_evidence(html("<h1>Seguridad</h1>", listed), BASE) is None
    og = '<meta property="og:type" content="article">'
    assert article_evidence(html("<h1>Nota</h1>", og), BASE) == "og:type article"
    assert article_evidence(b"", BASE) is None
    assert article_evidence(parse_html(html(dated)), BASE) == "a headline with a date"


def test_teaser_summaries_in_one_block_are_not_a_body():
    teasers = "".join(
        f'<h3><a href="/n/{i}">Titular número {i} de la sección de seguridad</a></h3><p>{PROSE}</p>'
        for i in range(4)
    )
    assert article_evidence(html(f"<h1>Seguridad</h1><div>{teasers}</div>"), BASE) is None


def test_pager_pages_are_not_articles_and_numbered_pagers_are_followed():
    assert not looks_like_article_url(f"{LISTING}pagina-2.html", LISTING)
    assert not looks_like_article_url(f"{BASE}/noticias/page3", LISTING)
    assert not looks_like_article_url(f"{BASE}/noticias/seguridad?pag=2", LISTING)
    assert looks_like_article_url(f"{LISTING}{COMMUNIQUES['101']}", LISTING)
    assert [page_number(u) for u in (LISTING, f"{LISTING}pagina-2.html", f"{BASE}/x?page=7")] == [
        1,
        2,
        7,
    ]
    first = fixture("comunicados/index.html")
    assert next_page(first, LISTING, None) == f"{LISTING}pagina-2.html"
    second = fixture("comunicados/pagina-2.html")
    assert next_page(second, f"{LISTING}pagina-2.html", None) == f"{LISTING}pagina-3.html"
    links = extract_links(first, LISTING)
    assert f"{LISTING}pagina-2.html" not in links
    assert f"{LISTING}{COMMUNIQUES['101']}" in links


def source(**overrides) -> Source:
    values = {"name": "salud", "kind": "listing", "url": LISTING, "language": "es"}
    return Source(**{**values, **overrides})


def raw(path: str) -> RawPage:
    url = f"{BASE}/pressoffice/{path}"
    headers = {"content-type": "text/html; charset=utf-8"}
    return RawPage("salud", url, url, 200, fixture(path), headers)


def test_pipeline_drops_listing_pages_without_evidence():
    assert needs_evidence(source()) and not needs_evidence(source(link_selector="h2 a"))
    assert not needs_evidence(source(kind="feed"))
    with pytest.raises(NoArticleEvidence, match=r"^no headline/date/body$"):
        process_page(raw("prensa/agenda.html"), source())
    record = process_page(raw(f"comunicados/{COMMUNIQUES['102']}"), source())
    assert record.title.startswith("Llama Salud a completar")


def test_press_office_crawl_stores_the_communiques_only(site, tmp_path: Path) -> None:
    db, summary = crawl(site, tmp_path, ["pressoffice"])
    (row,) = summary
    assert row["ok"] is True, row
    stored = {url.rsplit("/", 1)[1] for (url,) in rows(db, "select url from articles")}
    assert stored == {COMMUNIQUES[n] for n in ("101", "102", "103")}  # 103 is on page 2
    paths = [r.path for r in site.requests]
    assert "/pressoffice/comunicados/pagina-2.html" in paths
    assert "/pressoffice/comunicados/pagina-3.html" not in paths  # max_pages = 2
    assert not [p for p in paths if COMMUNIQUES["104"] in p or "/etiqueta/" in p or "/tag/" in p]
    assert row["skipped"] >= 3  # Prensa, Agenda, the topic page: fetched, not stored
    assert row["errors"] == 0
