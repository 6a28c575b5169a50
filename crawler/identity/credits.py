"""Syndication credits: which outlet or agency a republished text says it came from.

Regional outlets mark copies with a line ("Fuente: Tribuna del Yaqui", "Con información de EFE"),
a byline ("Por Juan Pérez / Agencia Reforma"), an agency dateline ("WASHINGTON (AP) —") or a
trailing agency sign-off ("— AP", "(EFE)"). Only those positions count: an agency named inside a
sentence ("según informó Reuters") is reporting, not a credit.
"""

from __future__ import annotations

import re

AGENCIES: dict[str, str] = {
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "efe": "EFE",
    "agencia efe": "EFE",
    "afp": "AFP",
    "agence france presse": "AFP",
    "agence france-presse": "AFP",
    "france presse": "AFP",
    "reuters": "Reuters",
    "agencia reforma": "Agencia Reforma",
    "reforma": "Agencia Reforma",
    "el universal": "El Universal",
    "notimex": "Notimex",
    "europa press": "Europa Press",
    "dpa": "DPA",
    "xinhua": "Xinhua",
    "apro": "Apro",
    "proceso": "Proceso",
    "la jornada": "La Jornada",
    "milenio": "Milenio",
    "excélsior": "Excélsior",
    "excelsior": "Excélsior",
    "bloomberg": "Bloomberg",
}
_AGENCY_ALT = "|".join(
    re.escape(name) for name in sorted(AGENCIES, key=len, reverse=True) if name != "reforma"
)
_MAX_CREDIT_WORDS = 12

_LABEL = re.compile(
    r"^\s*(?:fuente|fuentes|con información de|con informacion de|con info de|información de"
    r"|informacion de|source|with information from)\s*[:.\-–—]?\s*(?P<name>.+?)\s*[.;]?\s*$",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^\s*(?:por|by)\s+[^/|]{2,80}?\s*[/|]\s*(?P<name>[^/|]{2,60}?)\s*$", re.I)
_DATELINE = re.compile(
    r"^\s*[A-ZÁÉÍÓÚÑÜ][A-ZÁÉÍÓÚÑÜ .,'-]{1,60}?\s*\((?P<name>[^()]{2,40})\)\s*(?:\.-|\.—|[.\-–—:]+)\s*"
)
_TRAILING_DASH = re.compile(rf"^\s*[—–-]+\s*(?P<name>{_AGENCY_ALT})\s*\.?\s*$", re.IGNORECASE)
_TRAILING_PAREN = re.compile(rf"\((?P<name>{_AGENCY_ALT})\)\s*\.?\s*$", re.IGNORECASE)
_BARE = re.compile(rf"^\s*(?P<name>{_AGENCY_ALT})\s*\.?\s*$", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:,|;|\s+y\s+|\s+and\s+|\s*/\s*)\s*", re.IGNORECASE)


def normalize_credit(name: str) -> str | None:
    """Canonical outlet name: agencies by their usual short name, others trimmed as written.

    "Con información de EFE y Reuters" credits the first one named.
    """
    first = _SPLIT.split(name.strip(), maxsplit=1)[0]
    first = first.strip(" \t.:;,-–—\"'«»“”")
    if not first or len(first.split()) > 6:
        return None
    return AGENCIES.get(first.casefold(), first)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _label_credit(line: str) -> str | None:
    if len(line.split()) > _MAX_CREDIT_WORDS:
        return None
    m = _LABEL.match(line) or _BYLINE.match(line)
    return normalize_credit(m.group("name")) if m else None


def dateline_credit(first_line: str) -> tuple[str, int] | None:
    """``(credit, end offset)`` for an agency dateline ("WASHINGTON (AP) —") opening the text."""
    m = _DATELINE.match(first_line)
    if not m:
        return None
    name = normalize_credit(m.group("name"))
    return (name, m.end()) if name else None


def _closing_credit(line: str) -> str | None:
    for pattern in (_TRAILING_DASH, _BARE):
        m = pattern.match(line)
        if m:
            return normalize_credit(m.group("name"))
    m = _TRAILING_PAREN.search(line)
    return normalize_credit(m.group("name")) if m else None


def credited_source(text: str) -> str | None:
    """The outlet or agency the text credits, or None when it credits nobody.

    Explicit labels ("Fuente:", "Con información de", bylines with "/ Agency") win wherever they
    stand on a short line of their own; then an opening dateline; then a closing sign-off in the
    last lines.
    """
    lines = _lines(text)
    if not lines:
        return None
    for line in lines:
        found = _label_credit(line)
        if found:
            return found
    dated = dateline_credit(lines[0])
    if dated:
        return dated[0]
    for line in reversed(lines[-2:]):
        found = _closing_credit(line)
        if found:
            return found
    return None


def is_credit_line(line: str) -> bool:
    """A line that only carries a credit or sign-off (dropped before fingerprinting)."""
    line = line.strip()
    if not line:
        return False
    return _label_credit(line) is not None or bool(_TRAILING_DASH.match(line) or _BARE.match(line))


def strip_credits(text: str) -> str:
    """The text without credit lines and without an opening dateline, so that a copy that adds
    "Fuente: X" or "CIUDAD DE MÉXICO (EFE).-" fingerprints like its original."""
    lines = [line for line in _lines(text) if not is_credit_line(line)]
    if lines:
        dated = dateline_credit(lines[0])
        if dated:
            lines[0] = lines[0][dated[1] :]
        else:
            lines[-1] = _TRAILING_PAREN.sub("", lines[-1]).rstrip()
    return "\n".join(lines)
