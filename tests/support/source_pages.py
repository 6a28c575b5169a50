"""Saved pages of the catalog's sources, read the way a crawl reads them.

Each ``tests/sources/test_<name>.py`` checks one catalog source against a page saved under
``tests/fixtures/<name>/`` (``listing.html`` or ``feed.xml`` and ``article.html``), so a changed
selector, allow/deny rule or timezone in the catalog shows up as a failing field, not as a quiet
empty crawl. The helpers apply the source's own settings exactly as the spiders and the pipeline
do; the pages are written in each site's layout because tests cannot fetch the web.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from crawler.articles.extraction import ExtractRules, extract
from crawler.config import Source, default_catalog_path, load_config
from crawler.documents.listing import extract_links
from crawler.items import Extracted

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SOURCES_TESTS = Path(__file__).resolve().parents[1] / "sources"
SELECTOR_FIELDS = (
    "link_selector",
    "next_selector",
    "body_selector",
    "title_selector",
    "date_selector",
    "remove_selectors",
)


@cache
def catalog_source(name: str) -> Source:
    """The source as the packaged catalog defines it (not a copy), so catalog edits are tested."""
    return load_config(default_catalog_path()).get(name)


def has_page_rules(source: Source) -> bool:
    """Whether the source's articles are found or read by per-site rules that a saved page checks:
    any selector, or a listing (its links come from the page, filtered by allow/deny)."""
    return source.kind == "listing" or any(getattr(source, f) for f in SELECTOR_FIELDS)


def source_test_path(name: str) -> Path:
    """``tests/sources/test_<name>.py``, with the slug's dashes as underscores (module names)."""
    return SOURCES_TESTS / f"test_{name.replace('-', '_')}.py"


def saved_page(name: str, filename: str) -> bytes:
    return (FIXTURES / name / filename).read_bytes()


def listing_links(source: Source, filename: str = "listing.html") -> list[str]:
    """Article links of the saved listing page, with the source's selector and allow/deny."""
    return extract_links(
        saved_page(source.name, filename),
        source.url,
        link_selector=source.link_selector,
        allow=source.allow,
        deny=source.deny,
    )


def read_article(source: Source, url: str, page: Path | None = None) -> Extracted:
    """The saved article page (``page``, else ``<name>/article.html``) extracted as the pipeline
    does: the source's zone, language and rules."""
    rules = ExtractRules(
        body_selector=source.body_selector,
        title_selector=source.title_selector,
        date_selector=source.date_selector,
        remove_selectors=source.remove_selectors,
    )
    return extract(
        page.read_bytes() if page else saved_page(source.name, "article.html"),
        url,
        tz=source.tzinfo,
        language=source.language,
        rules=rules,
    )
