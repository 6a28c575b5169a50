"""Embedded social posts (X/Twitter, Instagram, Facebook, YouTube, TikTok) as structured records.

Official statements reach the press as embedded posts, and analysts quote them on their own, so a
post is kept as a record (platform, author, handle, date, url, text) rather than mixed into the
article body. Two shapes are handled: embed markup still in the page (read from the tree before
extraction prunes it), and the flattened text a CMS or a copy leaves behind
("… pic.twitter.com/ON1oCnEQh1 — Relaciones Exteriores (@SRE_mx) December 11, 2025").
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml.html import HtmlElement

from crawler.articles.dates import parse_date
from crawler.articles.html import parse_html_or_empty
from crawler.articles.textrepair import repair_text

_MONTHS_EN = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_MONTHS_ES = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    "|noviembre|diciembre"
)
_DATE = (
    rf"(?:(?:{_MONTHS_EN})\.? \d{{1,2}},? \d{{4}}"
    rf"|\d{{1,2}} (?:de )?(?:{_MONTHS_ES})\.?,? (?:de |del )?\d{{4}})"
)
_SIGNATURE = re.compile(
    r"^(?P<text>.*?)\s*(?P<pic>pic\.twitter\.com/\w+)?\s*[—–]\s*"
    r"(?P<author>[^\n—–()]{1,80}?)\s*\(@(?P<handle>\w{1,30})\)\s*"
    rf"(?P<date>{_DATE})\s*$",
    re.DOTALL | re.IGNORECASE,
)
_TAIL_SIGNATURE = re.compile(
    r"[—–]\s*(?P<author>[^\n—–()]{1,80}?)\s*\(@(?P<handle>\w{1,30})\)", re.IGNORECASE
)
_PIC = re.compile(r"\s*\bpic\.twitter\.com/\w+")
_SHARED_BY = re.compile(
    r"(?:A post shared by|Una publicación compartida por|Publicación compartida por)\s+"
    r"(?P<author>[^(@\n]*?)\s*\(@(?P<handle>[\w.]+)\)",
    re.IGNORECASE,
)
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n")

_EMBED_XPATH = etree.XPath(
    "//blockquote[contains(@class,'twitter-tweet') or contains(@class,'twitter-video')"
    " or contains(@class,'instagram-media') or contains(@class,'tiktok-embed')]"
    " | //div[contains(@class,'fb-post') or contains(@class,'fb-video')]"
    " | //iframe | //embed"
)


def _post(
    platform: str,
    *,
    author: str | None = None,
    handle: str | None = None,
    date: str | None = None,
    url: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    return {
        "platform": platform,
        "author": repair_text(author or "") or None,
        "handle": (handle or "").lstrip("@") or None,
        "date": date,
        "url": url,
        "text": repair_text(_PIC.sub("", text or "")) or None,
    }


def iso_date(value: str | None) -> str | None:
    """A post's date as ISO 8601: an aware time when the markup gives one, else the bare date.

    "December 11, 2025" carries no time or zone, so inventing midnight UTC would shift the
    post to the previous evening in Mexico; the calendar date is what the page actually says.
    """
    if not value or not value.strip():
        return None
    parsed = parse_date(value.strip(), None, dayfirst=not value.strip()[:1].isalpha())
    if parsed is None:
        return None
    has_time = bool(re.search(r"\d{1,2}:\d{2}", value))
    if has_time or parsed.timetz().replace(tzinfo=None) != time(0, 0):
        return parsed.isoformat()
    return parsed.date().isoformat()


def _clean_url(url: str | None, base: str) -> str | None:
    if not url:
        return None
    absolute = urljoin(base, url.strip())
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https"):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _text(element: Any) -> str:
    return " ".join((element.text_content() or "").split()) if element is not None else ""


def _twitter(el: HtmlElement, base: str) -> dict[str, Any]:
    paragraphs = el.findall(".//p")
    text = "\n".join(_text(p) for p in paragraphs) if paragraphs else ""
    whole = _text(el)
    author = handle = None
    signature = _TAIL_SIGNATURE.search(whole[len(text) :] if text else whole)
    if signature:
        author, handle = signature.group("author"), signature.group("handle")
    url = date = None
    for link in reversed(el.findall(".//a")):
        href = link.get("href") or ""
        if "/status/" in href:
            url, date = _clean_url(href, base), iso_date(_text(link))
            break
    if handle is None and url:
        handle = urlsplit(url).path.strip("/").split("/")[0] or None
    if not text:
        text = _TAIL_SIGNATURE.split(whole)[0] if signature else whole
    return _post("twitter", author=author, handle=handle, date=date, url=url, text=text)


def _instagram(el: HtmlElement, base: str) -> dict[str, Any]:
    url = _clean_url(el.get("data-instgrm-permalink") or el.get("cite"), base)
    if url is None:
        link = next(
            (a.get("href") for a in el.iter("a") if "instagram.com" in (a.get("href") or "")), None
        )
        url = _clean_url(link, base)
    whole = _text(el)
    shared = _SHARED_BY.search(whole)
    texts = [_text(p) for p in el.iter("p")]
    texts = [t for t in texts if t and not _SHARED_BY.search(t)]
    stamp = next((t.get("datetime") or _text(t) for t in el.iter("time")), None)
    return _post(
        "instagram",
        author=shared.group("author") if shared else None,
        handle=shared.group("handle") if shared else None,
        date=iso_date(stamp),
        url=url,
        text="\n".join(texts),
    )


def _facebook(el: HtmlElement, base: str) -> dict[str, Any]:
    url = _clean_url(el.get("data-href") or el.get("cite"), base)
    texts = [_text(p) for p in el.iter("p")]
    author = date = None
    links = [a for a in el.iter("a")]
    for a in links:
        href = a.get("href") or ""
        if url is None and ("/posts/" in href or "/videos/" in href or "permalink" in href):
            url = _clean_url(href, base)
    whole = _text(el)
    posted = re.search(r"(?:Posted by|Publicado por)\s+(.+?)\s+(?:on|el)\s+(.+)$", whole)
    if posted:
        author, date = posted.group(1), iso_date(posted.group(2))
    handle = None
    if url:
        first = urlsplit(url).path.strip("/").split("/")[0]
        handle = first if first and first not in ("permalink.php", "watch", "plugins") else None
    return _post(
        "facebook", author=author, handle=handle, date=date, url=url, text="\n".join(texts)
    )


def _tiktok(el: HtmlElement, base: str) -> dict[str, Any]:
    url = _clean_url(el.get("cite"), base)
    handle = None
    for a in el.iter("a"):
        title = (a.get("title") or _text(a)).strip()
        if title.startswith("@"):
            handle = title
            break
    if handle is None and url:
        first = urlsplit(url).path.strip("/").split("/")[0]
        handle = first if first.startswith("@") else None
    texts = [_text(p) for p in el.iter("p")]
    return _post("tiktok", handle=handle, url=url, text="\n".join(t for t in texts if t))


def _frame(el: HtmlElement, base: str) -> dict[str, Any] | None:
    """iframes/embeds of the known platforms; anything else (ads, maps) is not a post."""
    src = _clean_url(el.get("src") or el.get("data-src"), base)
    raw = el.get("src") or el.get("data-src") or ""
    if not src:
        return None
    host = (urlsplit(src).hostname or "").lower().removeprefix("www.").removeprefix("m.")
    path = urlsplit(src).path
    title = el.get("title")
    if host in ("youtube.com", "youtube-nocookie.com", "youtu.be"):
        video = path.rstrip("/").rsplit("/", 1)[-1]
        url = f"https://www.youtube.com/watch?v={video}" if video and video != "embed" else src
        return _post("youtube", url=url, text=title)
    if host == "facebook.com":
        query = parse_qs(urlsplit(raw).query)
        target = unquote(query["href"][0]) if query.get("href") else ""
        href = _clean_url(target, base) if target.startswith(("http://", "https://")) else None
        handle = None
        if href and (urlsplit(href).hostname or "").endswith("facebook.com"):
            first = urlsplit(href).path.strip("/").split("/")[0]
            handle = first if first and first not in ("permalink.php", "watch") else None
        return _post("facebook", handle=handle, url=href, text=title)
    if host in ("twitter.com", "x.com", "platform.twitter.com"):
        return _post("twitter", url=src, text=title)
    if host == "instagram.com":
        return _post(
            "instagram", url=src.removesuffix("/embed").removesuffix("/embed/"), text=title
        )
    if host == "tiktok.com":
        return _post("tiktok", url=src, text=title)
    return None


def _classify(el: HtmlElement, base: str) -> dict[str, Any] | None:
    tag = el.tag if isinstance(el.tag, str) else ""
    classes = el.get("class") or ""
    if tag in ("iframe", "embed"):
        return _frame(el, base)
    if "twitter-" in classes:
        return _twitter(el, base)
    if "instagram-media" in classes:
        return _instagram(el, base)
    if "tiktok-embed" in classes:
        return _tiktok(el, base)
    if "fb-post" in classes or "fb-video" in classes:
        return _facebook(el, base)
    return None


def extract_posts(tree_or_html: HtmlElement | str | bytes, url: str) -> list[dict[str, Any]]:
    """Embedded posts of a page, in document order; nested embeds count once (the outermost).

    Each post: ``platform, author, handle, date, url, text`` (None where the markup is silent),
    text repaired by :func:`repair_text`. The tree is not modified.
    """
    if isinstance(tree_or_html, str | bytes):
        if not tree_or_html.strip():
            return []
        try:
            tree = parse_html_or_empty(tree_or_html)
        except (etree.ParserError, ValueError):
            return []
    else:
        tree = tree_or_html
    found = _EMBED_XPATH(tree)
    chosen = [el for el in found if not any(a in found for a in el.iterancestors())]
    posts = [p for p in (_classify(el, url) for el in chosen) if p is not None]
    return dedupe_posts(posts)


def parse_flattened(paragraph: str) -> dict[str, Any] | None:
    """A post record from one paragraph ending in ``— Name (@handle) Month D, YYYY``, else None."""
    match = _SIGNATURE.match(paragraph.strip())
    if match is None or not match.group("text").strip():
        return None
    pic = match.group("pic")
    return _post(
        "twitter",
        author=match.group("author"),
        handle=match.group("handle"),
        date=iso_date(match.group("date")),
        url=f"https://{pic}" if pic else None,
        text=match.group("text"),
    )


def split_flattened_posts(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Remove flattened-post paragraphs from a body; returns ``(body, posts)``.

    Paragraphs are separated by blank lines (the extractor's convention); kept paragraphs are
    rejoined the same way, so the body's paragraph structure survives.
    """
    kept: list[str] = []
    posts: list[dict[str, Any]] = []
    for paragraph in _PARAGRAPH_SPLIT.split(text):
        post = parse_flattened(paragraph)
        if post is None:
            kept.append(paragraph.strip())
        else:
            posts.append(post)
    if not posts:
        return text, []
    return "\n\n".join(p for p in kept if p), posts


def _key(post: dict[str, Any]) -> tuple[str, str, str]:
    text = re.sub(r"\W+", " ", (post.get("text") or "").lower()).strip()[:60]
    return (post["platform"], (post.get("handle") or "").lower(), text or (post.get("url") or ""))


def dedupe_posts(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeats (the same post embedded twice, or found both as markup and as flat text)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for post in posts:
        key = _key(post)
        if key not in seen:
            seen.add(key)
            out.append(post)
    return out
