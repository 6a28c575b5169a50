"""Small value helpers every extraction step shares: whitespace cleaning, "first that is set",
case-insensitive de-duplication, an element's value, absolute URLs and feed timestamps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

_WS = re.compile(r"\s+")


def clean(value: Any) -> str | None:
    """Whitespace-collapsed text of a string or number; None for anything else or blank."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = _WS.sub(" ", value).strip()
    return value or None


def first(*candidates: Any) -> Any:
    """The first truthy candidate: candidates are listed in priority order."""
    for candidate in candidates:
        if candidate:
            return candidate
    return None


def dedupe(values: Iterable[str]) -> list[str]:
    """Non-empty values in order, dropping repeats that differ only in case."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def element_text(element: Any) -> str | None:
    """What a matched node says: its ``content`` or ``datetime`` attribute, else its text."""
    if not isinstance(element, etree._Element):
        return clean(element)
    for attr in ("content", "datetime"):
        if element.get(attr):
            return clean(element.get(attr))
    return clean(element.text_content()) if isinstance(element, HtmlElement) else None
