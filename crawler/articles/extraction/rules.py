"""Per-site extraction rules: selectors from a source's ``[[sources]]`` entry.

Data, not code: a site whose template defeats generic extraction names CSS (or XPath, starting
with ``/``) selectors for what to remove, and where its title, date and body are. What a rule's
selector finds wins over generic extraction; what it does not find falls back to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from crawler.articles.dates import parse_date
from crawler.articles.extraction.values import clean, element_text
from crawler.articles.selectors import Matcher, compile_selector

_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
        "pre", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "td", "th",
        "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "address", "hr",
    }
)  # fmt: skip
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "button", "form"})


@dataclass(frozen=True, slots=True)
class ExtractRules:
    """Per-site extraction overrides from the sources file (CSS, or XPath starting with ``/``).

    Data, not code: a site whose template defeats generic extraction gets selectors in its
    ``[[sources]]`` entry. Whatever the rules do not find falls back to generic extraction.
    """

    body_selector: str | None = None
    title_selector: str | None = None
    date_selector: str | None = None
    remove_selectors: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.body_selector or self.title_selector or self.date_selector or self.remove_selectors
        )


@lru_cache(maxsize=256)
def _matcher(selector: str) -> Matcher:
    return compile_selector(selector)


def _select(tree: HtmlElement, selector: str | None) -> list[Any]:
    return _matcher(selector)(tree) if selector else []


def apply_removals(tree: HtmlElement, selectors: Iterable[str]) -> int:
    """Drop every element matched by ``selectors`` (share bars, related-story boxes, ads)."""
    removed = 0
    for selector in selectors:
        for element in _select(tree, selector):
            if isinstance(element, etree._Element) and element.getparent() is not None:
                element.drop_tree()
                removed += 1
    return removed


def _inline_text(element: Any) -> str:
    if not isinstance(element.tag, str) or element.tag in _SKIP_TAGS:
        return ""
    return "".join(element.itertext()) if element.tag != "br" else "\n"


def element_paragraphs(element: Any) -> list[str]:
    """Paragraphs of one element: each block-level child is a paragraph, runs of inline content
    between blocks are one, and ``<br>`` breaks a run."""
    if isinstance(element, str):
        text = clean(element)
        return [text] if text else []
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        for piece in "".join(run).split("\n"):
            text = clean(piece)
            if text:
                out.append(text)
        run.clear()

    if element.text:
        run.append(element.text)
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _BLOCK_TAGS:
            flush()
            out.extend(element_paragraphs(child))
        elif tag == "br":
            run.append("\n")
        elif tag and tag not in _SKIP_TAGS:
            run.append(_inline_text(child))
        if child.tail:
            run.append(child.tail)
    flush()
    return out


def rule_text(tree: HtmlElement, selector: str | None) -> str | None:
    """The first non-blank value the selector matches (a title rule)."""
    for match in _select(tree, selector):
        text = element_text(match)
        if text:
            return text
    return None


def rule_body(tree: HtmlElement, selector: str | None) -> str:
    """The paragraphs of every element the selector matches, in document order."""
    paragraphs = [p for match in _select(tree, selector) for p in element_paragraphs(match)]
    return "\n\n".join(paragraphs)


def rule_date(
    tree: HtmlElement, selector: str | None, tz: tzinfo | None, dayfirst: bool
) -> datetime | None:
    """The first date the selector's matches give."""
    for match in _select(tree, selector):
        value = element_text(match)
        parsed = parse_date(value, tz, dayfirst=dayfirst) if value else None
        if parsed is not None:
            return parsed
    return None
