"""Realistic syndicated copies and hard negatives around the tribuna seed article.

The seed body is read from the tribuna fixture page, so the tests use the real article text.
"""

from __future__ import annotations

import html
import re

from tests.support.server import FIXTURES_DIR

SEED_PAGE = (
    FIXTURES_DIR
    / "tribuna/2025/12/11/realizan-segunda-reunion-del-grupo-de-implementacion-de-seguridad"
    "-mexico-estados-unidos/index.html"
)

INDEPENDENT_REPORT = """\
Funcionarios de México y Estados Unidos volvieron a sentarse a la mesa este jueves en la capital \
del país, en lo que fue el segundo encuentro del mecanismo bilateral creado en septiembre.
El subsecretario Roberto Velasco, al frente de la cancillería de manera provisional, recibió a \
una comitiva estadounidense en la que participaron representantes de Estado, Tesoro, Justicia y \
Defensa, además del embajador Ronald Johnson.
Según fuentes consultadas por este diario, las conversaciones se centraron en el contrabando de \
armas hacia territorio mexicano y en el seguimiento del dinero de los cárteles, dos temas que \
Washington considera prioritarios.
Ninguno de los dos gobiernos dio cifras concretas sobre detenciones o decomisos atribuibles a la \
llamada Misión Cortafuegos, aunque ambos la calificaron como un avance.
Analistas consultados advirtieron que la falta de indicadores públicos dificulta evaluar si la \
cooperación ha reducido efectivamente el flujo de armamento por la frontera de Sonora y Arizona.
La próxima reunión se celebraría en territorio estadounidense durante el primer trimestre del \
año entrante, de acuerdo con la información disponible."""

BRIEF_TEMPLATE = (
    "La Fiscalía General del Estado informó que elementos de la Agencia Ministerial de "
    "Investigación Criminal detuvieron a {name}, de {age} años, en la colonia {colonia} de "
    "{city}, como presunto responsable del delito de {crime}. El detenido fue puesto a "
    "disposición del juez de control."
)


def seed_paragraphs() -> list[str]:
    """The seed article's body paragraphs, as an extractor would give them."""
    page = SEED_PAGE.read_text(encoding="utf-8")
    body = page.split('class="entry-content', 1)[-1] if 'class="entry-content' in page else page
    paras = [
        html.unescape(re.sub(r"<[^>]+>", "", p)).strip()
        for p in re.findall(r"<p[^>]*>(.*?)</p>", body, flags=re.S)
    ]
    out = []
    for para in paras:
        if para.startswith("Los comentarios"):
            break
        if len(para.split()) >= 12:
            out.append(para)
    return out


def seed_text() -> str:
    return "\n".join(seed_paragraphs())


def republished_copy() -> str:
    """Another outlet's copy as its extractor returns it: last paragraph cut, a credit line
    added, and a line of the other site's template that slipped into the body."""
    paras = seed_paragraphs()
    return "\n".join(
        [
            *paras[:-1],
            "Fuente: Tribuna del Yaqui",
            "Síguenos en Google Noticias y recibe las alertas de El Diario Nacional.",
        ]
    )


def template_brief(name: str, age: int, colonia: str, city: str, crime: str) -> str:
    return BRIEF_TEMPLATE.format(name=name, age=age, colonia=colonia, city=city, crime=crime)
