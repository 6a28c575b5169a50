"""Listing pages (a section front, a press office's bulletin list): HTML in, article links out.

Pure functions of a page body and its URL. A source may name a ``link_selector`` (CSS, or XPath
when it starts with ``/`` or ``(``) and a ``next_selector``; without one, every link on the page
is run through :func:`looks_like_article_url`, a heuristic that prefers missing an odd article to
crawling tag, author and pagination pages forever. What it lets through is not stored on trust:
the pipeline keeps such a page only when the page itself shows article evidence
(:mod:`crawler.articles.evidence`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree
from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

from crawler.articles.dates import find_date, parse_date
from crawler.articles.html import parse_html_or_empty
from crawler.articles.selectors import compile_selector
from crawler.identity.urls import absolute_url, is_http_url, same_site

_NON_ARTICLE_SEGMENTS = frozenset(
    {
        "tag",
        "tags",
        "etiqueta",
        "etiquetas",
        "tema",
        "temas",
        "topic",
        "topics",
        "author",
        "authors",
        "autor",
        "autores",
        "autora",
        "columnista",
        "columnistas",
        "category",
        "categories",
        "categoria",
        "categorias",
        "seccion",
        "secciones",
        "section",
        "page",
        "pagina",
        "paginas",
        "feed",
        "feeds",
        "rss",
        "wp-admin",
        "wp-login.php",
        "wp-content",
        "wp-includes",
        "wp-json",
        "login",
        "logout",
        "signin",
        "registro",
        "register",
        "cuenta",
        "account",
        "search",
        "buscar",
        "busqueda",
        "buscador",
        "suscripcion",
        "suscribete",
        "newsletter",
        "contacto",
        "contact",
        "privacidad",
        "aviso-de-privacidad",
        "privacy",
        "terminos",
        "terms",
        "cdn-cgi",
    }
)
_SEARCH_PARAMS = frozenset(
    {"s", "q", "search", "buscar", "page", "paged", "pagina", "pag", "pg", "start", "offset"}
)
_PAGINATION = re.compile(r"^(?:page|pagina|pag|p)[-_]?(\d{1,4})(?:\.[a-z]{2,5})?$")
"""A listing's next pages named by number: ``pagina-2.html``, ``page2``, ``p-3``."""
_PAGE_NUMBER = re.compile(
    r"(?:^|[/?&_-])(?:page|pagina|pag|paged|pg|p)[/=_-]?(\d{1,4})(?=$|[/.?&])"
)
_ASSET_EXTENSIONS = frozenset(
    {
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "avif",
        "svg",
        "ico",
        "bmp",
        "css",
        "js",
        "json",
        "xml",
        "rss",
        "atom",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "zip",
        "gz",
        "rar",
        "mp3",
        "mp4",
        "m4a",
        "wav",
        "webm",
        "mov",
        "avi",
        "woff",
        "woff2",
        "ttf",
        "eot",
        "txt",
    }
)
_INDEX_PAGE = re.compile(r"^(index|default|inicio|home)\.(html?|php|aspx?|jsp)$")
_DATE_IN_PATH = re.compile(r"(?:^|/)(?:19|20)\d{2}[/-](?:0?[1-9]|1[0-2])(?:[/-]|$)|(?:19|20)\d{6}")
_NUMERIC_ID = re.compile(r"\d{4,}")
_NEXT_TEXT = re.compile(
    r"^\s*(siguiente|siguientes|próxima|proxima|más antiguas|mas antiguas|anteriores|"
    r"next|older|older posts|older entries)\b|^\s*[»›→]\s*$",
    re.IGNORECASE,
)


def _base_url(tree: Any, url: str) -> str:
    for href in tree.xpath("//base/@href"):
        cleaned = strip_html5_whitespace(str(href))
        if cleaned:
            try:
                return urljoin(url, cleaned)
            except ValueError:
                return url
    return url


def _hrefs(matches: list[Any]) -> list[str]:
    """Hrefs of matched nodes: a string result is the href itself, an element gives its own
    ``href`` or, when it is a wrapper (``h2``, ``article``), those of the links inside it."""
    hrefs: list[str] = []
    for match in matches:
        if isinstance(match, str):
            hrefs.append(str(match))
        elif isinstance(match, etree._Element) and isinstance(match.tag, str):
            own = match.get("href")
            if own is not None:
                hrefs.append(own)
            else:
                hrefs.extend(str(h) for h in match.xpath(".//a/@href | .//area/@href"))
    return hrefs


def _compile_patterns(patterns: Sequence[str], name: str) -> list[re.Pattern[str]]:
    compiled: list[re.Pattern[str]] = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"invalid {name} pattern {pattern!r}: {exc}") from exc
    return compiled


def extract_links(
    html: bytes | str,
    url: str,
    *,
    link_selector: str | None = None,
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
) -> list[str]:
    """Article links of a listing page, absolute and de-duplicated, in page order.

    ``allow``/``deny`` are regexes searched in the absolute URL; a URL must match some ``allow``
    (when any is given) and no ``deny``. Without ``link_selector`` the heuristic
    :func:`looks_like_article_url` decides which links are articles.
    """
    allow_res = _compile_patterns(allow, "allow")
    deny_res = _compile_patterns(deny, "deny")
    matcher = compile_selector(link_selector) if link_selector else None
    tree = parse_html_or_empty(html)
    base = _base_url(tree, url)
    matches = matcher(tree) if matcher else tree.xpath("//a[@href] | //area[@href]")
    links: list[str] = []
    seen: set[str] = set()
    for href in _hrefs(matches):
        absolute = absolute_url(href, base)
        if absolute is None or absolute in seen:
            continue
        if matcher is None and not looks_like_article_url(absolute, url):
            continue
        if allow_res and not any(p.search(absolute) for p in allow_res):
            continue
        if any(p.search(absolute) for p in deny_res):
            continue
        seen.add(absolute)
        links.append(absolute)
    return links


_CARD_DEPTH = 5
_CARD_MAX_CHARS = 600


def link_dates(
    html: bytes | str,
    url: str,
    *,
    tz: tzinfo | None = None,
    dayfirst: bool = True,
    now: datetime | None = None,
) -> dict[str, datetime]:
    """The date a listing page shows next to each link: absolute URL -> publication time.

    A press office's bulletin list prints each communiqué's date in the same list item, table
    row or card as its link; that date becomes the article's hint, as a feed entry's does. A
    card is the nearest ancestor of the link that holds no link to another article; only a
    full date counts (``<time datetime>`` first, then the card's text).
    """
    tree = parse_html_or_empty(html)
    base = _base_url(tree, url)
    found: dict[str, datetime] = {}
    for anchor in tree.xpath("//a[@href]"):
        absolute = urldefrag(absolute_url(anchor.get("href"), base) or "").url
        if not absolute or absolute in found:
            continue
        card = _card(anchor, absolute, base)
        when = _card_date(card, tz, dayfirst, now) if card is not None else None
        if when is not None:
            found[absolute] = when
    return found


def _card(anchor: Any, link: str, base: str) -> Any | None:
    """The largest ancestor (a few levels up) whose links all lead to ``link``."""
    card = None
    node = anchor.getparent()
    for _ in range(_CARD_DEPTH):
        if node is None or node.tag in ("body", "html"):
            break
        hrefs = {urldefrag(absolute_url(h, base) or "").url for h in node.xpath(".//a/@href")}
        if hrefs - {link, ""} or len(node.text_content()) > _CARD_MAX_CHARS:
            break
        card = node
        node = node.getparent()
    return card


def _card_date(
    card: Any, tz: tzinfo | None, dayfirst: bool, now: datetime | None
) -> datetime | None:
    for stamp in card.xpath(".//time/@datetime"):
        parsed = parse_date(str(stamp), tz, dayfirst=dayfirst)
        if parsed is not None:
            return parsed
    text = " ".join(t.strip() for t in card.xpath(".//text()") if t.strip())
    return find_date(text, tz, dayfirst=dayfirst, now=now)


def next_page(html: bytes | str, url: str, next_selector: str | None) -> str | None:
    """The absolute URL of the next listing page, or None.

    With ``next_selector`` only its first usable match counts. Without one, ``rel="next"``
    (``<link>`` or ``<a>``) is trusted, then a link whose text reads "Siguiente"/"Next"/"»",
    then a numbered pager's link to the following page (``2`` on page one, its URL carrying
    the number, as press offices write ``pagina-2.html``). A link back to the page itself is
    never "next" (that would loop).
    """
    tree = parse_html_or_empty(html)
    base = _base_url(tree, url)
    if next_selector:
        candidates = _hrefs(compile_selector(next_selector)(tree))
    else:
        candidates = _rel_next(tree) + _text_next(tree) + _numbered_next(tree, url)
    current = urldefrag(url).url
    for href in candidates:
        absolute = absolute_url(href, base)
        if absolute and absolute != current and absolute != safe_url_string(current):
            return absolute
    return None


def _rel_next(tree: Any) -> list[str]:
    found: list[str] = []
    for node in tree.xpath("//link[@href][@rel] | //a[@href][@rel]"):
        if "next" in (node.get("rel") or "").lower().split():
            found.append(node.get("href"))
    return found


def _text_next(tree: Any) -> list[str]:
    found: list[str] = []
    for node in tree.xpath("//a[@href]"):
        label = " ".join(node.text_content().split()) or node.get("aria-label") or ""
        if _NEXT_TEXT.search(label):
            found.append(node.get("href"))
    return found


def page_number(url: str) -> int:
    """The listing page a URL names (``/pagina-2.html``, ``?page=3``, ``/page/4/``); 1 when none."""
    parts = urlsplit(url)
    found = _PAGE_NUMBER.findall(parts.path.lower() + "?" + parts.query.lower())
    return int(found[-1]) if found else 1


def _numbered_next(tree: Any, url: str) -> list[str]:
    """Links of a numbered pager to the page after ``url``'s: their text is that number and
    their URL names it (so a "2 comments" or a day-of-month link is not taken for it)."""
    wanted = str(page_number(url) + 1)
    found: list[str] = []
    for node in tree.xpath("//a[@href]"):
        label = " ".join(node.text_content().split())
        if label == wanted and wanted in node.get("href", ""):
            found.append(node.get("href"))
    return found


def looks_like_article_url(url: str, site_url: str) -> bool:
    """Heuristic: is ``url`` (absolute) probably an article of the site at ``site_url``?

    Yes when it is on the same site, is not the listing page itself, a static asset, a search,
    or under a tag/author/category/pagination/feed/admin/login path, and either carries a date
    (``/2025/12/``), a slug of three or more words or a long numeric id, or sits at least two
    path segments deep without being an ``index.html``.
    """
    if not is_http_url(url) or not is_http_url(site_url):
        return False
    parts = urlsplit(url)
    site = urlsplit(site_url)
    if not same_site((parts.hostname or "").lower(), (site.hostname or "").lower()):
        return False
    if urldefrag(url).url.rstrip("/") == urldefrag(site_url).url.rstrip("/"):
        return False
    segments = [s.lower() for s in parts.path.split("/") if s]
    if not segments:
        return False
    if any(s in _NON_ARTICLE_SEGMENTS for s in segments):
        return False
    query_keys = {pair.split("=", 1)[0].lower() for pair in parts.query.split("&") if pair}
    if query_keys & _SEARCH_PARAMS:
        return False
    last = segments[-1]
    extension = last.rsplit(".", 1)[1] if "." in last else ""
    if extension in _ASSET_EXTENSIONS:
        return False
    if _INDEX_PAGE.match(last) or _PAGINATION.match(last):
        return False
    stem = last.rsplit(".", 1)[0] if extension else last
    if _DATE_IN_PATH.search(parts.path) or _NUMERIC_ID.search(stem):
        return True
    if len([w for w in re.split(r"[-_]+", stem) if w]) >= 3:
        return True
    return len(segments) >= 2
