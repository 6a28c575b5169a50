"""Tests for article extraction from small saved pages in tests/fixtures/extract/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.articles.extraction import (
    clean_author,
    drop_leading_title,
    extract,
    normalize_language,
    strip_site_suffix,
)
from crawler.articles.html import decode_html
from crawler.items import FeedEntry

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "extract"
HMO = ZoneInfo("America/Hermosillo")
CDMX = ZoneInfo("America/Mexico_City")
TIJ = ZoneInfo("America/Tijuana")


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- the seed article ----------------------------------------------------------------------------

TRIBUNA_URL = "https://www.tribuna.com.mx/2025/12/11/grupo-implementacion/?utm_source=facebook"


@pytest.fixture(scope="module")
def tribuna():
    return extract(page("tribuna_seed_article.html"), TRIBUNA_URL, tz=HMO)


def test_tribuna_published_naive_meta_is_hermosillo_time(tribuna) -> None:
    assert tribuna.published_at == datetime(2025, 12, 11, 9, 15, tzinfo=HMO)
    assert tribuna.published_at.astimezone(UTC) == datetime(2025, 12, 11, 16, 15, tzinfo=UTC)


def test_tribuna_title_without_site_suffix(tribuna) -> None:
    assert tribuna.title == (
        "Realizan en CDMX segunda reunión del Grupo de Implementación de Seguridad "
        "México-Estados Unidos"
    )


def test_tribuna_author(tribuna) -> None:
    assert tribuna.authors == ["Redacción Tribuna"]


def test_tribuna_body_first_and_last_paragraphs(tribuna) -> None:
    paragraphs = tribuna.text.split("\n\n")
    assert paragraphs[0].startswith("Ciudad de México.- Este jueves 11 de diciembre de 2025")
    assert paragraphs[-1] == "Fuente: Tribuna del Yaqui"
    assert paragraphs[-2].startswith("La Secretaría de Relaciones Exteriores confirmó")
    assert "Misión Cortafuegos" in tribuna.text
    assert len(paragraphs) == 8


@pytest.mark.parametrize(
    "boilerplate",
    [
        "Hermosillo",
        "Espectáculos",
        "Compartir en Facebook",
        "Enviar por WhatsApp",
        "Notas relacionadas",
        "Detienen a tres presuntos",
        "Lo más leído",
        "Deja un comentario",
        "Todos los derechos reservados",
        "Suscríbete",
    ],
)
def test_tribuna_body_has_no_boilerplate(tribuna, boilerplate: str) -> None:
    assert boilerplate not in tribuna.text


def test_tribuna_embedded_tweets_not_in_body(tribuna) -> None:
    assert "pic.twitter.com" not in tribuna.text
    assert "Esta mañana, el encargado de Despacho" not in tribuna.text
    assert "uD83D" not in tribuna.text


def test_tribuna_other_fields(tribuna) -> None:
    assert tribuna.language == "es"
    assert tribuna.canonical_url == (
        "https://www.tribuna.com.mx/2025/12/11/grupo-implementacion-seguridad-mexico-estados-unidos/"
    )
    assert tribuna.section == "Nacional"
    assert tribuna.tags == ["Seguridad", "Estados Unidos", "SRE"]
    assert (
        tribuna.image
        == "https://www.tribuna.com.mx/wp-content/uploads/2025/12/reunion-seguridad.jpg"
    )


# --- JSON-LD priority ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jsonld():
    return extract(page("jsonld_newsarticle.html"), "https://diariodelnorte.example/s/1", tz=CDMX)


def test_jsonld_headline_beats_og_title(jsonld) -> None:
    assert jsonld.title == "Detienen a operador financiero de cártel en Sinaloa"


def test_jsonld_authors_resolved_through_graph_ids(jsonld) -> None:
    assert jsonld.authors == ["Ana Lucía Gutiérrez", "Carlos Méndez"]


def test_jsonld_dates_keep_their_offset(jsonld) -> None:
    assert jsonld.published_at is not None
    assert jsonld.published_at.utcoffset() == timedelta(hours=-7)
    assert jsonld.published_at.astimezone(UTC) == datetime(2025, 12, 11, 1, 40, tzinfo=UTC)
    assert jsonld.updated_at == datetime(2025, 12, 11, 3, 5, tzinfo=UTC)


def test_jsonld_language_section_tags(jsonld) -> None:
    assert jsonld.language == "es"
    assert jsonld.section == "Seguridad"
    assert jsonld.tags == ["Sinaloa", "lavado de dinero", "UIF"]


def test_jsonld_image_absolute_and_canonical_from_main_entity(jsonld) -> None:
    assert jsonld.image == "https://diariodelnorte.example/uploads/2025/12/operativo.jpg"
    assert jsonld.canonical_url == "https://diariodelnorte.example/seguridad/operador-financiero/"


def test_jsonld_description_and_body(jsonld) -> None:
    assert jsonld.description == (
        "La Fiscalía General de la República informó de la captura en Culiacán."
    )
    assert jsonld.text.startswith("Culiacán, Sinaloa.- Elementos")
    assert "Portada" not in jsonld.text


# --- OpenGraph only ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def og():
    return extract(page("og_only.html"), "https://noticiasfrontera.example/n/1", tz=HMO)


def test_og_title_loses_site_suffix(og) -> None:
    assert og.title == "Aseguran armas en la garita de Nogales"


def test_og_author_url_dropped_and_prefix_removed(og) -> None:
    assert og.authors == ["Juan Pérez"]


def test_og_canonical_link_beats_og_url(og) -> None:
    assert og.canonical_url == "https://noticiasfrontera.example/nogales/aseguran-armas"


def test_og_fields(og) -> None:
    assert og.language == "es"
    assert og.section == "Frontera"
    assert og.tags == ["Armas", "Nogales"]
    assert og.image == "https://cdn.noticiasfrontera.example/img/armas.jpg"
    assert og.description == "Agentes aduanales hallaron fusiles ocultos en un vehículo."
    assert og.published_at == datetime(2025, 6, 3, 21, 20, tzinfo=UTC)
    assert og.updated_at == datetime(2025, 6, 3, 23, 0, tzinfo=UTC)


# --- naive dates and zones -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "utc_hour"),
    [(HMO, 15), (CDMX, 14), (TIJ, 15), (None, 8)],
)
def test_naive_meta_date_uses_source_zone(zone, utc_hour: int) -> None:
    result = extract(page("naive_date_sonora.html"), "https://x.example/a", tz=zone)
    assert result.published_at is not None
    assert result.published_at.tzinfo is not None
    assert result.published_at.astimezone(UTC) == datetime(2025, 7, 15, utc_hour, 30, tzinfo=UTC)


# --- encodings -----------------------------------------------------------------------------------


def test_latin1_declared_page_decodes() -> None:
    result = extract(page("latin1_spanish.html"), "https://x.example/a")
    assert result.title == "Comisión binacional revisará acuerdos de seguridad"
    assert "El señor García" in result.text
    assert "Ã" not in result.text


def test_undeclared_cp1252_bytes_decode() -> None:
    html = (
        "<html><head><title>Año</title></head><body><p>Niño — “cita” en Mazatlán</p></body></html>"
    )
    assert decode_html(html.encode("cp1252")) == html


def test_undeclared_utf8_bytes_decode() -> None:
    html = "<html><body><p>Niño en Mazatlán 📸</p></body></html>"
    assert decode_html(html.encode("utf-8")) == html


def test_latin1_declared_but_utf8_bytes_decode_as_utf8() -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body><p>Niño</p></body></html>'
    assert "Niño" in decode_html(html.encode("utf-8"))


def test_bom_wins() -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body><p>Niño</p></body></html>'
    assert "Niño" in decode_html(b"\xef\xbb\xbf" + html.encode("utf-8"))


def test_utf16_with_bom() -> None:
    html = "<html><body><p>Acción</p></body></html>"
    assert "Acción" in decode_html(html.encode("utf-16"))


# --- embedded posts ------------------------------------------------------------------------------


def test_social_embeds_removed_from_body_and_not_used_as_date() -> None:
    result = extract(page("tweet_blockquote.html"), "https://x.example/a", tz=CDMX)
    assert "Seguiremos trabajando juntos" not in result.text
    assert "Instagram" not in result.text
    assert result.text.count("\n\n") == 2
    assert result.text.startswith("Washington.- Funcionarios")
    assert result.text.endswith("en un comunicado conjunto.")
    assert result.published_at is None


# --- visible markup and hints --------------------------------------------------------------------


def test_visible_byline_time_and_title_tag() -> None:
    result = extract(page("visible_byline.html"), "https://x.example/a", tz=TIJ, language="es-MX")
    assert result.title == "Capturan en Tijuana a presunto traficante de personas"
    assert result.authors == ["María López", "Juan Pérez"]
    assert result.published_at == datetime(2025, 7, 15, 17, 30, tzinfo=UTC)
    assert result.language == "es"


def test_hints_fill_only_missing_fields() -> None:
    hints = FeedEntry(
        link="https://x.example/a",
        title="Título del feed",
        published=datetime(2025, 7, 16, 9, 0),
        updated=datetime(2025, 7, 16, 12, 0, tzinfo=UTC),
        authors=["Por Redacción"],
        summary="<p>Resumen del <b>feed</b></p>",
        categories=["Seguridad", "seguridad"],
    )
    result = extract(page("naive_date_sonora.html"), "https://x.example/a", tz=HMO, hints=hints)
    assert result.title == "Refuerzan vigilancia en la carretera a Guaymas"
    assert result.published_at == datetime(2025, 7, 15, 8, 30, tzinfo=HMO)
    assert result.updated_at == datetime(2025, 7, 16, 12, 0, tzinfo=UTC)
    assert result.authors == ["Redacción"]
    assert result.description == "Resumen del feed"
    assert result.tags == ["Seguridad"]


def test_empty_page_falls_back_to_hints() -> None:
    hints = FeedEntry(
        link="https://x.example/a",
        title="Sólo feed",
        published=datetime(2025, 7, 16, 9, 0),
        summary="Texto del resumen &amp; más",
    )
    result = extract(b"", "https://x.example/a", tz=HMO, hints=hints, language="es")
    assert result.title == "Sólo feed"
    assert result.text == "Texto del resumen & más"
    assert result.published_at == datetime(2025, 7, 16, 9, 0, tzinfo=HMO)
    assert result.language == "es"


def test_garbage_input_does_not_raise() -> None:
    result = extract(b"\x00\x01\x02 not html", "https://x.example/a")
    assert isinstance(result.text, str)
    assert result.published_at is None


def test_title_and_text_are_repaired() -> None:
    body = "".join(
        f"<p>PÃ¡rrafo nÃºmero {i} sobre la reuniÃ³n de seguridad en MÃ©xico con "
        f"autoridades de Estados Unidos y CanadÃ¡ para revisar acuerdos. uD83DuDCF8</p>"
        for i in range(4)
    )
    html = (
        '<html lang="es"><head><meta charset="utf-8">'
        '<meta property="og:title" content="ReuniÃ³n en MÃ©xico &amp;amp; Washington"></head>'
        f"<body><article>{body}</article></body></html>"
    )
    result = extract(html, "https://x.example/a")
    assert result.title == "Reunión en México & Washington"
    assert "Párrafo número 0 sobre la reunión de seguridad en México" in result.text
    assert "📸" in result.text


# --- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Por Juan Pérez", ["Juan Pérez"]),
        ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("Por: María López y Ana Ruiz | 11 de diciembre de 2025", ["María López", "Ana Ruiz"]),
        ("https://www.facebook.com/periodico", []),
        ("@periodista", []),
        ("redaccion@periodico.mx", []),
        ("Escrito por Luis Ángel Núñez", ["Luis Ángel Núñez"]),
        (
            "Secretaría de Seguridad y Protección Ciudadana",
            ["Secretaría de Seguridad y Protección Ciudadana"],
        ),
        ("Department of Homeland Security and CBP", ["Department of Homeland Security and CBP"]),
        ("Comisión Nacional, Fiscalía General", ["Comisión Nacional", "Fiscalía General"]),
    ],
)
def test_clean_author(raw: str, names: list[str]) -> None:
    assert clean_author(raw) == names


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Jonathan Clark Nogales International", ["Jonathan Clark"]),
        ("JONATHAN CLARK nogales international", ["JONATHAN CLARK"]),
        ("Nogales International", ["Nogales International"]),
        ("Redacción Nogales International", ["Redacción Nogales International"]),
        ("Ana Ruiz y Luis Gómez Nogales International", ["Ana Ruiz", "Luis Gómez"]),
    ],
)
def test_outlet_name_glued_after_the_author_is_cut(raw: str, names: list[str]) -> None:
    assert clean_author(raw, ["Nogales International"]) == names


@pytest.mark.parametrize(
    ("title", "sites", "aggressive", "expected"),
    [
        ("Nota | El Imparcial", ["El Imparcial"], False, "Nota"),
        ("Nota sobre algo - El Imparcial", ["El Imparcial"], False, "Nota sobre algo"),
        (
            "México - Estados Unidos firman acuerdo",
            ["El Imparcial"],
            False,
            "México - Estados Unidos firman acuerdo",
        ),
        (
            "Una nota bastante larga sobre seguridad | Sitio",
            [],
            True,
            "Una nota bastante larga sobre seguridad",
        ),
        (
            "Una nota bastante larga sobre seguridad | Sitio",
            [],
            False,
            "Una nota bastante larga sobre seguridad | Sitio",
        ),
    ],
)
def test_strip_site_suffix(title: str, sites: list[str], aggressive: bool, expected: str) -> None:
    assert strip_site_suffix(title, sites, aggressive=aggressive) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("es-MX", "es"),
        ("es_MX", "es"),
        ("EN-us", "en"),
        ("spa", "es"),
        ("Spanish", "es"),
        ("", None),
        ("x-klingon", None),
    ],
)
def test_normalize_language(value: str, code: str | None) -> None:
    assert normalize_language(value) == code


def test_drop_leading_title_only_when_it_repeats_headline() -> None:
    text = "Detienen a operador financiero\n\nCuliacán.- Texto de la nota."
    assert (
        drop_leading_title(text, "Detienen a operador financiero") == "Culiacán.- Texto de la nota."
    )
    assert drop_leading_title(text, "Otra cosa distinta por completo") == text


def test_inline_promos_and_copyright_lines_are_dropped():
    from crawler.articles.extraction import drop_boilerplate_paragraphs

    text = (
        "Nogales, Sonora.- Aduanas aseguró pastillas de fentanilo en la garita.\n\n"
        "Lee también: Detienen a dos con arsenal en carretera Hermosillo-Guaymas\n\n"
        "El conductor fue detenido.\n\n"
        "Te puede interesar: Frente frío 18 en la sierra\n\n"
        "Related: CBP seizes fentanyl at Otay Mesa\n\n"
        "Copyright 2025 Border Report Media. All rights reserved."
    )
    assert drop_boilerplate_paragraphs(text) == (
        "Nogales, Sonora.- Aduanas aseguró pastillas de fentanilo en la garita.\n\n"
        "El conductor fue detenido."
    )


def test_long_paragraph_mentioning_rights_is_kept():
    from crawler.articles.extraction import drop_boilerplate_paragraphs

    paragraph = (
        "Related agencies said " + "the cooperation continues " * 20 + "all rights reserved."
    )
    assert drop_boilerplate_paragraphs(paragraph) == paragraph


# --- furniture at the body's start and end -------------------------------------------------------

REGIONAL_URL = "https://diario.example/seguridad/2025/12/11/refuerzan-vigilancia/"


def test_regional_template_furniture_is_trimmed_from_start_and_end() -> None:
    text = extract(page("regional_furniture.html"), REGIONAL_URL, tz=HMO).text
    assert text.startswith("Nogales, Sonora.- Elementos de la Guardia Nacional")
    assert text.endswith("se tratará de manera confidencial.")
    for furniture in ("NACIONAL", "Jueves 11 de diciembre", "13:05", "Por Redacción", "Compartir"):
        assert furniture not in text
    assert "\n\nSEGURIDAD\n\n" in text  # a label in the middle is the article's, kept


def test_trim_furniture_drops_lead_and_tail_only() -> None:
    from crawler.articles.extraction.furniture import trim_furniture

    body = [
        "Guardia Nacional detiene a tres en Cajeme",
        "Por: Ana Gil Soto\n20/11/2026 13:05",
        "Compartir",
        "Cajeme, Sonora.- Tres hombres fueron detenidos en la colonia Centro.",
        "Por Redacción",
        "El operativo continuó durante la tarde.",
        "Notas relacionadas",
        "Frente frío 18 traerá heladas a la sierra",
        "Detienen a dos con arsenal en carretera",
        "Etiquetas: Cajeme, seguridad",
        "Facebook Twitter WhatsApp",
    ]
    trimmed = trim_furniture("\n\n".join(body), "Guardia Nacional detiene a tres en Cajeme")
    assert trimmed.split("\n\n") == body[3:6]


def test_trim_furniture_keeps_sentences_that_look_like_furniture() -> None:
    from crawler.articles.extraction.furniture import trim_furniture

    text = (
        "Por eso el cabildo aprobó el presupuesto de 2026 sin cambios.\n\n"
        "La sesión terminó a las 13:05 horas.\n\n"
        "Lee también\n\n"
        + "El alcalde explicó después que la obra pública se licitará en enero, "
        * 4
    ).strip()
    assert trim_furniture(text, "Cabildo aprueba presupuesto") == text


def test_trim_furniture_keeps_a_body_that_is_only_furniture() -> None:
    from crawler.articles.extraction.furniture import trim_furniture

    assert trim_furniture("NACIONAL\n\nCompartir", None) == "NACIONAL\n\nCompartir"


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("SEGURIDAD", True),
        ("Jueves 11 de diciembre de 2025", True),
        ("jueves 11 de diciembre de 2025, 10:30 hrs", True),
        ("Por Redacción", True),
        ("Por: Juan Pérez de la Rosa", True),
        ("Agencia EFE", True),
        ("EFE", True),
        ("Compartir en Facebook Twitter WhatsApp", True),
        ("Te puede interesar:", True),
        ("Por eso la fiscalía pidió más tiempo", False),
        ("La ONU pidió una investigación.", False),
        ("Hermosillo, Sonora, 11 de diciembre de 2025.- El gobierno anunció", False),
    ],
)
def test_furniture_lines(line: str, furniture: bool) -> None:
    from crawler.articles.extraction.furniture import is_furniture

    assert is_furniture(line, "Otro titular") is furniture


# --- a fast body that is not the article -----------------------------------------------------------


def test_lost_article_behind_a_reprint_notice_is_recovered() -> None:
    text = extract(page("lost_article_notice.html"), "https://valle.example/nota/2").text
    assert "Queda prohibida la reproducción" not in text
    assert text.startswith("El Ayuntamiento presentó este martes un plan")
    assert "38 millones de pesos" in text


def _tree(body: str):
    from crawler.articles.html import parse_html

    return parse_html(f"<html><body>{body}</body></html>")


PROSE = "El gobierno estatal anunció este martes un programa de obras para las colonias del sur. "


def test_plausibility_check() -> None:
    from crawler.articles.extraction.body import Suspicion, implausible

    page_text = _tree("".join(f"<p>{PROSE * 3}</p>" for _ in range(20)))
    small_page = _tree(f"<p>{PROSE * 8}</p>")
    assert implausible(PROSE * 2, small_page) is Suspicion.SHORT
    notice = PROSE * 6 + "Queda prohibida la reproducción total o parcial."
    assert implausible(notice, small_page) is Suspicion.NOTICE
    table = "\n".join(f"| {d} | {d + 1} | {d + 2} | {d + 3} |" for d in range(60))
    assert implausible(table, small_page) is Suspicion.NOT_PROSE
    assert implausible(PROSE * 8, page_text) is Suspicion.LOST
    assert implausible(PROSE * 20, page_text) is Suspicion.THIN
    assert implausible(PROSE * 8, small_page) is None
    assert implausible(PROSE * 40, page_text) is None


def test_prose_share_counts_letters_in_any_script() -> None:
    from crawler.articles.extraction.body import prose_share

    assert prose_share("ingrediente\n135 g\nmantequilla") == 0.0
    assert (
        prose_share(
            "北京市政府今天宣布了一项新的城市交通规划方案，该方案将在未来五年内逐步实施并覆盖全市所有区县和主要道路。"
        )
        == 1.0
    )
