"""Listing pages: selectors (CSS/XPath), allow/deny, pagination and the article-URL heuristic."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.documents.listing import (
    compile_selector,
    extract_links,
    looks_like_article_url,
    next_page,
)

BASE = "http://127.0.0.1:8765"
SITE = Path(__file__).resolve().parent / "fixtures" / "listingsite"
SECTION = f"{BASE}/listingsite/seguridad/"
PAGE1 = f"{SECTION}index.html"
PAGE2 = f"{SECTION}page/2/index.html"

PAGE1_ARTICLES = [
    f"{SECTION}2025/12/11/instalan-mesa-de-coordinacion-con-autoridades-federales.html",
    f"{SECTION}2025/12/11/aseguran-armas-y-cartuchos-en-cateo-en-salamanca.html",
    f"{SECTION}2025/12/10/rescatan-a-migrantes-abandonados-en-caja-de-trailer.html",
    f"{SECTION}2025/12/10/capacitan-a-policias-municipales-en-primer-respondiente.html",
    f"{SECTION}2025/12/09/detienen-a-presunto-extorsionador-en-irapuato.html",
    f"{SECTION}2025/12/08/entregan-patrullas-y-equipo-tactico-a-municipios.html",
]
PAGE2_ARTICLES = [
    f"{SECTION}2025/12/07/localizan-narcolaboratorio-en-zona-serrana.html",
    f"{SECTION}2025/12/06/presentan-resultados-del-operativo-de-fin-de-semana.html",
    f"{SECTION}2025/12/05/firman-convenio-para-fortalecer-el-c5i.html",
]


def page(relative: str) -> bytes:
    return (SITE / relative).read_bytes().replace(b"{{BASE}}", BASE.encode())


def test_css_link_selector_returns_the_six_articles_in_order() -> None:
    links = extract_links(page("seguridad/index.html"), PAGE1, link_selector="article.nota h2 a")
    assert links == PAGE1_ARTICLES


def test_xpath_selector_on_href_attributes() -> None:
    links = extract_links(
        page("seguridad/index.html"),
        PAGE1,
        link_selector="//article[contains(@class, 'nota')]//h2/a/@href",
    )
    assert links == PAGE1_ARTICLES


def test_css_attr_extension_and_wrapper_elements() -> None:
    html = page("seguridad/index.html")
    assert extract_links(html, PAGE1, link_selector="h2 a::attr(href)") == PAGE1_ARTICLES
    assert extract_links(html, PAGE1, link_selector="article.nota h2") == PAGE1_ARTICLES


def test_relative_links_resolve_against_the_page_url() -> None:
    links = extract_links(page("seguridad/page/2/index.html"), PAGE2, link_selector="h2 a")
    assert links == PAGE2_ARTICLES


def test_heuristic_without_selector_keeps_only_articles() -> None:
    links = extract_links(page("seguridad/index.html"), PAGE1)
    assert links == PAGE1_ARTICLES


def test_fragments_are_dropped_and_duplicates_merged() -> None:
    html = """<html><body>
      <a href="/mx/nota/operativo-en-la-frontera#comentarios">3 comentarios</a>
      <a href="/mx/nota/operativo-en-la-frontera">Operativo en la frontera</a>
      <a href="#arriba">Arriba</a>
      <a href="javascript:void(0)">Menú</a>
      <a href="mailto:prensa@example.mx">Correo</a>
      <a href="  /mx/nota/otra-nota-de-seguridad\n">Otra</a>
    </body></html>"""
    links = extract_links(html, "https://example.mx/mx/seguridad/", link_selector="a")
    assert links == [
        "https://example.mx/mx/nota/operativo-en-la-frontera",
        "https://example.mx/mx/nota/otra-nota-de-seguridad",
    ]


def test_base_href_and_accented_paths() -> None:
    html = '<html><head><base href="https://cdn.example.mx/archivo/"></head><body><a href="nota/año-nuevo-seguro">x</a></body></html>'
    links = extract_links(html, "https://example.mx/", link_selector="a")
    assert links == ["https://cdn.example.mx/archivo/nota/a%C3%B1o-nuevo-seguro"]


def test_bytes_decoded_by_meta_charset() -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body><a href="/nota/seguridad-en-león">León</a></body></html>'
    links = extract_links(html.encode("latin-1"), "https://example.mx/", link_selector="a")
    assert links == ["https://example.mx/nota/seguridad-en-le%C3%B3n"]


def test_allow_and_deny_with_deny_winning() -> None:
    html = page("seguridad/index.html")
    allowed = extract_links(html, PAGE1, link_selector="h2 a", allow=[r"/2025/12/1\d/"])
    assert allowed == PAGE1_ARTICLES[:4]
    both = extract_links(
        html, PAGE1, link_selector="h2 a", allow=[r"/2025/12/1\d/"], deny=[r"migrantes|armas"]
    )
    assert both == [PAGE1_ARTICLES[0], PAGE1_ARTICLES[3]]
    assert extract_links(html, PAGE1, link_selector="h2 a", deny=[r"\.html$"]) == []


def test_invalid_allow_pattern_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="allow"):
        extract_links("<a href='/a/b'>x</a>", "https://example.mx/", allow=["(sin-cerrar"])


def test_next_page_with_selector() -> None:
    assert next_page(page("seguridad/index.html"), PAGE1, "a.siguiente") == PAGE2
    assert next_page(page("seguridad/index.html"), PAGE1, "//nav/a[@class='siguiente']/@href") == (
        PAGE2
    )


def test_next_page_by_link_text_without_selector() -> None:
    assert next_page(page("seguridad/index.html"), PAGE1, None) == PAGE2


def test_last_linked_page_has_no_next() -> None:
    html = page("seguridad/page/2/index.html")
    assert next_page(html, PAGE2, None) is None
    assert next_page(html, PAGE2, "a.siguiente") is None


def test_next_page_prefers_rel_next_and_never_loops_to_itself() -> None:
    html = """<html><head><link rel="next" href="/archivo?pagina=3"></head><body>
      <a href="/archivo?pagina=9">Siguiente</a></body></html>"""
    assert next_page(html, "https://example.mx/archivo?pagina=2", None) == (
        "https://example.mx/archivo?pagina=3"
    )
    selfish = '<a class="next" href="/archivo?pagina=2">Siguiente »</a>'
    assert next_page(selfish, "https://example.mx/archivo?pagina=2", "a.next") is None


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/listingsite/tag/guardia-estatal/",
        f"{BASE}/listingsite/etiqueta/c5i/",
        f"{BASE}/listingsite/autor/comunicacion-social/",
        f"{BASE}/listingsite/categoria/boletines/",
        f"{BASE}/listingsite/seguridad/page/2/index.html",
        f"{BASE}/listingsite/seguridad/index.html",
        f"{BASE}/listingsite/feed/",
        f"{BASE}/wp-admin/post.php?post=12",
        f"{BASE}/wp-login.php",
        f"{BASE}/listingsite/buscar/?q=seguridad",
        f"{BASE}/?s=guardia+nacional",
        f"{BASE}/listingsite/static/docs/boletin-mesa-de-seguridad.pdf",
        f"{BASE}/listingsite/static/img/2025/12/foto-operativo.jpg",
        f"{BASE}/seguridad",
        f"{BASE}/",
        "https://publicidad.example.net/campana/turismo-invierno-2025",
        "mailto:prensa@example.mx",
    ],
)
def test_heuristic_rejects_non_articles(url: str) -> None:
    assert not looks_like_article_url(url, PAGE1)


@pytest.mark.parametrize(
    ("url", "site"),
    [
        (PAGE1_ARTICLES[0], PAGE1),
        ("https://www.example.mx/2025/12/11/reunion-bilateral", "https://example.mx/"),
        ("https://example.mx/nacional/reunion-de-seguridad-en-cdmx", "https://example.mx/"),
        ("https://example.mx/nota-reunion-de-seguridad-bilateral", "https://example.mx/"),
        ("https://example.mx/noticia/1234567", "https://example.mx/seccion/seguridad/"),
        ("https://english.example.mx/mexico/security-talks", "https://example.mx/"),
    ],
)
def test_heuristic_accepts_articles(url: str, site: str) -> None:
    assert looks_like_article_url(url, site)


def test_heuristic_rejects_the_listing_page_itself() -> None:
    assert not looks_like_article_url(
        "https://example.mx/nacional/seguridad-y-justicia#top",
        "https://example.mx/nacional/seguridad-y-justicia",
    )


def test_compile_selector_css_and_xpath() -> None:
    from lxml import html as lxml_html

    tree = lxml_html.fromstring('<div><a class="x" href="/a">A</a><a href="/b">B</a></div>')
    assert [a.get("href") for a in compile_selector("a.x")(tree)] == ["/a"]
    assert compile_selector("//a/@href")(tree) == ["/a", "/b"]
    assert compile_selector("(//a)[2]/@href")(tree) == ["/b"]
    assert compile_selector("(count(//a))")(tree) == [2.0]


@pytest.mark.parametrize(
    ("selector", "kind"),
    [
        ("a[href", "CSS"),
        ("div >> p", "CSS"),
        ("a::foo", "CSS"),
        ("//a[@href", "XPath"),
        ("(//a", "XPath"),
        ("//a[no-such-function()]", "XPath"),
        ("//x:a", "XPath"),
    ],
)
def test_invalid_selector_raises_value_error_naming_it(selector: str, kind: str) -> None:
    with pytest.raises(ValueError, match=rf"invalid {kind} selector") as info:
        compile_selector(selector)
    assert repr(selector) in str(info.value)


def test_empty_selector_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty selector"):
        compile_selector("   ")
