"""Tests for the one HTML loader (crawler/articles/html.py) and the extraction field steps."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from crawler.articles.extraction.fields import (
    ArticleFields,
    declared_language,
    fill_from_hints,
    read_fields,
    site_names,
)
from crawler.articles.extraction.metadata import collect
from crawler.articles.html import fragment_text, parse_html, parse_html_or_empty
from crawler.items import FeedEntry


def test_parse_html_has_no_document_for_blank_input() -> None:
    assert parse_html(b"") is None
    assert parse_html("  \n\t") is None


def test_parse_html_or_empty_gives_a_searchable_empty_document() -> None:
    tree = parse_html_or_empty(b"   ")
    assert tree.xpath("//a") == []


def test_parse_html_decodes_undeclared_windows_1252() -> None:
    page = "<html><body><a href='/año'>Año nuevo</a></body></html>".encode("cp1252")
    tree = parse_html(page)
    assert tree is not None
    assert tree.xpath("//a/@href") == ["/año"]


def test_parse_html_reads_a_bare_fragment() -> None:
    tree = parse_html("<p>hola</p>")
    assert tree is not None
    assert [p.text_content() for p in tree.xpath("//p")] == ["hola"]


def test_parse_html_drops_comments() -> None:
    tree = parse_html("<html><body><!-- x --><p>a</p><p>b</p></body></html>")
    assert tree is not None
    assert "x" not in "".join(tree.itertext())


def test_fragment_text() -> None:
    assert fragment_text(None) == ""
    assert fragment_text("plain text") == "plain text"
    assert fragment_text("<p>Uno <b>dos</b></p>") == "Uno dos"


PAGE = """<html lang="es-MX"><head>
<title>Titular de la nota | Diario</title>
<meta property="og:site_name" content="Diario">
<meta property="article:published_time" content="2025-12-11T10:00:00-07:00">
<meta name="keywords" content="uno, dos, Uno">
<link rel="canonical" href="/nota">
</head><body><h1>Titular de la nota</h1><p>Texto.</p><p>Más texto.</p></body></html>"""


def test_read_fields_follows_the_priority_orders() -> None:
    tree = parse_html(PAGE)
    assert tree is not None
    meta = collect(tree)
    assert declared_language(meta) == "es"
    names = site_names(meta)
    assert names == ["Diario"]
    fields = read_fields(tree, meta, "https://d.mx/x", names, tz=None, dayfirst=True)
    assert fields.title == "Titular de la nota"
    assert fields.published == datetime(2025, 12, 11, 17, 0, tzinfo=UTC)
    assert fields.canonical == "https://d.mx/nota"
    assert fields.tags == ["uno", "dos"]
    assert fields.authors == []


def test_fill_from_hints_fills_only_what_is_missing() -> None:
    hmo = ZoneInfo("America/Hermosillo")
    fields = ArticleFields(title="De la página")
    hints = FeedEntry(
        link="https://d.mx/x",
        guid=None,
        title="Del feed",
        published=datetime(2025, 12, 11, 9, 30),
        updated=None,
        authors=["Por Ana López"],
        summary="<p>Resumen <b>breve</b></p>",
        categories=["Política", "política"],
        language=None,
    )
    fill_from_hints(fields, hints, hmo)
    assert fields.title == "De la página"
    assert fields.authors == ["Ana López"]
    assert fields.published == datetime(2025, 12, 11, 9, 30, tzinfo=hmo)
    assert fields.description == "Resumen breve"
    assert fields.tags == ["Política"]
