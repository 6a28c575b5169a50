"""Selectors in the sources file (``link_selector``, ``body_selector``…): CSS or XPath, compiled
once and checked against a probe page, so a bad one is a config error before any crawl. Shared by
listing pages (links) and per-site extraction rules (title, body, date)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cssselect import SelectorError
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from crawler.articles.html import parse_html_or_empty

Matcher = Callable[[Any], list[Any]]

_XPATH_START = ("/", "(")
_PROBE_PAGE = (
    '<html><head><title>t</title><link rel="next" href="/n"></head><body>'
    '<nav><ul><li><a class="x" href="/a">a</a></li></ul></nav><main><section><article class="x">'
    '<h2 class="x"><a class="x" href="/b">b</a></h2><div class="x"><p class="x">p<span>s</span>'
    "</p></div></article></section></main></body></html>"
)


def compile_selector(selector: str) -> Matcher:
    """A callable that runs ``selector`` on an lxml tree and returns a list of matches.

    CSS (with parsel's ``::attr(name)`` and ``::text`` extensions) unless the selector starts
    with ``/`` or ``(``, then XPath. Raises ``ValueError`` naming the selector for bad syntax,
    so config validation can reject it before any crawl.
    """
    if not isinstance(selector, str) or not selector.strip():
        raise ValueError("empty selector")
    text = selector.strip()
    if text.startswith(_XPATH_START):
        expression, kind = text, "XPath"
    else:
        kind = "CSS"
        try:
            expression = HTMLTranslator().css_to_xpath(text)
        except SelectorError as exc:
            raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc
    try:
        compiled = etree.XPath(expression)
        # Unknown functions and namespace prefixes only fail when evaluated: try a small page.
        compiled(parse_html_or_empty(_PROBE_PAGE))
    except etree.XPathError as exc:
        raise ValueError(f"invalid {kind} selector {selector!r}: {exc}") from exc

    def run(tree: Any) -> list[Any]:
        try:
            result = compiled(tree)
        except etree.XPathError as exc:
            raise ValueError(f"invalid {kind} selector {selector!r}: {exc}") from exc
        return result if isinstance(result, list) else [result]

    return run
