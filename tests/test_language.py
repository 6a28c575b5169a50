"""Language: a stopword vote when the page does not declare one; page > text > source config."""

from __future__ import annotations

import pytest

from crawler.articles.extraction import extract
from crawler.articles.language import detect_language

ES = (
    "La Fiscalía General de la República informó que el detenido fue entregado a las autoridades "
    "de Estados Unidos, donde enfrenta cargos por tráfico de armas y lavado de dinero."
)
EN = (
    "The Justice Department said the suspect was handed over by Mexican authorities and will "
    "face charges of arms trafficking and money laundering in a federal court in Texas."
)
PT = (
    "A Polícia Federal informou que o suspeito foi entregue às autoridades dos Estados Unidos, "
    "onde responde por tráfico de armas e lavagem de dinheiro, segundo o governo."
)


@pytest.mark.parametrize(("text", "lang"), [(ES, "es"), (EN, "en"), (PT, "pt")])
def test_detects_each_language(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "text",
    ["", None, "CBP DEA ATF FGR", "Misión Cortafuegos", "the el la the el la"],
)
def test_short_or_mixed_text_is_not_guessed(text):
    assert detect_language(text) is None


def _page(body: str, lang_attr: str = "") -> str:
    paragraphs = "".join(f"<p>{body}</p>" for _ in range(3))
    return f"<html{lang_attr}><head><title>Nota</title></head><body><article><h1>Nota</h1>{paragraphs}</article></body></html>"


def test_undeclared_page_is_detected_before_the_source_language():
    assert extract(_page(EN), "https://example.test/a", language="es").language == "en"
    assert extract(_page(ES), "https://example.test/a", language="en").language == "es"


def test_declared_page_language_wins_and_source_is_the_last_resort():
    assert extract(_page(EN, ' lang="es-MX"'), "https://example.test/a").language == "es"
    short = "<html><body><article><p>CBP, DEA, ATF.</p></article></body></html>"
    assert extract(short, "https://example.test/a", language="en").language == "en"
