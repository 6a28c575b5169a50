"""The one accent and case fold (storage.textfold) and the callers that rely on it."""

from __future__ import annotations

import random

import pytest

from crawler.analysis.textmatch import normalize
from storage.neardup import outlet_key
from storage.textfold import _fold_char, fold, strip_accents

# text, fold(text), fold(text, same_length=True), strip_accents(text)
CASES = [
    ("Misión", "mision", "mision", "Mision"),
    ("Peña", "pena", "pena", "Pena"),
    ("AÑO", "ano", "ano", "ANO"),
    ("Ñandú", "nandu", "nandu", "Nandu"),
    ("pingüino", "pinguino", "pinguino", "pinguino"),
    ("GÜERO", "guero", "guero", "GUERO"),
    ("Façade", "facade", "facade", "Facade"),
    ("İstanbul", "istanbul", "istanbul", "Istanbul"),
    ("Straße", "strasse", "straße", "Straße"),
    ("ẞ", "ss", "ß", "ẞ"),
    ("ﬁnal", "final", "fnal", "final"),
    ("Æ", "æ", "æ", "Æ"),
    ("Ǆ", "dz", "d", "DZ"),
    ("e\u0301", "e", "e\u0301", "e"),
]


@pytest.mark.parametrize(("text", "folded", "same_length", "stripped"), CASES)
def test_fold_forms(text, folded, same_length, stripped):
    assert fold(text) == folded
    assert fold(text, same_length=True) == same_length
    assert strip_accents(text) == stripped


def test_same_length_fold_lines_up_with_the_original_for_any_text():
    """Search marks matches found in the folded body at the same offsets in the original."""
    rng = random.Random(7)
    samples = [
        "Misión CORTAFUEGOS Ñandú ß ﬁ Ǆ İ ẞ ᾈ",
        "".join(chr(rng.randrange(32, 0x3000)) for _ in range(20_000)),
    ]
    for text in samples:
        folded = fold(text, same_length=True)
        assert folded == "".join(_fold_char(c) for c in text)
        assert len(folded) == len(text)


def test_callers_fold_enye_and_dieresis_alike():
    assert normalize("Peña Nieto, ¡AÑO! Güero") == "pena nieto ano guero"
    assert outlet_key("El Heraldo (Peña)") == outlet_key("EL HERALDO") == "el heraldo"
    assert outlet_key("La Voz Güera") == "la voz guera"
