"""Is a fetched page an article? The evidence a listing-found page must show before it is stored.

A listing source without a ``link_selector`` follows every link that *looks* like an article, and
some of those are section fronts, agendas, tag pages or the listing's own next pages ("Agenda",
"Prensa", ``pagina-2.html``). Being linked from a listing is no proof; the page itself must say
it is one story. Three kinds of evidence count, strongest first:

- a body: one block of at least :data:`MIN_PARAGRAPHS` paragraphs of running text (not a run of
  teaser summaries: the block holds no list of headline links), or one element holding
  :data:`MIN_BODY_CHARS` characters of prose of its own (lines split by ``<br>``);
- article metadata describing this page: JSON-LD ``NewsArticle`` (or another article type) whose
  headline or URL is this page's, ``og:type = article`` or ``article:published_time``;
- a headline (the page's ``<h1>``, of several words) with a date next to it, such as a press
  office's ``Fecha de publicación`` / ``19 de noviembre de 2026``.

A date beside a headline *link* belongs to a teaser on a list, not to the page, and a page made of
such teasers does not get to claim article metadata its template stamps on every page.
Pure: a page (bytes, text or a tree from :mod:`crawler.articles.html`) and its URL in, a reason out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from lxml.html import HtmlElement

from crawler.articles.dates import parse_date
from crawler.articles.extraction.jsonld import jsonld_url
from crawler.articles.extraction.metadata import PageMeta, collect
from crawler.articles.extraction.values import clean
from crawler.articles.html import parse_html
from crawler.identity.urls import canonicalize_url

MIN_PARAGRAPHS = 3
MIN_PARAGRAPH_CHARS = 40
MIN_BODY_CHARS = 400
HEADLINE_WORDS = (4, 40)
"""A headline has a few words: "Agenda", "Prensa" or "Comunicados" name a section."""
LIST_TEASERS = 4
"""Dated headline links that make a page a list of stories."""
_DATE_WINDOW = (12, 40)
"""Elements before and after the headline searched for its date (document order)."""
_MAX_DATE_CHARS = 80
_OUTSIDE = frozenset(
    {"nav", "footer", "aside", "form", "script", "style", "noscript", "template", "textarea"}
)
_DATE_TAGS = frozenset(
    {"time", "span", "p", "div", "dd", "small", "em", "strong", "b", "i", "li", "td", "abbr"}
)
_ITEM_TAGS = frozenset({"li", "article", "tr", "dd", "div", "section"})
NOT_AN_ARTICLE = "no headline/date/body"
"""The one-line reason a page without evidence is dropped."""


def article_evidence(page: bytes | str | HtmlElement | None, url: str) -> str | None:
    """Why ``page`` (fetched from ``url``) is an article, in a few words; None when nothing on
    it says so (then it is navigation, a section, a tag page or a list, and is not stored)."""
    tree = page if isinstance(page, HtmlElement) else parse_html(page or "")
    if tree is None:
        return None
    paragraphs = _body_paragraphs(tree)
    if paragraphs:
        return f"a body of {paragraphs} paragraphs"
    if _text_block(tree):
        return "a body of running text"
    headline = _headline(tree)
    teasers = _dated_teasers(tree)
    if teasers < LIST_TEASERS:
        reason = _metadata(collect(tree), headline, url)
        if reason:
            return reason
    if headline is not None and _date_near(tree, headline):
        return "a headline with a date"
    return None


def _inside(element: HtmlElement, tags: Collection[str]) -> bool:
    return any(a.tag in tags for a in element.iterancestors() if isinstance(a.tag, str))


def _words(text: str | None) -> int:
    return len(text.split()) if text else 0


def _headline_links(element: HtmlElement) -> Iterator[HtmlElement]:
    """Links whose text reads like a story's headline (several words), outside paragraphs."""
    for link in element.iter("a"):
        long_text = _words(link.text_content()) >= HEADLINE_WORDS[0]
        if link.get("href") and long_text and not _inside(link, ("p",)):
            yield link


def _body_paragraphs(tree: HtmlElement) -> int:
    """Paragraphs in the page's largest block of running text, or 0 when it has none."""
    best = 0
    for container in {p.getparent() for p in tree.iter("p") if p.getparent() is not None}:
        if container.tag in _OUTSIDE or _inside(container, _OUTSIDE):
            continue
        texts = [t for t in (_running_text(p) for p in container.iterchildren("p")) if t]
        if len(texts) < MIN_PARAGRAPHS or sum(map(len, texts)) < MIN_BODY_CHARS:
            continue
        if sum(1 for _ in _headline_links(container)) >= MIN_PARAGRAPHS:
            continue  # headings with summaries: a list of stories
        best = max(best, len(texts))
    return best


def _text_block(tree: HtmlElement) -> bool:
    """Whether one element holds a body's worth of prose of its own (text split by ``<br>``
    or inline markup rather than paragraphs, as many older templates write it)."""
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in _OUTSIDE or element.tag == "a":
            continue
        own = len((element.text or "").strip()) + sum(
            len((child.tail or "").strip()) for child in element
        )
        if own >= MIN_BODY_CHARS and not _inside(element, _OUTSIDE):
            return True
    return False


def _running_text(paragraph: HtmlElement) -> str | None:
    """A paragraph's text when it is prose (long enough, mostly not link text)."""
    text = clean(paragraph.text_content()) or ""
    if len(text) < MIN_PARAGRAPH_CHARS:
        return None
    linked = sum(len(clean(a.text_content()) or "") for a in paragraph.iter("a"))
    return text if linked * 2 < len(text) else None


def _headline(tree: HtmlElement) -> HtmlElement | None:
    """The page's own headline: its first ``<h1>`` (else an ``<h2>`` that is no link) of a
    headline's length, outside navigation."""
    for tag in ("h1", "h2"):
        for heading in tree.iter(tag):
            if _inside(heading, _OUTSIDE):
                continue
            if tag == "h2" and (heading.find(".//a") is not None or _inside(heading, ("a",))):
                continue
            low, high = HEADLINE_WORDS
            if low <= _words(heading.text_content()) <= high:
                return heading
    return None


def _metadata(meta: PageMeta, headline: HtmlElement | None, url: str) -> str | None:
    """Article metadata that describes this page (not an item of a list on it)."""
    node = meta.jsonld
    if node:
        own = {_key(t) for t in (meta.title_tag, *meta.h1) if t}
        if headline is not None:
            own.add(_key(headline.text_content()))
        title = _key(node.get("headline") or node.get("name"))
        where = jsonld_url(node.get("mainEntityOfPage") or node.get("url"), meta.jsonld_ids)
        if (title and any(title in t for t in own)) or (where and _same_page(where, url)):
            return f"JSON-LD {node.get('@type')}"
    if (meta.value("og:type") or "").lower() == "article":
        return "og:type article"
    if meta.value("article:published_time"):
        return "article:published_time"
    return None


def _key(text: object) -> str:
    return " ".join(str(text).casefold().split()) if isinstance(text, str) else ""


def _same_page(one: str, other: str) -> bool:
    try:
        return canonicalize_url(one, base=other).rstrip("/") == canonicalize_url(other).rstrip("/")
    except ValueError:
        return False


def _is_date(element: HtmlElement) -> bool:
    """Whether the element's short text (or ``datetime``) is a date, alone or after a label."""
    text = clean(element.text_content()) or ""
    candidates = [element.get("datetime") or "", text]
    if ":" in text:
        candidates.append(text.rsplit(":", 1)[1] if text.count(":") == 1 else "")
        candidates.append(text.split(":", 1)[1])
    return any(
        0 < len(c.strip()) <= _MAX_DATE_CHARS and parse_date(c) is not None for c in candidates
    )


def _item_of(element: HtmlElement) -> HtmlElement | None:
    """The list item (``li``, ``article``, a ``div``…) an element sits in, up to three levels up."""
    for depth, ancestor in enumerate(element.iterancestors()):
        if depth >= 3 or ancestor.tag in ("body", "main"):
            return None
        if ancestor.tag in _ITEM_TAGS:
            return ancestor
    return None


def _teaser(element: HtmlElement, headline: HtmlElement) -> bool:
    """Whether a date element belongs to a teaser: inside a link, or in an item beside a
    headline link (an item that also holds the page's headline is the article's header)."""
    if _inside(element, ("a",)):
        return True
    item = _item_of(element)
    if item is None or headline in item.iter():
        return False
    return next(_headline_links(item), None) is not None


def _date_elements(elements: list[HtmlElement]) -> Iterator[HtmlElement]:
    for element in elements:
        if element.tag in _DATE_TAGS and not _inside(element, _OUTSIDE) and _is_date(element):
            yield element


def _date_near(tree: HtmlElement, headline: HtmlElement) -> bool:
    """A date close to the headline (just before it, as a kicker, or after it) that is no
    teaser's."""
    elements = [e for e in tree.iter() if isinstance(e.tag, str)]
    at = elements.index(headline)
    before, after = _DATE_WINDOW
    around = set(headline.iterancestors()) | set(headline.iter())
    window = elements[max(0, at - before) : at] + elements[at + 1 : at + 1 + after]
    window = [e for e in window if e not in around]
    return any(not _teaser(e, headline) for e in _date_elements(window))


def _dated_teasers(tree: HtmlElement) -> int:
    """Headline links with a date beside them: the items of a list of stories."""
    count = 0
    for link in _headline_links(tree):
        item = _item_of(link)
        if item is not None and next(_date_elements(list(item.iter())), None) is not None:
            count += 1
            if count >= LIST_TEASERS:
                break
    return count
