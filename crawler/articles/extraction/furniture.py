"""Page furniture at the start and end of a body: labels, headline, date, byline, share bars.

Regional news templates (the common Spanish and Latin American layouts first) put the section
label, the headline again, a date line and a byline above the article, and share bars,
"Te puede interesar" / "Notas relacionadas" teaser blocks and tag lines below it; trafilatura
keeps them because they sit inside the article container. They are trimmed from the body's
start and end only, never from its middle, where a short line is more likely the article's own.
A paragraph is furniture only when every line of it is.
"""

from __future__ import annotations

import re

from crawler.articles.dates import parse_date

MAX_LEAD_PARAGRAPHS = 8
MAX_TAIL_BLOCK = 12
TEASER_MAX_CHARS = 200
DATE_LINE_MAX_CHARS = 80
LABEL_MAX_WORDS = 3
BYLINE_MAX_WORDS = 8

_WORDS = re.compile(r"\w+")
_SHARE_WORDS = frozenset(
    """compartir comparte comparta share shares esta este nota noticia artículo articulo this
    article en on via vía por facebook twitter x whatsapp telegram linkedin messenger pinterest
    reddit email e mail correo electrónico electronico imprimir print copiar copy enlace link
    url tweet tuitear tuit google threads bluesky flipboard""".split()
)
_BYLINE = re.compile(r"^(?:por|by|escrito por|texto|autor|autora)\s*:?\s+(?P<name>.+)$", re.I)
_AGENCY = re.compile(
    r"^(?:redacci[oó]n|staff|agencias?|efe|ap|afp|reuters|europa press|notimex|"
    r"el universal|newsroom)\b[\w\s./|-]{0,40}$",
    re.IGNORECASE,
)
_NAME_JOINERS = frozenset({"de", "del", "la", "las", "los", "y", "e", "da", "do", "dos", "van"})
_RELATED_HEADING = re.compile(
    r"^\W*(?:te (?:puede|podr[ií]a) interesar|tambi[eé]n te (?:puede )?interesa(?:r)?|"
    r"te recomendamos|lee (?:también|tambien|más|mas)|leer (?:más|mas)|notas? relacionadas?|"
    r"noticias relacionadas|art[ií]culos relacionados|relacionad[oa]s|más noticias|"
    r"mas noticias|lo más (?:leído|visto)|sigue leyendo|related(?: stories| articles)?|"
    r"read (?:more|next|also)|more from|see also|you may also like)\W*$",
    re.IGNORECASE,
)
_TAG_LINE = re.compile(r"^\W*(?:etiquetas|temas|tags|palabras clave|tópicos)\s*:", re.IGNORECASE)


def _is_section_label(line: str, section: str | None) -> bool:
    """``NACIONAL``, ``SEGURIDAD``: a short all-capitals label, or the page's own section."""
    words = _WORDS.findall(line)
    if not words or len(words) > LABEL_MAX_WORDS or any(ch.isdigit() for ch in line):
        return False
    if section and line.strip(" :|-").casefold() == section.strip().casefold():
        return True
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters)


def repeats_title(line: str, title: str | None) -> bool:
    """The headline again: nearly the same words, not many more."""
    if not title:
        return False
    line_words = _WORDS.findall(line.casefold())
    title_words = _WORDS.findall(title.casefold())
    if not line_words or not title_words or len(line_words) > len(title_words) * 1.3 + 2:
        return False
    shared = set(line_words) & set(title_words)
    return len(shared) / len(set(line_words) | set(title_words)) >= 0.75


def _is_date_line(line: str) -> bool:
    """``20/11/2026 13:05``, ``Jueves 11 de diciembre de 2025``: a line that is only a date."""
    text = line.strip(" |·-")
    if not text or len(text) > DATE_LINE_MAX_CHARS or not any(ch.isdigit() for ch in text):
        return False
    return parse_date(text, None, dayfirst=True) is not None


def _is_byline(line: str) -> bool:
    """``Por Redacción``, ``Por: Ana Gil``, ``Agencia EFE``: a credit, not a sentence."""
    text = line.strip()
    if text.endswith((".", "?", "!")) and not _AGENCY.match(text):
        return False
    if _AGENCY.match(text):
        return True
    match = _BYLINE.match(text)
    if match is None:
        return False
    words = [w for w in re.split(r"[\s/|,]+", match.group("name")) if w]
    if not words or len(words) > BYLINE_MAX_WORDS:
        return False
    return all(w[0].isupper() or w.casefold() in _NAME_JOINERS for w in words if w[0].isalpha())


def _is_share_bar(line: str) -> bool:
    """``Compartir``, ``Facebook Twitter WhatsApp``: only sharing words."""
    words = _WORDS.findall(line.casefold())
    return bool(words) and all(w in _SHARE_WORDS for w in words)


def _is_furniture_line(line: str, title: str | None, section: str | None) -> bool:
    return (
        _is_share_bar(line)
        or _is_section_label(line, section)
        or repeats_title(line, title)
        or _is_date_line(line)
        or _is_byline(line)
        or bool(_TAG_LINE.match(line))
        or bool(_RELATED_HEADING.match(line))
    )


def is_furniture(paragraph: str, title: str | None, section: str | None = None) -> bool:
    """Every line of the paragraph is a label, headline, date, byline, share bar or tag line."""
    lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
    return bool(lines) and all(_is_furniture_line(line, title, section) for line in lines)


def _related_block_start(paragraphs: list[str], start: int, end: int) -> int | None:
    """Where a trailing "Te puede interesar" block begins: its heading, then only teasers."""
    for index in range(max(start, end - MAX_TAIL_BLOCK), end):
        first_line = paragraphs[index].strip().split("\n", 1)[0]
        if not _RELATED_HEADING.match(first_line):
            continue
        rest = "\n".join(paragraphs[index:end]).split("\n")[1:]
        if all(len(line.strip()) <= TEASER_MAX_CHARS for line in rest):
            return index
    return None


def trim_furniture(text: str, title: str | None, section: str | None = None) -> str:
    """The body without furniture paragraphs at its start and end (see the module docstring).

    A body that is nothing but furniture is returned unchanged: an empty body would lose what
    little the page had, and the caller cannot tell it from a failed extraction.
    """
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    start = 0
    while start < min(len(paragraphs), MAX_LEAD_PARAGRAPHS) and is_furniture(
        paragraphs[start], title, section
    ):
        start += 1
    end = len(paragraphs)
    while end > start:
        if is_furniture(paragraphs[end - 1], None, section):
            end -= 1
            continue
        block = _related_block_start(paragraphs, start, end)
        if block is None:
            break
        end = block
    if start >= end:
        return text
    if start == 0 and end == len(paragraphs):
        return text
    return "\n\n".join(paragraphs[start:end])
