"""Syndication credits: each recognised form, normalised names, and mentions that are not credits."""

from __future__ import annotations

import pytest

from crawler.identity.credits import (
    credited_source,
    is_credit_line,
    normalize_credit,
    strip_credits,
)

BODY = "El gobierno federal anunció nuevas medidas de seguridad en la frontera norte del país."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{BODY}\nFuente: Tribuna del Yaqui", "Tribuna del Yaqui"),
        (f"{BODY}\nFUENTE: Tribuna del Yaqui.", "Tribuna del Yaqui"),
        (f"{BODY}\nCon información de EFE", "EFE"),
        (f"{BODY}\nCon información de Reuters y AFP", "Reuters"),
        (f"{BODY}\nInformación de El Universal", "El Universal"),
        (f"Por Juan Pérez / Agencia Reforma\n{BODY}", "Agencia Reforma"),
        (f"Por Redacción | El Universal\n{BODY}", "El Universal"),
        (f"CIUDAD DE MÉXICO (EFE).- {BODY}", "EFE"),
        (f"WASHINGTON (AP) — {BODY}", "AP"),
        (f"NOGALES, SONORA (Associated Press) - {BODY}", "AP"),
        (f"{BODY}\n— AP", "AP"),
        (f"{BODY} (AFP)", "AFP"),
        (f"{BODY}\nReuters", "Reuters"),
        (f"{BODY}\nAgencia Reforma", "Agencia Reforma"),
        (f"{BODY}\nCon información de Agencia EFE", "EFE"),
    ],
)
def test_recognised_credit_forms(text, expected):
    assert credited_source(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        BODY,
        "El gobierno, según informó Reuters, negó cualquier acuerdo con la agencia EFE.",
        f"{BODY}\nLa agencia AP publicó después una versión distinta de los hechos ocurridos.",
        f"Ciudad de México.- {BODY}",  # a plain dateline credits nobody
        "La fuente de la información fue un funcionario que pidió el anonimato, dijo el diario "
        "El Universal en su edición del jueves.",
        "",
    ],
)
def test_mentions_that_are_not_credits(text):
    assert credited_source(text) is None


def test_long_line_starting_with_a_label_word_is_not_a_credit():
    line = (
        "Fuente de empleo para miles de familias, la maquila fronteriza enfrenta una caída de "
        "pedidos desde el verano pasado"
    )
    assert not is_credit_line(line)
    assert credited_source(line) is None


def test_normalize_credit_maps_agency_names():
    assert normalize_credit("Associated Press") == "AP"
    assert normalize_credit("Agence France-Presse") == "AFP"
    assert normalize_credit("agencia efe") == "EFE"
    assert normalize_credit("Tribuna del Yaqui.") == "Tribuna del Yaqui"


def test_strip_credits_drops_credit_lines_and_datelines():
    text = f"CIUDAD DE MÉXICO (EFE).- {BODY}\nSegundo párrafo.\nFuente: Tribuna del Yaqui"
    assert strip_credits(text) == f"{BODY}\nSegundo párrafo."
    assert strip_credits(f"{BODY} (AP)") == BODY
