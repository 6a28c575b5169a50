"""Whether an edit is *minor*: only whitespace, punctuation, a dateline or a credit line changed.

Researchers of news edits (NewsDiffs, diffengine, NewsEdits) separate these from substantive
changes (a toll, a name, a quote): a re-flowed paragraph or a photo credit is not news. The rule is
a pure function of the two versions' fields so the store, the CLI and alerts all agree on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MINOR_FIELDS = frozenset({"authors", "published_at", "updated_at"})
"""Fields whose change alone is minor: a byline is a credit line, a date is a dateline."""

_CREDIT = re.compile(
    r"^\s*[\(\[]?\s*(?:por|by|con información de|with reporting by|reporting by|"
    r"información de|foto|fotos|photo|photos|imagen|image|crédito|credito|credit|"
    r"edición|edited by|editing by|escrito por|written by|texto)\b[^\n]{0,160}$",
    re.IGNORECASE,
)
_WORD = r"(?:[A-ZÁÉÍÓÚÑÜ][\wÁÉÍÓÚÑÜáéíóúñü.']*|de|del|la|las|los|el|y|\d{1,4})"
_DATELINE = re.compile(
    rf"^\s*{_WORD}(?:[ ,]+{_WORD}){{0,7}}\s*(?:\([^)]{{1,40}}\))?\s*\.?[-–—]+\s*"
)
"""An opening place (and date, and agency) before a dash: ``MONTERREY, N.L. (AP) —``,
``Ciudad de México.-``, ``WASHINGTON, Dec 4 (Reuters) -``."""
_NOT_WORD = re.compile(r"[\W_]+")


def _squash(text: str) -> str:
    """The words of a text, without whitespace or punctuation (case kept: it can change a name)."""
    return _NOT_WORD.sub("", text)


def _body(text: str) -> str:
    """A body without its credit lines and its opening dateline, squashed."""
    lines = [line for line in text.splitlines() if line.strip() and not _CREDIT.match(line)]
    if lines:
        lines[0] = _DATELINE.sub("", lines[0], count=1)
    return _squash("\n".join(lines))


def is_minor(
    old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str] | None = None
) -> bool:
    """True when every changed field changed only in whitespace, punctuation, a dateline or a
    credit line. ``old``/``new`` map field names (``title``, ``text``, ``description``,
    ``authors``, dates) to values; ``changed`` limits the comparison (default: all keys)."""
    fields = set(changed) if changed is not None else set(old) | set(new)
    for field in fields:
        if field in MINOR_FIELDS:
            continue
        before, after = old.get(field) or "", new.get(field) or ""
        if field == "text":
            if _body(str(before)) != _body(str(after)):
                return False
        elif field in ("title", "description"):
            if _squash(str(before)) != _squash(str(after)):
                return False
        elif field in ("withdrawn", "restored") or before != after:
            return False
    return True
