"""Article extraction: one HTML page in, an :class:`Extracted` out, no I/O.

The page is decoded and parsed once; metadata is read from that tree in a fixed priority
(JSON-LD, OpenGraph/``article:*``, other meta tags, visible markup, trafilatura's metadata, feed
hints) and the body text comes from trafilatura run on the same tree. Embedded social posts are
read into ``Extracted.posts`` and then pruned before body extraction so tweet text does not mix
into the article's paragraphs; posts flattened into plain paragraphs are split out of the text too.
The language is the page's declaration, else what the text clearly is (``crawler.articles.language``), else
the feed's or source's configured language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html
from trafilatura.xml import xmltotxt
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, read_bom

from crawler.articles.dates import parse_date
from crawler.articles.language import detect_language
from crawler.articles.posts import dedupe_posts, extract_posts, split_flattened_posts
from crawler.articles.textrepair import repair_text
from crawler.documents.listing import Matcher, compile_selector
from crawler.identity.urls import absolute_url
from crawler.items import Extracted, FeedEntry

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "askpublicnewsarticle",
        "livebligposting",
        "liveblogposting",
        "scholarlyarticle",
        "report",
    }
)

EMBED_XPATH = (
    "//blockquote[contains(@class,'twitter-tweet') or contains(@class,'twitter-video')"
    " or contains(@class,'instagram-media') or contains(@class,'tiktok-embed')"
    " or contains(@class,'fb-xfbml-parse-ignore') or contains(@class,'text-post-media')]"
    " | //div[contains(@class,'fb-post') or contains(@class,'fb-video')]"
    " | //iframe"
)

_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " « ", " » ", " · ", " // ")
_AUTHOR_PREFIX = re.compile(
    r"^\s*(?:(?:escrito|publicado|redactado)\s+)?(?:por|by|autor(?:a)?|author|de)\s*[:\-]?\s+",
    re.IGNORECASE,
)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|\s&\s|\s+and\s+|\s+y\s+|\s+e\s+)\s*", re.IGNORECASE)
_AUTHOR_CUT = re.compile(r"\s*(?:\||•|·|\n|\s-\s|\s–\s|\s—\s).*$", re.DOTALL)
_SINGLE_BYTE_LATIN = {"cp1252", "iso-8859-1", "latin-1", "latin1", "windows-1252", "iso8859-1"}
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
_WS = re.compile(r"\s+")

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
_PUBLISHED_XPATHS = [
    etree.XPath(x)
    for x in (
        "//*[@itemprop='datePublished']",
        "//time[@pubdate] | //time[contains(@class,'published') or contains(@class,'entry-date')]",
        "//time[@datetime]",
    )
]
_MODIFIED_XPATHS = [
    etree.XPath(x)
    for x in (
        "//*[@itemprop='dateModified']",
        "//time[contains(@class,'updated') or contains(@class,'modified')]",
    )
]
_EMBEDS = etree.XPath(EMBED_XPATH)


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


_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
        "pre", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "td", "th",
        "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "address", "hr",
    }
)  # fmt: skip
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "button", "form"})


@dataclass(slots=True)
class _Meta:
    """Raw metadata candidates gathered in one walk over the tree."""

    jsonld: dict[str, Any] = field(default_factory=dict)
    jsonld_ids: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, list[str]] = field(default_factory=dict)
    canonical: str | None = None
    base: str | None = None
    html_lang: str | None = None
    title_tag: str | None = None
    h1: list[str] = field(default_factory=list)
    image_src: str | None = None


# ---------------------------------------------------------------------------
# decoding and parsing


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


def parse_html(text: str) -> HtmlElement | None:
    """Parse with trafilatura's own loader so its extractor sees exactly the tree it expects."""
    tree = load_html(text)
    if tree is None and text.strip():
        tree = load_html(f"<html><body><div>{text}</div></body></html>")
    return tree


# ---------------------------------------------------------------------------
# small helpers


def _clean(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = _WS.sub(" ", value).strip()
    return value or None


def _first(*candidates: Any) -> Any:
    for candidate in candidates:
        if candidate:
            return candidate
    return None


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _text_of(element: Any) -> str | None:
    if not isinstance(element, etree._Element):
        return _clean(element)
    for attr in ("content", "datetime"):
        if element.get(attr):
            return _clean(element.get(attr))
    return _clean(element.text_content()) if isinstance(element, HtmlElement) else None


def _absolute(url: str | None, base: str) -> str | None:
    return absolute_url(_clean(url), base)


def normalize_language(value: str | None) -> str | None:
    """Reduce ``es-MX``, ``es_MX``, ``spa`` or ``Spanish`` to a two-letter code."""
    value = _clean(value)
    if not value:
        return None
    value = value.lower()
    if value in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[value]
    code = re.split(r"[-_\s,;]", value, maxsplit=1)[0]
    if code in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[code]
    return code if len(code) == 2 and code.isalpha() else None


# ---------------------------------------------------------------------------
# JSON-LD


def _load_json(text: str) -> Any:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    if text.startswith("//<![CDATA["):
        text = text.removeprefix("//<![CDATA[").removesuffix("//]]>")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(re.sub(r"[\x00-\x1f]", " ", text), strict=False)
    except ValueError:
        return None


def _walk_jsonld(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk_jsonld(item, depth + 1)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in node:
                yield from _walk_jsonld(node[key], depth + 1)


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.lower() for v in values if isinstance(v, str)}


def _collect_jsonld(scripts: Iterable[str], meta: _Meta) -> None:
    """Keep the first article-typed object (the one with a headline if several) and an @id index."""
    best: dict[str, Any] | None = None
    for script in scripts:
        data = _load_json(script)
        if data is None:
            continue
        for node in _walk_jsonld(data):
            if isinstance(node.get("@id"), str):
                meta.jsonld_ids.setdefault(node["@id"], node)
            if _types(node) & ARTICLE_TYPES and (
                best is None or (not best.get("headline") and node.get("headline"))
            ):
                best = node
    if best is not None:
        meta.jsonld = best


def _resolve(node: Any, ids: dict[str, dict[str, Any]]) -> Any:
    if isinstance(node, dict) and set(node) <= {"@id", "@type"} and node.get("@id") in ids:
        return ids[node["@id"]]
    return node


def _jsonld_names(value: Any, ids: dict[str, dict[str, Any]]) -> list[str]:
    values = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in values:
        item = _resolve(item, ids)
        if isinstance(item, dict):
            item = item.get("name")
            if isinstance(item, list):
                item = item[0] if item else None
        cleaned = _clean(item)
        if cleaned:
            names.append(cleaned)
    return names


def _jsonld_url(value: Any, ids: dict[str, dict[str, Any]]) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    value = _resolve(value, ids)
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
        if isinstance(value, list):
            value = value[0] if value else None
    return _clean(value)


def _jsonld_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in (_clean(p) for p in value.split(",")) if v]
    if isinstance(value, list):
        return [v for v in (_clean(p) for p in value) if v]
    return []


# ---------------------------------------------------------------------------
# tree walk


def _collect(tree: HtmlElement) -> _Meta:
    """Gather every metadata candidate in one pass over the relevant elements."""
    meta = _Meta()
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
                meta.title_tag = _clean(element.text_content())
        elif tag == "base":
            meta.base = meta.base or element.get("href")
        elif tag == "h1":
            text = _clean(element.text_content())
            if text:
                meta.h1.append(text)
    _collect_jsonld(scripts, meta)
    return meta


def _m(meta: _Meta, *keys: str) -> str | None:
    for key in keys:
        for value in meta.meta.get(key, ()):
            cleaned = _clean(value)
            if cleaned:
                return cleaned
    return None


def _m_all(meta: _Meta, *keys: str) -> list[str]:
    return [v for key in keys for v in (_clean(x) for x in meta.meta.get(key, ())) if v]


# ---------------------------------------------------------------------------
# fields


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


def _title(meta: _Meta, site_names: list[str]) -> str | None:
    ld = meta.jsonld
    candidate = _first(
        _clean(ld.get("headline")),
        _m(meta, "og:title", "twitter:title"),
        _m(meta, "parsely-title", "sailthru.title", "dc.title", "dcterms.title", "title"),
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


def clean_author(raw: str) -> list[str]:
    """Split and clean one byline into names: no "Por"/"By", no URLs, handles, dates or e-mails."""
    raw = _AUTHOR_CUT.sub("", raw.strip())
    raw = _AUTHOR_PREFIX.sub("", raw)
    names: list[str] = []
    for part in _AUTHOR_SPLIT.split(raw):
        part = _AUTHOR_PREFIX.sub("", part).strip(" .:-|")
        if not part or "://" in part or part.startswith(("www.", "@")) or "@" in part:
            continue
        if any(ch.isdigit() for ch in part) or "/" in part:
            continue
        if len(part) > 60 or len(part.split()) > 6 or not any(ch.isalpha() for ch in part):
            continue
        names.append(part)
    return names


def _authors_from(values: Iterable[str]) -> list[str]:
    return _dedupe(name for value in values for name in clean_author(value))


def _byline_authors(tree: HtmlElement) -> list[str]:
    for xpath in _BYLINE_XPATHS:
        found = [t for t in (_text_of(e) for e in xpath(tree)[:5]) if t and len(t) < 120]
        authors = _authors_from(found)
        if authors:
            return authors
    return []


def _visible_date(
    tree: HtmlElement, xpaths: list[Callable[..., Any]], tz: tzinfo | None, dayfirst: bool
) -> datetime | None:
    for xpath in xpaths:
        for element in xpath(tree)[:5]:
            value = element.get("datetime") or element.get("content") or element.text_content()
            parsed = parse_date(value or "", tz, dayfirst=dayfirst)
            if parsed is not None:
                return parsed
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


def _date(values: Iterable[Any], tz: tzinfo | None, dayfirst: bool) -> datetime | None:
    for value in values:
        if value:
            if isinstance(value, list):
                value = value[0] if value else None
            parsed = parse_date(value, tz, dayfirst=dayfirst) if value else None
            if parsed is not None:
                return parsed
    return None


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
        text = _clean(p.text_content())
        if text:
            parents.setdefault(p.getparent(), []).append(text)
    for paragraphs in parents.values():
        size = sum(len(t) for t in paragraphs)
        if size > best[0]:
            best = (size, paragraphs)
    return "\n\n".join(best[1])


def _strip_tags(fragment: str | None) -> str:
    if not fragment:
        return ""
    if "<" not in fragment:
        return fragment
    try:
        element = load_html(f"<html><body><div>{fragment}</div></body></html>")
    except (ValueError, etree.LxmlError):
        return fragment
    return element.text_content() if element is not None else fragment


def _body_text(tree: HtmlElement, url: str, hints: FeedEntry | None) -> str:
    text = _run_trafilatura(tree, url, favor_precision=True, fast=True)
    if not text:
        text = _run_trafilatura(tree, url, favor_recall=True)
    if not text:
        text = _largest_paragraph_block(tree)
    if not text and hints is not None:
        text = _strip_tags(hints.summary)
    return text


_WORDS = re.compile(r"\w+")


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


def _trafilatura_metadata(tree: HtmlElement, url: str) -> Any:
    try:
        return extract_metadata(tree, url)
    except (ValueError, TypeError, etree.LxmlError):
        return None


# ---------------------------------------------------------------------------
# per-site rules


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
        text = _clean(element)
        return [text] if text else []
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        for piece in "".join(run).split("\n"):
            text = _clean(piece)
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


def _rule_text(tree: HtmlElement, selector: str | None) -> str | None:
    for match in _select(tree, selector):
        text = _text_of(match)
        if text:
            return text
    return None


def _rule_body(tree: HtmlElement, selector: str | None) -> str:
    paragraphs = [p for match in _select(tree, selector) for p in element_paragraphs(match)]
    return "\n\n".join(paragraphs)


def _rule_date(
    tree: HtmlElement, selector: str | None, tz: tzinfo | None, dayfirst: bool
) -> datetime | None:
    for match in _select(tree, selector):
        value = _text_of(match)
        parsed = parse_date(value, tz, dayfirst=dayfirst) if value else None
        if parsed is not None:
            return parsed
    return None


# ---------------------------------------------------------------------------
# public entry point


def _aware(value: datetime | None, tz: tzinfo | None) -> datetime | None:
    """Feed datetimes are usually aware already; a naive one is local time of the source."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=tz or UTC)
    return value


def _repair_optional(value: str | None) -> str | None:
    return repair_text(value) or None if value else None


def _from_hints_only(
    url: str, tz: tzinfo | None, hints: FeedEntry | None, language: str | None
) -> Extracted:
    if hints is None:
        return Extracted(title=None, text="", language=normalize_language(language))
    return Extracted(
        title=_repair_optional(hints.title),
        text=repair_text(_strip_tags(hints.summary)),
        authors=_authors_from(hints.authors),
        published_at=_aware(hints.published, tz),
        updated_at=_aware(hints.updated, tz),
        language=normalize_language(language),
        tags=_dedupe(c for c in (_clean(c) for c in hints.categories) if c),
    )


def extract(
    html: bytes | str,
    url: str,
    *,
    tz: tzinfo | None = None,
    hints: FeedEntry | None = None,
    language: str | None = None,
    rules: ExtractRules | None = None,
) -> Extracted:
    """Extract title, body text and metadata from one article page.

    Naive timestamps are read in ``tz`` (the source's zone, UTC if None). ``hints`` from the feed
    fill only what the page itself does not provide. ``rules`` (per-site selectors) are applied
    first: their removals change the tree every later step sees, and what their selectors find
    wins over generic extraction. Title, text and the other free-text fields are passed through
    :func:`repair_text` here, once.
    """
    tree = parse_html(decode_html(html)) if html else None
    if tree is None:
        return _from_hints_only(url, tz, hints, language)

    rules = rules or ExtractRules()
    apply_removals(tree, rules.remove_selectors)
    rule_title = _rule_text(tree, rules.title_selector)
    meta = _collect(tree)
    posts = extract_posts(tree, url)
    remove_embeds(tree)
    ld, ids = meta.jsonld, meta.jsonld_ids
    base = _absolute(meta.base, url) or url

    lang = _first(
        normalize_language(meta.html_lang),
        normalize_language(_m(meta, "og:locale")),
        normalize_language(ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None),
        normalize_language(_m(meta, "content-language", "language", "dc.language")),
    )
    dayfirst = (lang or normalize_language(language)) != "en"

    publisher = _resolve(ld.get("publisher"), ids)
    site_names = [
        n
        for n in (
            _m(meta, "og:site_name", "application-name"),
            _clean(publisher.get("name")) if isinstance(publisher, dict) else None,
        )
        if n
    ]
    title = rule_title or _title(meta, site_names)

    authors = _first(
        _authors_from(_jsonld_names(ld.get("author") or ld.get("creator"), ids)),
        _authors_from(_m_all(meta, "article:author", "og:article:author")),
        _authors_from(
            _m_all(
                meta,
                "author",
                "parsely-author",
                "sailthru.author",
                "dc.creator",
                "dcterms.creator",
                "byl",
            )
        ),
    ) or _byline_authors(tree)

    published = _date(
        [
            ld.get("datePublished"),
            ld.get("dateCreated"),
            _m(meta, "article:published_time", "og:article:published_time", "og:published_time"),
            _m(
                meta,
                "datepublished",
                "pubdate",
                "publishdate",
                "publish-date",
                "publish_date",
                "publication_date",
                "parsely-pub-date",
                "sailthru.date",
                "dc.date.issued",
                "dcterms.issued",
                "dc.date",
                "dcterms.date",
                "dcterms.created",
                "date",
                "article.published",
            ),
        ],
        tz,
        dayfirst,
    ) or _visible_date(tree, _PUBLISHED_XPATHS, tz, dayfirst)
    published = _rule_date(tree, rules.date_selector, tz, dayfirst) or published
    updated = _date(
        [
            ld.get("dateModified"),
            _m(meta, "article:modified_time", "og:article:modified_time", "og:updated_time"),
            _m(
                meta,
                "datemodified",
                "dc.date.modified",
                "dcterms.modified",
                "last-modified",
                "article.updated",
            ),
        ],
        tz,
        dayfirst,
    ) or _visible_date(tree, _MODIFIED_XPATHS, tz, dayfirst)

    canonical = _first(
        _absolute(meta.canonical, base),
        _absolute(_m(meta, "og:url"), base),
        _absolute(_jsonld_url(ld.get("mainEntityOfPage"), ids) or _clean(ld.get("url")), base),
    )
    section = _first(
        _first(*_jsonld_list(ld.get("articleSection"))),
        _m(
            meta,
            "article:section",
            "og:article:section",
            "parsely-section",
            "section",
            "sailthru.section",
        ),
    )
    tags = _dedupe(
        _first(
            _jsonld_list(ld.get("keywords")),
            _m_all(meta, "article:tag", "og:article:tag"),
            [t for v in _m_all(meta, "news_keywords", "keywords") for t in _jsonld_list(v)],
            [t for v in _m_all(meta, "parsely-tags", "sailthru.tags") for t in _jsonld_list(v)],
        )
        or []
    )
    image = _first(
        _absolute(_jsonld_url(ld.get("image"), ids), base),
        _absolute(
            _m(
                meta,
                "og:image:secure_url",
                "og:image",
                "og:image:url",
                "twitter:image",
                "twitter:image:src",
            ),
            base,
        ),
        _absolute(meta.image_src, base),
    )
    description = _first(
        _clean(ld.get("description")),
        _m(meta, "og:description", "twitter:description", "description", "dc.description"),
    )

    text = _rule_body(tree, rules.body_selector) or _body_text(tree, url, hints)

    if not title or not published or not authors:
        fallback = _trafilatura_metadata(tree, url)
        if fallback is not None:
            fallback_title = _clean(fallback.title)
            if not title and fallback_title:
                title = strip_site_suffix(fallback_title, site_names, aggressive=True)
            authors = authors or _authors_from([a for a in (fallback.author or "").split(";") if a])
            date_only = parse_date(fallback.date, tz) if fallback.date else None
            if not published and date_only is not None:
                hint_date = _aware(hints.published, tz) if hints else None
                same_day = hint_date is not None and hint_date.date() == date_only.date()
                published = hint_date if same_day else date_only

    if hints is not None:
        title = title or _clean(hints.title)
        authors = authors or _authors_from(hints.authors)
        published = published or (_aware(hints.published, tz))
        updated = updated or (_aware(hints.updated, tz))
        description = description or _clean(_strip_tags(hints.summary))
        tags = tags or _dedupe(c for c in (_clean(c) for c in hints.categories) if c)

    body, flat_posts = split_flattened_posts(
        drop_boilerplate_paragraphs(repair_text(drop_leading_title(text, title)))
    )
    lang = lang or detect_language(body) or normalize_language(language)
    return Extracted(
        title=_repair_optional(title),
        text=body,
        authors=_dedupe(a for a in (repair_text(a) for a in authors) if a),
        published_at=published,
        updated_at=updated,
        language=lang,
        canonical_url=canonical,
        section=_repair_optional(section),
        tags=_dedupe(t for t in (repair_text(t) for t in tags) if t),
        image=image,
        description=_repair_optional(description),
        posts=dedupe_posts(posts + flat_posts),
    )
