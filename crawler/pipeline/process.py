"""The pure page -> record step: extract, repair, score, fingerprint one fetched page.

It runs in the extraction workers (``crawler.pipeline.workers``) or inline, never touches the
database, and says why a page is not an article by raising :class:`NotAnArticle`. The extraction
stack (trafilatura, the topic matchers) is imported on first use, so a poll that finds nothing
new never loads it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from crawler.config import Source
from crawler.identity.hashing import content_hash
from crawler.identity.urls import canonicalize_url, same_site
from crawler.items import Extracted, RawPage
from storage.records import compress_html
from storage.types import ArticleRecord

MIN_TEXT_CHARS = 50
"""Less extracted text than this is navigation or an error page, not an article."""
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


class NotAnArticle(ValueError):
    """The page cannot become an article (not HTML, no text); the reason is one line."""


class NoArticleEvidence(NotAnArticle):
    """A page a listing's link heuristic reached that shows no sign of being an article (a
    section front, an agenda, a pager): dropped as expected, counted as skipped, not an error."""


def needs_evidence(source: Source) -> bool:
    """Whether this source's pages must prove they are articles before they are stored: a
    listing without ``link_selector`` follows links only because they look like articles."""
    return source.kind == "listing" and not source.link_selector


def choose_canonical(declared: str | None, fetched: str) -> str:
    """The article's canonical URL: the page's own claim when it is credible, else where we got it.

    A rel=canonical on another site (syndicated copies point at the original) or at the site's
    home page (a common template bug) would merge distinct articles, so those claims are ignored.
    """
    fetched_c = canonicalize_url(fetched)
    if not declared:
        return fetched_c
    if declared.strip() in (fetched, fetched_c):
        return fetched_c
    try:
        declared_c = canonicalize_url(declared, base=fetched)
    except ValueError:
        return fetched_c
    d, f = urlsplit(declared_c), urlsplit(fetched_c)
    if d.scheme not in ("http", "https") or not same_site(declared_c, fetched_c, subdomains=False):
        return fetched_c
    if d.path in ("", "/") and f.path not in ("", "/"):
        return fetched_c
    return declared_c


def build_record(page: RawPage, source: Source, ex: Extracted, now: datetime) -> ArticleRecord:
    """Turn an extracted page into the record storage keeps (feed hints already applied).

    The record's ``url`` is the canonical one: a feed link's ``?utm_source=rss`` is the
    campaign's, not the article's, and search and export show ``url``. Every address that led
    here (the link as found, the URL a redirect ended at) stays in ``alt_urls``, so the article
    is still known by all of them and is not fetched again through any.
    """
    from crawler.analysis.scoring import analyze
    from crawler.identity.credits import credited_source
    from crawler.identity.fingerprint import sign

    title = (ex.title or (page.hints.title if page.hints else None) or "").strip()
    text = ex.text.strip()
    if len(text) < MIN_TEXT_CHARS:
        raise NotAnArticle(f"no article text found ({len(text)} characters)")
    canonical = choose_canonical(ex.canonical_url, page.final_url)
    alt = {page.url, page.final_url} - {canonical}
    title = title or text.split("\n", 1)[0][:200]
    analysis = analyze(title, text, posts=ex.posts)
    signature, shingle_count = sign(text)
    record = ArticleRecord(
        source=source.name,
        url=canonical,
        canonical_url=canonical,
        title=title,
        text=text,
        content_hash=content_hash(text),
        fetched_at=now,
        guid=page.hints.guid if page.hints else None,
        authors=list(ex.authors),
        published_at=ex.published_at,
        date_source=ex.date_source,
        updated_at=ex.updated_at,
        language=ex.language or source.language,
        section=ex.section,
        tags=list(ex.tags),
        image=ex.image,
        description=ex.description,
        raw_html_z=compress_html(page.body),
        alt_urls=sorted(alt),
        minhash=signature,
        shingle_count=shingle_count,
        credited_source=credited_source(text),
        posts=list(ex.posts),
        etag=page.headers.get("etag"),
        last_modified=page.headers.get("last-modified"),
        **analysis.as_dict(),
    )
    return apply_keep_policy(record, source.keep)


def apply_keep_policy(record: ArticleRecord, keep: str) -> ArticleRecord:
    """Under ``keep = "relevant"`` an off-topic article keeps only what identifies it.

    URL(s), title, dates, content hash and score stay, so the spiders never fetch it again and a
    later ``rescore`` can say what was dropped; text, raw HTML, posts and signatures do not.
    """
    if keep != "relevant" or record.relevant:
        return record
    record.kept = False
    record.text = ""
    record.raw_html = b""
    record.raw_html_z = None
    record.posts = []
    record.minhash = None
    record.description = None
    return record


def process_page(page: RawPage, source: Source, now: datetime | None = None) -> ArticleRecord:
    """Extract one fetched page into a record; raises :class:`NotAnArticle` with the reason."""
    from crawler.articles.extraction import ExtractRules, extract
    from crawler.articles.html import binary_kind

    ctype = page.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in HTML_TYPES:
        raise NotAnArticle(f"not an HTML page ({ctype})")
    binary = binary_kind(page.body)
    if binary is not None:
        raise NotAnArticle(f"not an HTML page: {binary} served as {ctype or 'no type'}")
    if needs_evidence(source):
        from crawler.articles.evidence import NOT_AN_ARTICLE, article_evidence

        if article_evidence(page.body, page.final_url) is None:
            raise NoArticleEvidence(NOT_AN_ARTICLE)
    rules = ExtractRules(
        body_selector=source.body_selector,
        title_selector=source.title_selector,
        date_selector=source.date_selector,
        remove_selectors=source.remove_selectors,
    )
    language = (page.hints.language if page.hints else None) or source.language
    now = now or datetime.now(UTC)
    ex = extract(
        page.body,
        page.final_url,
        tz=source.tzinfo,
        hints=page.hints,
        language=language,
        rules=rules,
        now=now,
    )
    return build_record(page, source, ex, now)
