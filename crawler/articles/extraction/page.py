"""Article extraction: one HTML page in, an :class:`Extracted` out, no I/O.

The page is decoded and parsed once; metadata is read from that tree in a fixed priority
(JSON-LD, OpenGraph/``article:*``, other meta tags, visible markup, trafilatura's metadata, feed
hints) and the body text comes from trafilatura run on the same tree. Embedded social posts are
read into ``Extracted.posts`` and then pruned before body extraction so tweet text does not mix
into the article's paragraphs; posts flattened into plain paragraphs are split out of the text
too. The language is the page's declaration, else what the text clearly is
(``crawler.articles.language``), else the feed's or source's configured language.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from crawler.articles.dates import dayfirst_for, in_zone
from crawler.articles.extraction.body import (
    body_text,
    drop_boilerplate_paragraphs,
    remove_embeds,
)
from crawler.articles.extraction.fields import (
    ArticleFields,
    declared_language,
    fill_from_hints,
    fill_from_trafilatura,
    fill_from_url,
    hint_tags,
    read_fields,
    site_names,
)
from crawler.articles.extraction.furniture import trim_furniture
from crawler.articles.extraction.metadata import authors_from, collect, normalize_language
from crawler.articles.extraction.rules import (
    ExtractRules,
    apply_removals,
    rule_body,
    rule_date,
    rule_text,
)
from crawler.articles.extraction.values import dedupe
from crawler.articles.html import fragment_text, parse_html
from crawler.articles.language import detect_language
from crawler.articles.posts import dedupe_posts, extract_posts, split_flattened_posts
from crawler.articles.textrepair import repair_text
from crawler.items import Extracted, FeedEntry


def _repair_optional(value: str | None) -> str | None:
    return repair_text(value) or None if value else None


def _from_hints_only(tz: tzinfo | None, hints: FeedEntry | None, language: str | None) -> Extracted:
    """No document to read: the record is what the feed entry said about the page."""
    if hints is None:
        return Extracted(title=None, text="", language=normalize_language(language))
    return Extracted(
        title=_repair_optional(hints.title),
        text=repair_text(fragment_text(hints.summary)),
        authors=authors_from(hints.authors),
        published_at=in_zone(hints.published, tz),
        date_source=hints.origin if hints.published else "none",
        updated_at=in_zone(hints.updated, tz),
        language=normalize_language(language),
        tags=hint_tags(hints),
    )


def _clean_body(text: str, title: str | None, section: str | None) -> str:
    """Repaired body without page furniture at its start and end (section label, headline,
    date line, byline, share bar, teaser block) or short promo/copyright paragraphs."""
    return drop_boilerplate_paragraphs(trim_furniture(repair_text(text), title, section))


def _record(
    fields: ArticleFields, body: str, language: str | None, posts: list[dict[str, Any]]
) -> Extracted:
    """The extraction result; free-text fields are passed through :func:`repair_text` here."""
    return Extracted(
        title=_repair_optional(fields.title),
        text=body,
        authors=dedupe(a for a in (repair_text(a) for a in fields.authors) if a),
        published_at=fields.published,
        date_source=fields.date_source,
        updated_at=fields.updated,
        language=language,
        canonical_url=fields.canonical,
        section=_repair_optional(fields.section),
        tags=dedupe(t for t in (repair_text(t) for t in fields.tags) if t),
        image=fields.image,
        description=_repair_optional(fields.description),
        posts=dedupe_posts(posts),
    )


def extract(
    html: bytes | str,
    url: str,
    *,
    tz: tzinfo | None = None,
    hints: FeedEntry | None = None,
    language: str | None = None,
    rules: ExtractRules | None = None,
    now: datetime | None = None,
) -> Extracted:
    """Extract title, body text and metadata from one article page.

    Naive timestamps are read in ``tz`` (the source's zone, UTC if None). ``hints`` from the feed
    fill only what the page itself does not provide. ``rules`` (per-site selectors) are applied
    first: their removals change the tree every later step sees, and what their selectors find
    wins over generic extraction. Title, text and the other free-text fields are passed through
    :func:`repair_text` here, once. ``now`` is the fetch time, for "hace 3 horas".
    """
    tree = parse_html(html)
    if tree is None:
        return _from_hints_only(tz, hints, language)

    rules = rules or ExtractRules()
    apply_removals(tree, rules.remove_selectors)
    rule_title = rule_text(tree, rules.title_selector)
    meta = collect(tree)
    posts = extract_posts(tree, url)
    remove_embeds(tree)

    page_language = declared_language(meta)
    dayfirst = dayfirst_for(page_language or normalize_language(language))
    names = site_names(meta)
    fields = read_fields(tree, meta, url, names, tz=tz, dayfirst=dayfirst, now=now)
    fields.title = rule_title or fields.title
    selected = rule_date(tree, rules.date_selector, tz, dayfirst)
    if selected is not None:
        fields.published, fields.date_source = selected, "page"
    text = rule_body(tree, rules.body_selector) or body_text(tree, url, hints)
    fill_from_trafilatura(fields, tree, url, names, tz=tz, dayfirst=dayfirst, hints=hints)
    if hints is not None:
        fill_from_hints(fields, hints, tz)
    fill_from_url(fields, url, tz)

    body, flat_posts = split_flattened_posts(_clean_body(text, fields.title, fields.section))
    found_language = page_language or detect_language(body) or normalize_language(language)
    return _record(fields, body, found_language, posts + flat_posts)
