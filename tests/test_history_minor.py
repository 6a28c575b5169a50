"""The pure rules of edit history: the minor flag, the word diff and the revisit schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.minor import is_minor
from storage.schedule import next_revisit
from storage.versions import char_counts, decode_text, encode_text, plain_diff, word_diff

BODY = "Tres personas murieron en Culiacán, informó la fiscalía."


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (BODY, BODY.replace(",", ";")),
        (BODY, "  " + BODY.replace(" ", "\n ") + "\n"),
        ("CIUDAD DE MÉXICO (AP) — " + BODY, "Ciudad de México.- " + BODY),
        ("WASHINGTON, Dec 4 (Reuters) - " + BODY, "WASHINGTON, Dec 5 (Reuters) - " + BODY),
        (BODY + "\nPor Ana Pérez", BODY + "\nPor Luis Gómez"),
        (BODY + "\nFoto: Cuartoscuro", BODY),
        (BODY, BODY + "\n(Con información de Reuters)"),
    ],
)
def test_minor_edits(old, new):
    assert is_minor({"text": old}, {"text": new})


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (BODY, BODY.replace("Tres", "Siete")),
        (BODY, BODY.replace("Culiacán", "Mazatlán")),
        (BODY, BODY + "\nLa SRE pidió información a Washington."),
        (BODY, BODY.replace("murieron", "murieron presuntamente")),
        ("Tres muertos — dice la policía. Hubo 3.", "Tres muertos — dice la policía. Hubo 7."),
    ],
)
def test_substantive_edits(old, new):
    assert not is_minor({"text": old}, {"text": new})


def test_fields_other_than_text():
    assert not is_minor({"title": "Presunto sicario"}, {"title": "Sicario"})
    assert is_minor({"title": "Sicario, detenido"}, {"title": "Sicario detenido"})
    assert is_minor({"authors": ["A"]}, {"authors": ["B"]})
    assert not is_minor({"withdrawn": False}, {"withdrawn": True}, ["withdrawn"])
    assert not is_minor({"description": "3 muertos"}, {"description": "7 muertos"})


def test_word_diff_round_trips_and_marks_words():
    old, new = BODY, BODY.replace("Tres", "Siete") + " Hubo detenidos."
    pieces = word_diff(old, new)
    assert "".join(t for op, t in pieces if op != "+") == old
    assert "".join(t for op, t in pieces if op != "-") == new
    assert plain_diff(pieces).startswith("[-Tres-]{+Siete+} personas")
    assert char_counts(old, new) == (len("Siete") + len(" Hubo detenidos."), len("Tres"))


def test_delta_needs_its_reference_and_handles_accents():
    blob = encode_text("Año: niño, acción", "Año: niños, acciones")
    assert decode_text(blob, "Año: niños, acciones") == "Año: niño, acción"
    assert decode_text(encode_text("ñ", ""), "") == "ñ"


T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (timedelta(0), timedelta(minutes=30)),
        (timedelta(hours=2, minutes=59), timedelta(minutes=30)),
        (timedelta(hours=3), timedelta(hours=1)),
        (timedelta(hours=23), timedelta(hours=1)),
        (timedelta(days=1), timedelta(hours=6)),
        (timedelta(days=6, hours=17), timedelta(hours=6)),
    ],
)
def test_revisit_backoff(age, interval):
    assert next_revisit(T0, T0 + age) == T0 + age + interval


def test_revisits_stop_after_a_week():
    assert next_revisit(T0, T0 + timedelta(days=6, hours=19)) is None
    assert next_revisit(T0, T0 + timedelta(days=8)) is None


def _source_file(tmp_path, revisit: str):
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[sources]]\nname = "tribuna"\nurl = "https://www.tribuna.com.mx/feed/"\n'
        f'revisit = "{revisit}"\n',
        encoding="utf-8",
    )
    return path


def test_revisit_is_opt_in_and_checked(tmp_path):
    from crawler.config import ConfigError, load_config

    (source,) = load_config(_source_file(tmp_path, "news")).sources
    assert source.revisit == "news"
    with pytest.raises(ConfigError) as err:
        load_config(_source_file(tmp_path, "nwes"))
    message = str(err.value)
    assert "line 4" in message and "key 'revisit'" in message and "\n" not in message
    assert "did you mean 'news'?" in message
