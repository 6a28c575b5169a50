"""Which candidate wins for each article field, and the fallbacks that fill what is missing.

The priority for every field is JSON-LD, then OpenGraph/``article:*``, then other meta tags,
then visible markup; trafilatura's own metadata and the feed entry's hints only fill fields the
page left empty. Each priority order is written once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata

from crawler.articles.dates import in_zone, parse_date, url_date
from crawler.articles.extraction.jsonld import jsonld_list, jsonld_names, jsonld_url, resolve
from crawler.articles.extraction.metadata import (
    MODIFIED_XPATHS,
    PUBLISHED_XPATHS,
    PageMeta,
    authors_from,
    byline_authors,
    first_date,
    normalize_language,
    page_mentions_day,
    strip_site_suffix,
    text_date,
    title_from,
    visible_date,
)
from crawler.articles.extraction.values import clean, dedupe, first
from crawler.articles.html import fragment_text
from crawler.identity.urls import absolute_url
from crawler.items import FeedEntry


@dataclass(slots=True)
class ArticleFields:
    """An article's metadata as read so far; later steps fill only what is still missing."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    date_source: str = "none"
    """Where ``published`` came from: one of ``storage.types.DATE_SOURCES``."""
    updated: datetime | None = None
    canonical: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    description: str | None = None


def _link(value: Any, base: str) -> str | None:
    """A metadata value (any JSON type) read as a link with the crawler's one URL rule."""
    return absolute_url(clean(value), base)


def declared_language(meta: PageMeta) -> str | None:
    """The language the page declares: ``<html lang>``, ``og:locale``, JSON-LD, meta tags."""
    in_language = meta.jsonld.get("inLanguage")
    return first(
        normalize_language(meta.html_lang),
        normalize_language(meta.value("og:locale")),
        normalize_language(in_language if isinstance(in_language, str) else None),
        normalize_language(meta.value("content-language", "language", "dc.language")),
    )


def site_names(meta: PageMeta) -> list[str]:
    """Names the site goes by, to strip from the end of titles."""
    publisher = resolve(meta.jsonld.get("publisher"), meta.jsonld_ids)
    names = (
        meta.value("og:site_name", "application-name"),
        clean(publisher.get("name")) if isinstance(publisher, dict) else None,
    )
    return [n for n in names if n]


def _authors(meta: PageMeta, tree: HtmlElement, names: list[str]) -> list[str]:
    ld = meta.jsonld
    return (
        authors_from(jsonld_names(ld.get("author") or ld.get("creator"), meta.jsonld_ids), names)
        or authors_from(meta.values("article:author", "og:article:author"), names)
        or authors_from(
            meta.values(
                "author",
                "parsely-author",
                "sailthru.author",
                "dc.creator",
                "dcterms.creator",
                "byl",
            ),
            names,
        )
        or byline_authors(tree)
    )


def _published(
    meta: PageMeta, tree: HtmlElement, tz: tzinfo | None, dayfirst: bool, now: datetime | None
) -> tuple[datetime | None, str]:
    """The page's own publication date and where it was read: JSON-LD, meta tags, then markup
    and visible text ("page")."""
    found = first_date(
        [meta.jsonld.get("datePublished"), meta.jsonld.get("dateCreated")], tz, dayfirst
    )
    if found is not None:
        return found, "jsonld"
    candidates = [
        meta.value("article:published_time", "og:article:published_time", "og:published_time"),
        meta.value(
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
    ]
    found = first_date(candidates, tz, dayfirst)
    if found is not None:
        return found, "meta"
    found = visible_date(tree, PUBLISHED_XPATHS, tz, dayfirst) or text_date(tree, tz, dayfirst, now)
    return found, "page" if found is not None else "none"


def _updated(
    meta: PageMeta, tree: HtmlElement, tz: tzinfo | None, dayfirst: bool
) -> datetime | None:
    candidates = [
        meta.jsonld.get("dateModified"),
        meta.value("article:modified_time", "og:article:modified_time", "og:updated_time"),
        meta.value(
            "datemodified",
            "dc.date.modified",
            "dcterms.modified",
            "last-modified",
            "article.updated",
        ),
    ]
    return first_date(candidates, tz, dayfirst) or visible_date(tree, MODIFIED_XPATHS, tz, dayfirst)


def _canonical(meta: PageMeta, base: str) -> str | None:
    ld, ids = meta.jsonld, meta.jsonld_ids
    return first(
        _link(meta.canonical, base),
        _link(meta.value("og:url"), base),
        _link(jsonld_url(ld.get("mainEntityOfPage"), ids) or clean(ld.get("url")), base),
    )


def _section(meta: PageMeta) -> str | None:
    return first(
        first(*jsonld_list(meta.jsonld.get("articleSection"))),
        meta.value(
            "article:section",
            "og:article:section",
            "parsely-section",
            "section",
            "sailthru.section",
        ),
    )


def _tags(meta: PageMeta) -> list[str]:
    found = first(
        jsonld_list(meta.jsonld.get("keywords")),
        meta.values("article:tag", "og:article:tag"),
        [t for v in meta.values("news_keywords", "keywords") for t in jsonld_list(v)],
        [t for v in meta.values("parsely-tags", "sailthru.tags") for t in jsonld_list(v)],
    )
    return dedupe(found or [])


def _image(meta: PageMeta, base: str) -> str | None:
    return first(
        _link(jsonld_url(meta.jsonld.get("image"), meta.jsonld_ids), base),
        _link(
            meta.value(
                "og:image:secure_url",
                "og:image",
                "og:image:url",
                "twitter:image",
                "twitter:image:src",
            ),
            base,
        ),
        _link(meta.image_src, base),
    )


def _description(meta: PageMeta) -> str | None:
    return first(
        clean(meta.jsonld.get("description")),
        meta.value("og:description", "twitter:description", "description", "dc.description"),
    )


def read_fields(
    tree: HtmlElement,
    meta: PageMeta,
    url: str,
    names: list[str],
    *,
    tz: tzinfo | None,
    dayfirst: bool,
    now: datetime | None = None,
) -> ArticleFields:
    """Every field from the page itself; ``names`` are the site's names (:func:`site_names`).

    ``now`` is the fetch time, for dates the page writes relative to it ("hace 3 horas").
    """
    base = _link(meta.base, url) or url
    published, date_source = _published(meta, tree, tz, dayfirst, now)
    return ArticleFields(
        title=title_from(meta, names),
        authors=_authors(meta, tree, names),
        published=published,
        date_source=date_source,
        updated=_updated(meta, tree, tz, dayfirst),
        canonical=_canonical(meta, base),
        section=_section(meta),
        tags=_tags(meta),
        image=_image(meta, base),
        description=_description(meta),
    )


def _trafilatura_metadata(tree: HtmlElement, url: str) -> Any:
    try:
        return extract_metadata(tree, url)
    except (ValueError, TypeError, etree.LxmlError):
        return None


def fill_from_trafilatura(
    fields: ArticleFields,
    tree: HtmlElement,
    url: str,
    names: list[str],
    *,
    tz: tzinfo | None,
    dayfirst: bool,
    hints: FeedEntry | None,
) -> None:
    """Title, authors and date from trafilatura's metadata heuristics, where still missing.

    trafilatura's date is a guess that may come from the URL or default to 1 January of a year
    in the footer, so it is taken only when the page itself writes that day. It has no time:
    when the hint's timestamp falls on the same day it is the more precise value of the same
    date, so it is taken instead. Skipped when nothing it could fill is missing, because the
    heuristics cost a walk over the whole tree.
    """
    if fields.title and fields.published and fields.authors:
        return
    fallback = _trafilatura_metadata(tree, url)
    if fallback is None:
        return
    fallback_title = clean(fallback.title)
    if not fields.title and fallback_title:
        fields.title = strip_site_suffix(fallback_title, names, aggressive=True)
    fields.authors = fields.authors or authors_from(
        [a for a in (fallback.author or "").split(";") if a]
    )
    date_only = parse_date(fallback.date, tz) if fallback.date else None
    if fields.published or date_only is None:
        return
    if not page_mentions_day(tree, date_only.date(), tz, dayfirst):
        return
    hint_date = in_zone(hints.published, tz) if hints else None
    if hints is not None and hint_date is not None and hint_date.date() == date_only.date():
        fields.published, fields.date_source = hint_date, hints.origin
    else:
        fields.published, fields.date_source = date_only, "page"


def hint_tags(hints: FeedEntry) -> list[str]:
    """The feed entry's categories, cleaned and de-duplicated."""
    return dedupe(c for c in (clean(c) for c in hints.categories) if c)


def fill_from_hints(fields: ArticleFields, hints: FeedEntry, tz: tzinfo | None) -> None:
    """Whatever the page left empty, from the feed entry that linked to it."""
    fields.title = fields.title or clean(hints.title)
    fields.authors = fields.authors or authors_from(hints.authors)
    if fields.published is None and hints.published is not None:
        fields.published, fields.date_source = in_zone(hints.published, tz), hints.origin
    fields.updated = fields.updated or in_zone(hints.updated, tz)
    fields.description = fields.description or clean(fragment_text(hints.summary))
    fields.tags = fields.tags or hint_tags(hints)


def fill_from_url(fields: ArticleFields, url: str, tz: tzinfo | None) -> None:
    """The day the URL path names (``/2025/12/11/``), when nothing else dated the page."""
    if fields.published is None:
        fields.published = url_date(url, tz)
        fields.date_source = "url" if fields.published is not None else "none"
