"""The one HTML loader: page bytes (or text) in, an lxml tree out.

Every parser of HTML pages (article extraction, embedded posts, listing links, feed discovery)
loads through here, so a page is decoded by one charset rule and parsed into the same kind of
tree wherever it is read. Parsing uses trafilatura's loader because the body extractor expects
exactly the tree that loader builds (comments and processing instructions removed).

This module sits beside the extraction package rather than inside it: ``crawler.documents``
loads pages too, and the extraction package imports ``crawler.documents.listing``.
"""

from __future__ import annotations

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, read_bom

_SINGLE_BYTE_LATIN = {"cp1252", "iso-8859-1", "latin-1", "latin1", "windows-1252", "iso8859-1"}


def _looks_like_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not raw.isascii()


def _auto_detect(raw: bytes) -> str:
    """Pages without a declared charset: valid UTF-8 wins, else Windows-1252 (a Latin-1 superset)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def decode_html(html: bytes | str) -> str:
    """Decode page bytes: BOM, then ``<meta charset>``, then UTF-8 validity, then Windows-1252.

    A page that declares Latin-1 but is valid non-ASCII UTF-8 is decoded as UTF-8; a CMS that
    lies about its charset is far more common than Latin-1 text that happens to be valid UTF-8.
    """
    if isinstance(html, str):
        return html
    bom_encoding, _ = read_bom(html)
    if bom_encoding is None:
        declared = html_body_declared_encoding(html)
        if declared in _SINGLE_BYTE_LATIN and _looks_like_utf8(html):
            return html.decode("utf-8")
    _, text = html_to_unicode(None, html, auto_detect_fun=_auto_detect)
    return text


def parse_html(html: bytes | str) -> HtmlElement | None:
    """The page's tree, or None when there is no document (empty or blank input).

    A bare fragment that the loader rejects as "not HTML" is parsed again wrapped in a full
    document, so a snippet still gives a tree.
    """
    text = decode_html(html)
    if not text.strip():
        return None
    tree = load_html(text)
    if tree is None:
        tree = load_html(f"<html><body><div>{text}</div></body></html>")
    return tree


def parse_html_or_empty(html: bytes | str) -> HtmlElement:
    """Like :func:`parse_html`, but an empty page is an empty document, for callers that only
    search the tree (links, feeds, embeds) and have nothing to do with "no document"."""
    tree = parse_html(html)
    return tree if tree is not None else lxml.html.document_fromstring("<html></html>")


def fragment_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (a feed summary); text without markup is returned as is."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return fragment
    try:
        element = load_html(f"<html><body><div>{fragment}</div></body></html>")
    except (ValueError, etree.LxmlError):
        return fragment
    return element.text_content() if element is not None else fragment
