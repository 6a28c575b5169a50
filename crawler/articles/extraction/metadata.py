"""Metadata candidates of a page and the cleaners that turn them into field values.

:func:`collect` gathers, in one walk over the tree, everything a field may be read from: meta
tags, the JSON-LD article object, ``<title>``, ``<h1>``, canonical and base links. The rest of
this module cleans candidate values: titles without the site's suffix, bylines split into names,
language declarations reduced to a code, dates from visible markup. Which candidate wins for
each field is decided in :mod:`crawler.articles.extraction.fields`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from crawler.articles.dates import dates_in_text, find_date, parse_date
from crawler.articles.extraction.jsonld import JsonObject, collect_jsonld
from crawler.articles.extraction.values import clean, dedupe, element_text

_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " « ", " » ", " · ", " // ")
_AUTHOR_PREFIX = re.compile(
    r"^\s*(?:(?:escrito|publicado|redactado)\s+)?(?:por|by|autor(?:a)?|author|de)\s*[:\-]?\s+",
    re.IGNORECASE,
)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|\s&\s|\s+and\s+|\s+y\s+|\s+e\s+)\s*", re.IGNORECASE)
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\s&\s)\s*")
_INSTITUTION = re.compile(
    r"^(?:la\s+|el\s+|the\s+)?(?:secretar[ií]a|ministerio|comisi[oó]n|fiscal[ií]a|gobierno|"
    r"guardia|instituto|procuradur[ií]a|direcci[oó]n|coordinaci[oó]n|embajada|consulado|"
    r"departamento|agencia|oficina|subsecretar[ií]a|unidad|centro|consejo|"
    r"department|agency|office|embassy|consulate|bureau|ministry|commission|council)\b",
    re.IGNORECASE,
)
"""Bylines that name an institution: their "y"/"and" belongs to the name."""
_DESK_WORDS = frozenset(
    {"redacción", "redaccion", "staff", "agencias", "editorial", "newsroom", "equipo", "the"}
)
_AUTHOR_CUT = re.compile(r"\s*(?:\||•|·|\n|\s-\s|\s–\s|\s—\s).*$", re.DOTALL)
_LANGUAGE_NAMES = {
    "spa": "es",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "eng": "en",
    "english": "en",
    "inglés": "en",
    "por": "pt",
    "portuguese": "pt",
}

_BYLINE_XPATHS = [
    etree.XPath(x)
    for x in (
        "//*[@itemprop='author']//*[@itemprop='name']",
        "//*[@itemprop='author']",
        "//a[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' author-name ')"
        " or contains(concat(' ', normalize-space(@class), ' '), ' author ')"
        " or contains(concat(' ', normalize-space(@class), ' '), ' autor ')"
        " or contains(concat(' ', normalize-space(@class), ' '), ' byline ')"
        " or contains(concat(' ', normalize-space(@class), ' '), ' firma ')]",
    )
]
PUBLISHED_XPATHS = [
    etree.XPath(x)
    for x in (
        "//*[@itemprop='datePublished']",
        "//time[@pubdate] | //time[contains(@class,'published') or contains(@class,'entry-date')]",
        "//time[@datetime]",
    )
]
_DATE_LABEL = re.compile(
    r"^\s*(?:fecha(?:\s+de\s+(?:publicaci[oó]n|emisi[oó]n|creaci[oó]n))?|publicad[oa](?:\s+(?:el|en))?"
    r"|date(?:\s+published)?|published(?:\s+on)?|posted(?:\s+on)?|publication\s+date"
    r"|publi[eé](?:e)?\s+le|datum|data(?:\s+de\s+publica[cç][aã]o)?)\s*(?::|\s)\s*",
    re.IGNORECASE,
)
"""A label that introduces a publication date ("Fecha de publicación", "Publicado el", "Fecha:")."""
_UPDATE_LABEL = re.compile(
    r"^\W*(?:[uú]ltima\s+)?(?:actualizad[oa]|actualizaci[oó]n|modificad[oa]|updated|last\s+updated"
    r"|modified|aktualisiert|mis\s+[aà]\s+jour|atualizad[oa])\b",
    re.IGNORECASE,
)
_DATE_ATTRIBUTES = etree.XPath("//@datetime | //meta/@content")
_JSONLD_TEXT = etree.XPath("//script[contains(@type, 'ld+json')]/text()")
_VISIBLE_TEXT = etree.XPath("//text()[not(ancestor::script) and not(ancestor::style)]")
_LABEL_XPATH = etree.XPath("//dt | //th")
_LINE_XPATH = etree.XPath("//p | //span | //div | //li | //small | //em | //time")
_DATE_CLASS_TAGS = ("span", "div", "p", "small", "time", "li", "em", "strong", "dd", "td")
_DATE_CLASS_WORDS = ("date", "fecha", "publish", "timestamp", "posted", "byline", "meta")
_FURNITURE = frozenset({"nav", "footer", "aside"})
_LINE_MAX = 200
MODIFIED_XPATHS = [
    etree.XPath(x)
    for x in (
        "//*[@itemprop='dateModified']",
        "//time[contains(@class,'updated') or contains(@class,'modified')]",
    )
]


@dataclass(slots=True)
class PageMeta:
    """Raw metadata candidates gathered in one walk over the tree."""

    jsonld: JsonObject = field(default_factory=dict)
    jsonld_ids: dict[str, JsonObject] = field(default_factory=dict)
    meta: dict[str, list[str]] = field(default_factory=dict)
    canonical: str | None = None
    base: str | None = None
    html_lang: str | None = None
    title_tag: str | None = None
    h1: list[str] = field(default_factory=list)
    image_src: str | None = None

    def value(self, *keys: str) -> str | None:
        """The first non-blank meta tag content among ``keys``, in the order given."""
        for key in keys:
            for value in self.meta.get(key, ()):
                cleaned = clean(value)
                if cleaned:
                    return cleaned
        return None

    def values(self, *keys: str) -> list[str]:
        """Every non-blank meta tag content of ``keys`` (repeated tags such as ``article:tag``)."""
        return [v for key in keys for v in (clean(x) for x in self.meta.get(key, ())) if v]


def collect(tree: HtmlElement) -> PageMeta:
    """Gather every metadata candidate in one pass over the relevant elements."""
    meta = PageMeta()
    root = tree.getroottree().getroot()
    meta.html_lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    scripts: list[str] = []
    for element in tree.iter("meta", "link", "script", "title", "base", "h1"):
        tag = element.tag
        if tag == "meta":
            key = element.get("property") or element.get("name") or element.get("itemprop")
            content = element.get("content")
            if key and content is not None:
                meta.meta.setdefault(key.strip().lower(), []).append(content)
            elif element.get("http-equiv") and content is not None:
                meta.meta.setdefault(element.get("http-equiv", "").lower(), []).append(content)
        elif tag == "link":
            rel = (element.get("rel") or "").lower().split()
            if "canonical" in rel and meta.canonical is None:
                meta.canonical = element.get("href")
            elif "image_src" in rel and meta.image_src is None:
                meta.image_src = element.get("href")
        elif tag == "script":
            if "ld+json" in (element.get("type") or "").lower() and element.text:
                scripts.append(element.text)
        elif tag == "title":
            if meta.title_tag is None and element.getparent() is not None:
                meta.title_tag = clean(element.text_content())
        elif tag == "base":
            meta.base = meta.base or element.get("href")
        elif tag == "h1":
            text = clean(element.text_content())
            if text:
                meta.h1.append(text)
    article, meta.jsonld_ids = collect_jsonld(scripts)
    if article is not None:
        meta.jsonld = article
    return meta


def normalize_language(value: str | None) -> str | None:
    """Reduce ``es-MX``, ``es_MX``, ``spa`` or ``Spanish`` to a two-letter code."""
    value = clean(value)
    if not value:
        return None
    value = value.lower()
    if value in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[value]
    code = re.split(r"[-_\s,;]", value, maxsplit=1)[0]
    if code in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[code]
    return code if len(code) == 2 and code.isalpha() else None


def strip_site_suffix(title: str, site_names: Iterable[str], *, aggressive: bool = False) -> str:
    """Remove a trailing " | Site" from a title.

    Known site names are always removed. With ``aggressive`` (the ``<title>`` element), a short
    last segment after a separator is removed too, because that is nearly always the site.
    """
    names = [n.casefold() for n in site_names if n]
    for sep in _TITLE_SEPARATORS:
        if sep not in title:
            continue
        head, _, tail = title.rpartition(sep)
        tail_folded = tail.strip().casefold()
        if not head.strip():
            continue
        if any(
            tail_folded == n or (len(tail_folded) >= 4 and (tail_folded in n or n in tail_folded))
            for n in names
        ):
            return head.strip()
        if aggressive and len(tail.split()) <= 4 and len(head) >= 2 * len(tail):
            return head.strip()
    return title


def title_from(meta: PageMeta, site_names: list[str]) -> str | None:
    """Headline: JSON-LD, then OpenGraph/Twitter, then other meta tags, then ``<title>``/h1."""
    candidate = (
        clean(meta.jsonld.get("headline"))
        or meta.value("og:title", "twitter:title")
        or meta.value("parsely-title", "sailthru.title", "dc.title", "dcterms.title", "title")
    )
    if candidate:
        return strip_site_suffix(candidate, site_names)
    if meta.title_tag:
        for h1 in meta.h1:
            if meta.title_tag.startswith(h1) and len(h1) > 10:
                return h1
        return strip_site_suffix(meta.title_tag, site_names, aggressive=True)
    if len(meta.h1) == 1:
        return meta.h1[0]
    return None


def clean_author(raw: str, site_names: Iterable[str] = ()) -> list[str]:
    """Split and clean one byline into names: no "Por"/"By", no URLs, handles, dates or e-mails.

    An institution's name ("Secretaría de Seguridad y Protección Ciudadana") is one author, not
    two split on its "y"; an outlet name that a CMS glues after the person's name ("Jonathan
    Clark Nogales International") is cut off when it is one of the page's ``site_names``.
    """
    raw = _AUTHOR_CUT.sub("", raw.strip())
    raw = _AUTHOR_PREFIX.sub("", raw)
    splitter = _LIST_SPLIT if _INSTITUTION.match(raw) else _AUTHOR_SPLIT
    names: list[str] = []
    for part in splitter.split(raw):
        part = _strip_site_name(_AUTHOR_PREFIX.sub("", part).strip(" .:-|"), site_names)
        if not part or "://" in part or part.startswith(("www.", "@")) or "@" in part:
            continue
        if any(ch.isdigit() for ch in part) or "/" in part:
            continue
        if len(part) > 60 or len(part.split()) > 6 or not any(ch.isalpha() for ch in part):
            continue
        names.append(part)
    return names


def authors_from(values: Iterable[str], site_names: Iterable[str] = ()) -> list[str]:
    """Author names of several bylines, cleaned and de-duplicated."""
    names = tuple(site_names)
    return dedupe(name for value in values for name in clean_author(value, names))


def _strip_site_name(name: str, site_names: Iterable[str]) -> str:
    """``name`` without a trailing site name, unless what remains is only a desk's word
    ("Redacción El Diario Nacional" names the outlet's newsroom and stays whole)."""
    folded = name.casefold()
    for site in site_names:
        tail = " " + site.casefold()
        if len(site) >= 4 and folded.endswith(tail) and len(folded) > len(tail) + 1:
            person = name[: -len(tail)].rstrip(" ,.-|")
            return name if person.casefold() in _DESK_WORDS else person
    return name


def byline_authors(tree: HtmlElement) -> list[str]:
    """Authors from visible byline markup (``itemprop=author``, ``rel=author``, byline classes)."""
    for xpath in _BYLINE_XPATHS:
        found = [t for t in (element_text(e) for e in xpath(tree)[:5]) if t and len(t) < 120]
        authors = authors_from(found)
        if authors:
            return authors
    return []


def visible_date(
    tree: HtmlElement, xpaths: list[Callable[..., Any]], tz: tzinfo | None, dayfirst: bool
) -> datetime | None:
    """The first parseable date in visible markup (``<time>``, ``itemprop``) by ``xpaths``."""
    for xpath in xpaths:
        for element in xpath(tree)[:5]:
            value = element.get("datetime") or element.get("content") or element.text_content()
            parsed = parse_date(value or "", tz, dayfirst=dayfirst)
            if parsed is not None:
                return parsed
    return None


def first_date(values: Iterable[Any], tz: tzinfo | None, dayfirst: bool) -> datetime | None:
    """The first candidate that parses as a date (a list candidate counts by its first item)."""
    for value in values:
        if value:
            if isinstance(value, list):
                value = value[0] if value else None
            parsed = parse_date(value, tz, dayfirst=dayfirst) if value else None
            if parsed is not None:
                return parsed
    return None


def _in_furniture(element: HtmlElement) -> bool:
    """Inside navigation, a footer, a sidebar, comments, or a site header (not an article's own
    header): where a site prints today's date, a comment's or its copyright, not the article's."""
    in_header = False
    for ancestor in element.iterancestors():
        tag = ancestor.tag
        if tag in _FURNITURE or "comment" in (ancestor.get("class") or ancestor.get("id") or ""):
            return True
        if tag == "header":
            in_header = True
        elif tag == "article":
            return False
    return in_header


def _short_text(element: HtmlElement) -> str | None:
    """A date line's text; a line that says it is an update ("Actualizado …") is no
    publication date, so it reads as nothing."""
    text = clean(element.text_content())
    if not text or len(text) > _LINE_MAX or _UPDATE_LABEL.match(text):
        return None
    return text


def _labelled_date(
    tree: HtmlElement, tz: tzinfo | None, dayfirst: bool, now: datetime | None
) -> datetime | None:
    """A value under a date label: ``<dt>Fecha de publicación</dt><dd>…</dd>`` (and the table
    form), or a line that starts with one ("Fecha: …", "Publicado el …")."""
    for label in _LABEL_XPATH(tree):
        text = clean(label.text_content()) or ""
        match = _DATE_LABEL.match(text + " ")
        value = label.getnext()
        if match and match.end() >= len(text) and value is not None and not _in_furniture(label):
            found = find_date(_short_text(value) or "", tz, dayfirst=dayfirst, now=now)
            if found is not None:
                return found
    for line in _LINE_XPATH(tree):
        text = _short_text(line)
        match = _DATE_LABEL.match(text) if text else None
        if match and text and match.end() < len(text) and not _in_furniture(line):
            found = find_date(text[match.end() :], tz, dayfirst=dayfirst, now=now)
            if found is not None:
                return found
    return None


def _headline_date(
    tree: HtmlElement, tz: tzinfo | None, dayfirst: bool, now: datetime | None
) -> datetime | None:
    """A date line next to the headline: the siblings of the ``<h1>`` and of its parent block."""
    headlines = [h for h in tree.iter("h1") if not _in_furniture(h)]
    if not headlines:
        return None
    headline = headlines[0]
    blocks = [headline]
    parent = headline.getparent()
    if parent is not None and parent.tag not in ("body", "html"):
        blocks.append(parent)
    for block in blocks:
        siblings = [*block.itersiblings(preceding=True)][:3] + [*block.itersiblings()][:4]
        for sibling in siblings:
            if not isinstance(sibling.tag, str) or sibling.tag in ("script", "style"):
                continue
            found = find_date(_short_text(sibling) or "", tz, dayfirst=dayfirst, now=now)
            if found is not None:
                return found
    return None


def _classed_date(
    tree: HtmlElement, tz: tzinfo | None, dayfirst: bool, now: datetime | None
) -> datetime | None:
    """A short element whose class or id says date/fecha/published/byline/meta."""
    tried = 0
    for element in tree.iter(*_DATE_CLASS_TAGS):
        names = f"{element.get('class', '')} {element.get('id', '')}".lower()
        if not any(word in names for word in _DATE_CLASS_WORDS) or "updat" in names:
            continue
        text = _short_text(element)
        tried += 1
        if tried > 40:
            return None
        if text and not _in_furniture(element):
            found = find_date(text, tz, dayfirst=dayfirst, now=now)
            if found is not None:
                return found
    return None


def text_date(
    tree: HtmlElement, tz: tzinfo | None, dayfirst: bool, now: datetime | None = None
) -> datetime | None:
    """A publication date the page writes in its visible text, when its markup names none.

    Labelled values first, then the date line by the headline, then elements classed as dates.
    Only a full date counts (a year in a footer is not one); relative phrases ("hace 3 horas")
    count from ``now``, the fetch time, and only in a short date line.
    """
    return (
        _labelled_date(tree, tz, dayfirst, now)
        or _headline_date(tree, tz, dayfirst, now)
        or _classed_date(tree, tz, dayfirst, now)
    )


def page_mentions_day(tree: HtmlElement, day: date, tz: tzinfo | None, dayfirst: bool) -> bool:
    """Whether the page's visible text or a date attribute writes the calendar ``day``.

    Scripts do not count, except JSON-LD: a cookie's expiry or an ad's start date in a script is
    no publication date, but a ``WebPage``'s ``datePublished`` is.
    """
    iso = day.isoformat()
    if any(str(value).startswith(iso) for value in _DATE_ATTRIBUTES(tree)):
        return True
    if any(f'"{iso}' in str(script) for script in _JSONLD_TEXT(tree)):
        return True
    text = " ".join(str(t) for t in _VISIBLE_TEXT(tree))
    return day in dates_in_text(text, tz, dayfirst=dayfirst)
