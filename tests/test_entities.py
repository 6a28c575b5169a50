"""Entity tagging against the packaged gazetteer and user extensions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.analysis.entities import find_entities, load_gazetteer

LABELLED = Path(__file__).resolve().parent / "fixtures" / "relevance" / "labelled.jsonl"


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def _ids(text: str, gazetteer) -> dict[str, int]:
    return {e["id"]: e["count"] for e in find_entities(text, gazetteer)}


def _seed_text() -> str:
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] == "seed-tribuna-grupo-implementacion":
            return row["text"]
    raise AssertionError("seed article missing from labelled set")


def test_seed_article_entities(gazetteer):
    found = find_entities(_seed_text(), gazetteer)
    ids = {e["id"]: e for e in found}
    for ident in (
        "sre",
        "us_embassy_mx",
        "ronald_johnson",
        "roberto_velasco",
        "mision_cortafuegos",
        "grupo_implementacion_seguridad",
    ):
        assert ident in ids, ident
    assert ids["sre"] == {
        "id": "sre",
        "name": "Secretaría de Relaciones Exteriores",
        "type": "agency",
        "side": "mx",
        "count": ids["sre"]["count"],
    }
    assert ids["sre"]["count"] >= 3
    assert ids["mision_cortafuegos"]["side"] == "bilateral"
    assert ids["ronald_johnson"]["type"] == "official" and ids["ronald_johnson"]["side"] == "us"
    counts = [e["count"] for e in found]
    assert counts == sorted(counts, reverse=True)


def test_short_acronyms_are_case_sensitive(gazetteer):
    assert _ids("ice cream, a sre of fgr", gazetteer) == {}
    assert _ids("Agentes de ICE y la FGR; la SRE informó", gazetteer) == {
        "ice": 1,
        "fgr": 1,
        "sre": 1,
    }


def test_handles_match(gazetteer):
    ids = _ids("Comunicado de @SRE_mx con @USEmbassyMEX y @USAmbMex", gazetteer)
    assert ids == {"sre": 1, "us_embassy_mx": 1, "ronald_johnson": 1}


def test_long_names_ignore_case_and_accents(gazetteer):
    ids = _ids("la SECRETARIA DE RELACIONES EXTERIORES y la mision cortafuegos", gazetteer)
    assert ids == {"sre": 1, "mision_cortafuegos": 1}


def test_longest_alias_counts_once(gazetteer):
    ids = _ids("La Embajada de Estados Unidos en México y el Departamento del Tesoro", gazetteer)
    assert ids == {"us_embassy_mx": 1, "treasury": 1}


def test_english_and_spanish_names_share_an_id(gazetteer):
    ids = _ids("The State Department and el Departamento de Estado; DEA agents", gazetteer)
    assert ids == {"state_department": 2, "dea": 1}


def test_officials_carry_role(gazetteer):
    found = find_entities("Omar García Harfuch y Marco Rubio", gazetteer)
    roles = {e["id"]: e.get("role") for e in found}
    assert roles["garcia_harfuch"] and "Seguridad" in roles["garcia_harfuch"]
    assert roles["marco_rubio"] == "US Secretary of State"


def test_user_file_extends_and_overrides(tmp_path, gazetteer):
    path = tmp_path / "extra.toml"
    path.write_text(
        """
[[entities]]
id = "cisen"
name = "Centro Nacional de Inteligencia"
type = "agency"
side = "mx"
aliases = ["CNI"]

[[entities]]
id = "ronald_johnson"
name = "Ronald Johnson"
type = "official"
side = "us"
role = "Former ambassador"
aliases = ["Ron Johnson"]
""",
        encoding="utf-8",
    )
    extended = load_gazetteer(path)
    assert len(extended.entities) == len(gazetteer.entities) + 1
    found = {e["id"]: e for e in find_entities("El CNI y la SRE con Ronald Johnson", extended)}
    assert set(found) == {"cisen", "sre", "ronald_johnson"}
    assert found["ronald_johnson"]["role"] == "Former ambassador"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "[[entities]]\nid = 'x'\nname = 'X'\ntype = 'person'\nside = 'mx'\n",
            r"entity 'x': type must be one of",
        ),
        (
            "[[entities]]\nid = 'x'\nname = 'X'\ntype = 'agency'\nside = 'ca'\n",
            r"entity 'x': side must be one of",
        ),
        (
            "[[entities]]\nid = 'Bad Id'\nname = 'X'\ntype = 'agency'\nside = 'mx'\n",
            r"entity #1: id must be a lowercase slug",
        ),
        (
            "[[entities]]\nid = 'x'\nname = 'X'\ntype = 'agency'\nside = 'mx'\nurl = 'y'\n",
            r"entity 'x': unknown key 'url'",
        ),
        (
            "[[entities]]\nid = 'x'\nname = 'X'\ntype = 'agency'\nside = 'mx'\naliases = ['SRE']\n",
            r"entity 'x': alias 'SRE' is also alias 'SRE' of entity 'sre'",
        ),
        (
            "[[entities]]\nid = 'x'\nname = 'X'\ntype = 'agency'\nside = 'mx'\n"
            "[[entities]]\nid = 'x'\nname = 'Y'\ntype = 'agency'\nside = 'mx'\n",
            r"entity 'x': duplicate id",
        ),
        ("entities = [\n", r"not valid TOML"),
    ],
)
def test_bad_gazetteer_gives_clear_error(tmp_path, body, expected):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=expected) as info:
        load_gazetteer(path)
    assert str(path) in str(info.value)


def test_empty_text(gazetteer):
    assert find_entities("", gazetteer) == []
