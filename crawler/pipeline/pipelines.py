"""The item pipeline: fetched page → extracted, repaired, fingerprinted record → storage.

Extraction and record building are pure (:func:`build_record`); only :class:`StorePipeline`
touches the database, in short batched transactions. The extraction stack (trafilatura, the
topic matchers) is imported on first use, so a poll that finds nothing new never loads it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from crawler.config import Source
from crawler.identity.hashing import content_hash
from crawler.identity.urls import canonicalize_url, same_site
from crawler.items import Extracted, RawPage
from crawler.pipeline.workers import WorkerError, shared_pool
from storage.records import compress_html
from storage.types import ArticleRecord

log = logging.getLogger(__name__)

BATCH_SIZE = 25
MIN_TEXT_CHARS = 50
"""Less extracted text than this is navigation or an error page, not an article."""
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


class NotAnArticle(ValueError):
    """The page cannot become an article (not HTML, no text); the reason is one line."""


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
    """Turn an extracted page into the record storage keeps (feed hints already applied)."""
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
        url=page.url,
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

    ctype = page.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in HTML_TYPES:
        raise NotAnArticle(f"not an HTML page ({ctype})")
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


class StorePipeline:
    """Extracts each page and writes records in batches through the spider's store."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.batch: list[ArticleRecord] = []

    @classmethod
    def from_crawler(cls, crawler) -> StorePipeline:
        return cls(crawler)

    @property
    def spider(self):
        return self.crawler.spider

    async def process_item(self, item):
        if not isinstance(item, RawPage):
            return item
        spider = self.spider
        try:
            record = await shared_pool().process(item, spider.source)
        except NotAnArticle as exc:
            spider.counts.errors += 1
            spider.note(f"not an article: {item.final_url}: {exc}")
            log.warning("source %s: %s: %s", spider.source.name, item.final_url, exc)
            return None
        except WorkerError as exc:
            spider.counts.errors += 1
            spider.note(f"extraction failed: {item.final_url}: {exc}")
            log.error(
                "source %s: extraction failed for %s: %s", spider.source.name, item.final_url, exc
            )
            return None
        except Exception:
            spider.counts.errors += 1
            log.exception("source %s: extraction failed for %s", spider.source.name, item.final_url)
            return None
        self.batch.append(record)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()
        return None

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        spider = self.spider
        batch, self.batch = self.batch, []
        try:
            results = spider.store.store(batch)
        except Exception as exc:
            from storage.db import one_line  # here: workers import this module, not SQLAlchemy

            spider.counts.errors += len(batch)
            spider.fail(f"storage error: {one_line(exc)}")
            log.exception("source %s: could not store %d articles", spider.source.name, len(batch))
            return
        for result in results:
            if result.outcome == "new":
                spider.counts.new += 1
            elif result.outcome == "updated":
                spider.counts.updated += 1
            elif result.outcome == "error":
                spider.counts.errors += 1
            elif result.outcome == "skipped":
                spider.counts.skipped += 1
            else:
                spider.counts.duplicates += 1
