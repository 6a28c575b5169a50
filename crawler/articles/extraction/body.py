"""The article's body text: trafilatura on the parsed tree, with fallbacks, then cleanup.

Embedded social posts are pruned from the tree first (:func:`remove_embeds`) so their text and
dates do not leak into the body. The fast precision pass is checked for plausibility
(:func:`implausible`) and, only when it fails the check, trafilatura runs again with its
readability/jusText comparison: the fast pass alone loses about one page in twenty to a notice,
a teaser list or a fragment. The extracted text then loses short promo and copyright paragraphs
(furniture at its start and end is :mod:`crawler.articles.extraction.furniture`'s).
"""

from __future__ import annotations

import enum
import re
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.xml import xmltotxt

from crawler.articles.extraction.furniture import repeats_title
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

FAST: dict[str, Any] = {"favor_precision": True, "fast": True}
FALLBACK_DEFAULT: dict[str, Any] = {}
FALLBACK_PRECISION: dict[str, Any] = {"favor_precision": True}
FALLBACK_GAIN = 1.5
SHORT_BODY_CHARS = 500
PLAUSIBLE_CHARS = 3000
LOST_RATIO = 0.2
THIN_RATIO = 0.4
MIN_PROSE_SHARE = 0.5
PROSE_LINE_LETTERS = 40
LONG_TEXT_NODE = 80
NOTICE_MAX_CHARS = 1500
_LONG_TEXT = etree.XPath(
    f"//body//text()[string-length(normalize-space(.)) >= {LONG_TEXT_NODE}]"
    "[not(parent::script or parent::style or parent::noscript or ancestor::a"
    " or ancestor::aside or ancestor::nav or ancestor::footer)]"
)
_NON_LETTERS = re.compile(r"[\W\d_]+")
_NOTICE = re.compile(
    r"\bcookies?\b|javascript|queda prohibida|prohibida (?:su|la) reproducci[oó]n"
    r"|reproducci[oó]n (?:total o parcial|parcial o total)|derechos reservados|rights reserved"
    r"|reprint|permission to reproduce|suscr[ií]bete para|subscribe to (?:read|continue)"
    r"|inicia sesi[oó]n para|log in to (?:read|continue)|contenido exclusivo para suscriptores",
    re.IGNORECASE,
)


class Suspicion(enum.Enum):
    """Why a fast-path body does not look like the page's article; ``THIN`` is the mild case."""

    SHORT = "short"
    NOT_PROSE = "not_prose"
    NOTICE = "notice"
    LOST = "lost"
    THIN = "thin"


def page_prose_chars(tree: HtmlElement) -> int:
    """Characters in the page's long text runs outside links: what a main text could hold.

    One XPath over text nodes (no per-element Python work), so it is cheap enough to run on
    every page; navigation, teasers and menus are short link texts and do not count, and
    neither does text in ``<aside>``, ``<nav>`` or ``<footer>`` (a sidebar of teasers with long
    summaries made a quarter of a heavy template's pages look "thin" and pay a second pass;
    both dev sets score the same without it).
    """
    return sum(len(node.strip()) for node in _LONG_TEXT(tree))


def prose_share(text: str) -> float:
    """Share of the text in lines that read as sentences (at least 40 letters, any script).

    Ingredient lists, calendars, tables of figures and link lists are short lines; an article
    is mostly long ones.
    """
    total = prose = 0
    for line in text.split("\n"):
        size = text_size(line)
        total += size
        if size >= PROSE_LINE_LETTERS and len(_NON_LETTERS.sub("", line)) >= PROSE_LINE_LETTERS:
            prose += size
    return prose / total if total else 0.0


def text_size(text: str) -> int:
    """Characters with whitespace runs counted once: trafilatura keeps a page's indentation."""
    return len(" ".join(text.split()))


def implausible(text: str, tree: HtmlElement) -> Suspicion | None:
    """Why ``text`` is not a plausible body for the page ``tree``, or None when it is.

    Too short, mostly non-sentences, a notice (cookies, reprint terms, paywall) instead of an
    article, or far shorter than the page's long text: the signs of a fast pass that latched
    on the wrong block or dropped the article's lists and headings. ``THIN`` (moderately
    shorter than the page's text) asks for a second pass that stays precise. A body of more
    than ``PLAUSIBLE_CHARS`` of prose is an article, so the page is not measured then.
    """
    size = text_size(text)
    if size < SHORT_BODY_CHARS:
        return Suspicion.SHORT
    if size < NOTICE_MAX_CHARS and _NOTICE.search(text):
        return Suspicion.NOTICE
    if prose_share(text) < MIN_PROSE_SHARE:
        return Suspicion.NOT_PROSE
    if size >= PLAUSIBLE_CHARS:
        return None
    page_prose = page_prose_chars(tree)
    if size < LOST_RATIO * page_prose:
        return Suspicion.LOST
    if size < THIN_RATIO * page_prose:
        return Suspicion.THIN
    return None


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
    """Body paragraphs: trafilatura's fast precision pass, checked for plausibility.

    When the fast result does not look like the page's article (:func:`implausible`), a second
    trafilatura pass with its readability/jusText comparison runs and wins if it finds clearly
    more. Only then; the check itself is cheap, so the extra pass costs only where needed. Last
    resorts: trafilatura for recall, the largest block of ``<p>``, the feed's summary.
    """
    text = _run_trafilatura(tree, url, **FAST)
    suspicion = implausible(text, tree)
    if suspicion is not None:
        options = FALLBACK_PRECISION if suspicion == Suspicion.THIN else FALLBACK_DEFAULT
        second = _run_trafilatura(tree, url, **options)
        if text_size(second) > FALLBACK_GAIN * text_size(text):
            text = second
    if not text:
        text = _run_trafilatura(tree, url, favor_recall=True)
    if not text:
        text = _largest_paragraph_block(tree)
    if not text and hints is not None:
        text = fragment_text(hints.summary)
    return text


def drop_leading_title(text: str, title: str | None) -> str:
    """Drop a first paragraph that merely repeats the headline (trafilatura keeps the ``<h1>``)."""
    first, sep, rest = text.partition("\n\n")
    return rest if sep and repeats_title(first, title) else text


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
