"""Tests for the once-only text repair and the content hash built on it."""

from __future__ import annotations

import pytest

from crawler.articles import textrepair
from crawler.articles.textrepair import repair_text
from crawler.identity.hashing import content_hash, normalize_for_hash

SEED_TWEET = (
    "uD83DuDCF8 Esta mañana, el encargado de Despacho de la @SRE_mx encabezó la Segunda Reunión"
)
SEED_FLAGS = (
    "Grupo de Implementación de Seguridad uD83CuDDFAuD83CuDDF8uD83CuDDF2uD83CuDDFD, resultado"
)


def test_literal_surrogate_pair_becomes_emoji() -> None:
    assert repair_text(SEED_TWEET).startswith("📸 Esta mañana")


def test_flag_sequence_from_seed_is_decoded() -> None:
    assert repair_text(SEED_FLAGS) == "Grupo de Implementación de Seguridad 🇺🇸🇲🇽, resultado"


def test_backslash_escaped_surrogates() -> None:
    assert repair_text("foto \\uD83D\\uDCF8 aquí") == "foto 📸 aquí"


def test_lone_escaped_and_real_surrogates_are_removed() -> None:
    assert repair_text("antes uD83D después") == "antes después"
    assert repair_text("antes \\uDCF8después") == "antes después"
    assert repair_text("a\ud800b") == "ab"


def test_real_surrogate_pair_is_combined() -> None:
    assert repair_text("cámara \ud83d\udcf8") == "cámara 📸"


@pytest.mark.parametrize("word", ["Mudd800", "bud8ab", "Studebaker", "udder", "UD83D1"])
def test_surrogate_regex_leaves_ordinary_words(word: str) -> None:
    assert repair_text(f"la palabra {word} queda") == f"la palabra {word} queda"


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("MÃ©xico", "México"),
        ("SeÃ±or JosÃ© PÃ©rez", "Señor José Pérez"),
        ("â€œHolaâ€\x9d, dijo", "“Hola”, dijo"),
    ],
)
def test_mojibake_is_repaired(broken: str, fixed: str) -> None:
    assert repair_text(broken) == fixed


def test_correct_spanish_is_untouched() -> None:
    text = "¿Qué pasó? El niño comió piñata en Mazatlán — «ñandú» “cita” 'Misión Cortafuegos'"
    assert repair_text(text) == text


@pytest.mark.parametrize(
    "clean",
    [
        "«Lo que está»",
        "respondió “sí” y se fue",
        "Y entonces llegó… la Guardia Nacional",
        "—¿Qué?— preguntó «Peñasco»",
    ],
)
def test_clean_spanish_never_reaches_ftfy(monkeypatch, clean: str) -> None:
    """An accented letter before a guillemet, curly quote or dash is not mojibake: ftfy (slow)
    is only for a lead byte followed by the continuation bytes it announces."""

    def refuse(*args, **kwargs):
        raise AssertionError("ftfy called on clean text")

    monkeypatch.setattr(textrepair.ftfy, "fix_text", refuse)
    assert repair_text(clean) == clean


def test_entities_unescaped_including_double_escaped() -> None:
    assert repair_text("Tom &amp; Jerry &amp;amp; M&eacute;xico &#8220;x&#8221;") == (
        "Tom & Jerry & México “x”"
    )


def test_ampersand_without_entity_is_kept() -> None:
    assert repair_text("AT&T y P&G") == "AT&T y P&G"


def test_control_characters_removed_newlines_and_tabs_kept() -> None:
    assert repair_text("uno\x00dos\x07tres\tcuatro\nfin\x1b") == "unodostres\tcuatro\nfin"


def test_odd_spaces_and_runs_are_normalised() -> None:
    assert repair_text("a\u00a0b\u2009c\u3000d   e\u200bf\ufeff") == "a b c d ef"


def test_paragraphs_kept_with_at_most_one_blank_line() -> None:
    text = "  Primer párrafo.  \r\n\r\n\r\n\r\n   Segundo   párrafo.\n\u2028Tercero "
    assert repair_text(text) == "Primer párrafo.\n\nSegundo párrafo.\n\nTercero"


def test_nfc_normalisation() -> None:
    assert repair_text("Me\u0301xico") == "México"


@pytest.mark.parametrize(
    "text",
    [
        SEED_TWEET,
        SEED_FLAGS,
        "MÃ©xico &amp;amp; uD83D  x\x00\n\n\n\ny",
        "&amp;lt;b&amp;gt; &nbsp; \ud83d",
        "  \u00a0 ",
        "Ã\x83Â©",
        "",
    ],
)
def test_repair_is_idempotent(text: str) -> None:
    once = repair_text(text)
    assert repair_text(once) == once


def test_hash_ignores_case_punctuation_and_spacing() -> None:
    a = "Detienen a «El Chapo» en Sinaloa.\n\nFin."
    b = "detienen a  “el chapo” en sinaloa fin"
    assert normalize_for_hash(a) == normalize_for_hash(b) == "detienen a el chapo en sinaloa fin"
    assert content_hash(a) == content_hash(b)


def test_hash_keeps_accents() -> None:
    assert content_hash("el papa llegó") != content_hash("el papá llegó")


def test_hash_is_stable_hex_sha256() -> None:
    digest = content_hash("Hola")
    assert digest == "b221d9dbb083a7f33428d7c2a3c3198ae925614d70210e28716ccaa7cd4ddb79"
    assert len(digest) == 64


def test_the_mojibake_hint_finds_exactly_the_sequences_of_its_three_alternatives():
    """The hint is written as one class plus look-behinds for speed; it must match what the
    plain three-alternative form matches, on clean Spanish and on damaged text alike."""
    import random
    import re

    from crawler.articles.textrepair import _CONT, _MOJIBAKE_HINT

    plain = re.compile(
        f"[\u00c2-\u00df]{_CONT}|[\u00e0-\u00ef]{_CONT}{{2}}|[\u00f0-\u00f4]{_CONT}{{3}}"
    )
    rnd = random.Random(7)
    alphabet = "aéíóúñ»«“”…Ã©Â¡â€œðŸ˜€ ¿¡" + "".join(map(chr, range(0x80, 0xF6)))
    for _ in range(5000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12)))
        assert [m.span() for m in _MOJIBAKE_HINT.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ], text
