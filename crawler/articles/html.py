"""The one HTML loader: page bytes (or text) in, an lxml tree out.

Every parser of HTML pages (article extraction, embedded posts, listing links, feed discovery)
loads through here, so a page is decoded by one charset rule and parsed into the same kind of
tree wherever it is read. Parsing uses trafilatura's loader because the body extractor expects
exactly the tree that loader builds (comments and processing instructions removed).

Two kinds of body are not decoded as a page at all: binary files (an image, a PDF, an archive)
that a server labels ``text/html``, found by :func:`binary_kind`, and nothing. Page bytes whose
declared charset contradicts them are decoded by what they are (see :func:`decode_html`), so a
CMS that declares one charset and writes another yields no mojibake for the repair step to guess
at.

This module sits beside the extraction package rather than inside it: ``crawler.documents``
loads pages too, and the extraction package imports ``crawler.documents.listing``.
"""

from __future__ import annotations

import codecs
import re

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, read_bom

from crawler.articles.textrepair import fix_page_encoding

_FALLBACK_ERRORS = "newswatch-cp1252-bytes"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"BZh", "bzip2 data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ\x90\x00", "an executable"),
    (b"\x00asm", "WebAssembly"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"wOFF", "a font"),
    (b"wOF2", "a font"),
    (b"OggS", "an audio or video file"),
    (b"ID3", "an MP3 file"),
    (b"\x00\x00\x01\x00", "an icon"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document"),
)
_RIFF_KINDS = {b"WEBP": "a WebP image", b"WAVE": "an audio file", b"AVI ": "a video file"}
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_SAMPLE = 8192
_MAX_CONTROL_SHARE = 0.05
"""Text, even broken text, has almost no control bytes; random or compressed data has ~10%. A
page with a few stray NULs (a CMS bug the repair step removes) stays well under 5%."""


def binary_kind(raw: bytes) -> str | None:
    """What a body is when it is a binary file rather than a page (``"a PNG image"``), else None.

    Read from the bytes, never from the Content-Type: servers label images, PDFs and archives
    ``text/html``, and decoding one as a page would store noise as an article. UTF-16 and
    UTF-32 pages (which are full of NULs) are recognised by their byte-order mark.
    """
    head = raw[:_SAMPLE]
    if not head or read_bom(head)[0] is not None:
        return None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[head[8:12]]
    if head[4:8] == b"ftyp":
        return "a video or image file (ISO media)"
    control = len(_CONTROL_BYTES.findall(head))
    if control > _MAX_CONTROL_SHARE * len(head):
        return f"binary data ({100 * control // len(head)}% control bytes)"
    return None


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as Windows-1252, one by one (the
    few bytes 1252 leaves undefined as Latin-1, whose control characters the repair drops)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    text = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad)
    return text, error.end


codecs.register_error(_FALLBACK_ERRORS, _cp1252_bytes)


def _utf8_else_cp1252(raw: bytes) -> str:
    """UTF-8 where the bytes are UTF-8, Windows-1252 for those that are not: right for a UTF-8
    page, a Windows-1252 page, and a UTF-8 page with Latin-1 fragments pasted in."""
    return raw.decode("utf-8", errors=_FALLBACK_ERRORS)


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
    """Decode page bytes: a BOM decides; else the bytes overrule a ``<meta charset>`` they
    contradict; else the declaration; with none, UTF-8 then Windows-1252.

    The HTTP header's charset is not consulted: headers and meta tags disagree often, and the
    bytes settle it. A CMS that lies about its charset is far more common than text in a legacy
    charset that happens to be valid UTF-8, so:

    - declared UTF-8 (or UTF-16/32 in a meta tag, which browsers read as UTF-8), or nothing
      declared: UTF-8, with any bytes that are not UTF-8 read as Windows-1252 (never U+FFFD);
    - declared anything else, but the bytes are valid non-ASCII UTF-8: UTF-8.

    Text that was UTF-8 decoded as Windows-1252 before it was written ("MÃ©xico") is then
    repaired on the whole page (:func:`crawler.articles.textrepair.fix_page_encoding`).
    """
    if isinstance(html, str):
        return html
    return fix_page_encoding(_decode_bytes(html))


def _decode_bytes(html: bytes) -> str:
    bom_encoding, _ = read_bom(html)
    if bom_encoding is None:
        declared = html_body_declared_encoding(html)
        if declared is None or declared.startswith("utf"):
            return _utf8_else_cp1252(html)
        if _looks_like_utf8(html):
            return html.decode("utf-8")
    _, text = html_to_unicode(None, html, auto_detect_fun=_auto_detect)
    return text


def parse_html(html: bytes | str) -> HtmlElement | None:
    """The page's tree, or None when there is no document (empty or blank input, or a binary
    file: see :func:`binary_kind`).

    A bare fragment that the loader rejects as "not HTML" is parsed again wrapped in a full
    document, so a snippet still gives a tree.
    """
    if isinstance(html, bytes) and binary_kind(html) is not None:
        return None
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
