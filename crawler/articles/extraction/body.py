"""The article's body text: trafilatura on the parsed tree, with fallbacks, then cleanup.

Embedded social posts are pruned from the tree first (:func:`remove_embeds`) so their text and
dates do not leak into the body; the extracted text then loses a leading repeat of the headline
and short promo and copyright paragraphs.
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.xml import xmltotxt

from crawler.articles.extraction.values import clean
from crawler.articles.html import fragment_text
from crawler.items import FeedEntry

EMBED_XPATH = (
    "//blockquote[contains(@class,'twitter-tweet') or contains(@class,'twitter-video')"
    " or contains(@class,'instagram-media') or contains(@class,'tiktok-embed')"
    " or contains(@class,'fb-xfbml-parse-ignore') or contains(@class,'text-post-media')]"
    " | //div[contains(@class,'fb-post') or contains(@class,'fb-video')]"
    " | //iframe"
)
_EMBEDS = etree.XPath(EMBED_XPATH)
_WORDS = re.compile(r"\w+")
_PROMO = re.compile(
    r"^\W*(?:lee|leer|lea) (?:también|tambien|más|mas)\b|^\W*(?:también )?te (?:puede )?"
    r"(?:interesar|recomendamos)\b|^\W*(?:notas? relacionadas?|relacionad[oa]s?|más información"
    r"|sigue leyendo|read more|related|see also|also read|more from)\s*[:»|]",
    re.IGNORECASE,
)
_RIGHTS = re.compile(
    r"^\W*(?:©|\(c\)\s|copyright\b)|todos los derechos reservados|all rights reserved",
    re.IGNORECASE,
)
PROMO_MAX_CHARS = 300


def remove_embeds(tree: HtmlElement) -> int:
    """Drop embedded social posts (tweets, Instagram, Facebook, iframes), keeping their tails.

    Their text belongs to the posts, not the article, and their dates and handles would
    otherwise be mistaken for the article's own byline and publication date.
    """
    removed = 0
    for element in _EMBEDS(tree):
        if element.getparent() is not None:
            element.drop_tree()
            removed += 1
    return removed


def _body_paragraphs(document: Any) -> str:
    body = getattr(document, "body", None)
    if body is None:
        return getattr(document, "text", None) or ""
    parts = [xmltotxt(child, False).strip() for child in body]
    if body.text and body.text.strip():
        parts.insert(0, body.text.strip())
    return "\n\n".join(p for p in parts if p)


def _run_trafilatura(tree: HtmlElement, url: str, **options: Any) -> str:
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            **options,
        )
    except (ValueError, TypeError, etree.LxmlError):
        return ""
    return _body_paragraphs(document) if document is not None else ""


def _largest_paragraph_block(tree: HtmlElement) -> str:
    """Last-resort body: the element whose direct ``<p>`` children hold the most text."""
    best: tuple[int, list[str]] = (0, [])
    parents: dict[Any, list[str]] = {}
    for p in tree.iter("p"):
        text = clean(p.text_content())
        if text:
            parents.setdefault(p.getparent(), []).append(text)
    for paragraphs in parents.values():
        size = sum(len(t) for t in paragraphs)
        if size > best[0]:
            best = (size, paragraphs)
    return "\n\n".join(best[1])


def body_text(tree: HtmlElement, url: str, hints: FeedEntry | None) -> str:
    """Body paragraphs: trafilatura for precision, then for recall, then the largest block of
    ``<p>``, then the feed's summary."""
    text = _run_trafilatura(tree, url, favor_precision=True, fast=True)
    if not text:
        text = _run_trafilatura(tree, url, favor_recall=True)
    if not text:
        text = _largest_paragraph_block(tree)
    if not text and hints is not None:
        text = fragment_text(hints.summary)
    return text


def drop_leading_title(text: str, title: str | None) -> str:
    """Drop a first paragraph that merely repeats the headline (trafilatura keeps the ``<h1>``)."""
    if not title or not text:
        return text
    first, sep, rest = text.partition("\n\n")
    first_words = _WORDS.findall(first.casefold())
    title_words = _WORDS.findall(title.casefold())
    if not sep or not title_words or len(first_words) > len(title_words) * 1.3 + 2:
        return text
    overlap = len(set(first_words) & set(title_words)) / len(set(first_words) | set(title_words))
    return rest if overlap >= 0.75 else text


def drop_boilerplate_paragraphs(text: str) -> str:
    """Drop short "Lee también: …" promos and copyright lines that sit inside article bodies.

    Only short paragraphs qualify, so a long paragraph that happens to start with "Related" or
    to quote a copyright notice is kept.
    """
    kept = [
        p
        for p in text.split("\n\n")
        if len(p) > PROMO_MAX_CHARS or not (_PROMO.search(p) or _RIGHTS.search(p))
    ]
    return "\n\n".join(kept)
