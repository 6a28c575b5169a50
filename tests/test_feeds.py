"""Feed parsing on the fixture feeds, on hostile input, and over feedparser's own test corpus."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.documents.feeds import html_to_text, parse_feed
from tests.support import FIXTURES_DIR
from tests.support.shared_corpus import shared_skip_reason

BASE = "http://news.test:8080"
SONORA = ZoneInfo("America/Hermosillo")
CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "feedparser-tests"


def fixture_bytes(rel: str) -> bytes:
    return (FIXTURES_DIR / rel).read_bytes().replace(b"{{BASE}}", BASE.encode())


@pytest.fixture(scope="module")
def tribuna():
    return parse_feed(fixture_bytes("tribuna/feed.xml"), f"{BASE}/tribuna/feed.xml", tz=SONORA)


@pytest.fixture(scope="module")
def border():
    return parse_feed(fixture_bytes("borderreport/atom.xml"), f"{BASE}/borderreport/atom.xml")


def by_slug(feed, fragment):
    return next(e for e in feed.entries if e.link and fragment in e.link)


def rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
        f"{items}</channel></rss>"
    ).encode()


def test_rss_fixture_recognised_without_warning(tribuna):
    assert tribuna.error is None and tribuna.warning is None
    assert tribuna.kind == "rss20"
    assert tribuna.title == "Tribuna del Yaqui"
    assert len(tribuna.entries) == 6


def test_rss_relative_link_resolved_against_feed_url(tribuna):
    entry = by_slug(tribuna, "capturan-en-cajeme")
    assert (
        entry.link
        == f"{BASE}/tribuna/2025/12/08/capturan-en-cajeme-a-presunto-jefe-de-celula-delictiva/"
    )


def test_rss_offset_kept(tribuna):
    seed = by_slug(tribuna, "grupo-de-implementacion")
    assert seed.published == datetime(2025, 12, 11, 9, 15, tzinfo=timezone(timedelta(hours=-7)))
    assert seed.published.utcoffset() == timedelta(hours=-7)


def test_rss_missing_pubdate_is_none(tribuna):
    entry = by_slug(tribuna, "trafico-de-armas")
    assert entry.published is None and entry.updated is None


def test_rss_guid_dc_creator_and_categories(tribuna):
    seed = by_slug(tribuna, "grupo-de-implementacion")
    assert seed.guid == seed.link
    assert by_slug(tribuna, "capturan-en-cajeme").guid == f"{BASE}/tribuna/?p=184230"
    assert seed.authors == ["Redacción Tribuna"]
    assert seed.categories[:2] == ["Nacional", "Seguridad"]
    assert seed.title == (
        "Realizan segunda reunión del Grupo de Implementación de Seguridad México-Estados Unidos"
    )


def test_rss_summary_is_plain_text_from_cdata(tribuna):
    seed = by_slug(tribuna, "grupo-de-implementacion")
    assert seed.summary.startswith("La Ciudad de México fue sede")
    assert "<p>" not in seed.summary and "…" in seed.summary


def test_rss_tracking_params_left_for_canonicalisation(tribuna):
    assert "utm_source=rss" in by_slug(tribuna, "fentanilo").link


def test_atom_fixture_xml_base_author_and_dates(border):
    assert border.kind == "atom10" and border.error is None
    extradition = by_slug(border, "mexico-extradites")
    assert extradition.link == (
        f"{BASE}/borderreport/news/2025/12/10/mexico-extradites-alleged-cartel-money-launderer-to-el-paso/"
    )
    assert extradition.authors == ["Mark Hollis"]
    assert extradition.published.utcoffset() == timedelta(hours=-7)
    otay = by_slug(border, "otay-mesa")
    assert otay.published == datetime(2025, 12, 11, 17, 30, tzinfo=UTC)
    assert otay.published.utcoffset() == timedelta(0)
    assert otay.updated == datetime(2025, 12, 11, 19, 5, tzinfo=UTC)
    assert otay.guid == "tag:borderreport.example,2025:post-2190455"
    assert "Fentanyl" in otay.categories


def test_naive_date_read_in_source_zone_else_utc():
    body = rss("<item><link>/a</link><pubDate>Thu, 11 Dec 2025 09:15:00</pubDate></item>")
    local = parse_feed(body, "http://x.test/feed", tz=SONORA).entries[0].published
    assert local == datetime(2025, 12, 11, 16, 15, tzinfo=UTC)
    assert local.utcoffset() == timedelta(hours=-7)
    default = parse_feed(body, "http://x.test/feed").entries[0].published
    assert default.utcoffset() == timedelta(0)


def test_rfc822_zone_names_understood():
    body = rss("<item><link>/a</link><pubDate>Thu, 11 Dec 2025 09:15:00 EST</pubDate></item>")
    published = parse_feed(body, "http://x.test/feed", tz=SONORA).entries[0].published
    assert published.utcoffset() == timedelta(hours=-5)
    assert published == datetime(2025, 12, 11, 14, 15, tzinfo=UTC)


def test_unparseable_date_is_none():
    body = rss("<item><link>/a</link><pubDate>ayer por la tarde</pubDate></item>")
    assert parse_feed(body, "http://x.test/feed").entries[0].published is None


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "mailto:a@example.com", "data:text/html,x"]
)
def test_unsafe_links_dropped_but_entry_kept(href):
    feed = parse_feed(rss(f"<item><title>x</title><link>{href}</link></item>"), "http://x.test/f")
    assert feed.error is None
    assert [(e.title, e.link) for e in feed.entries] == [("x", None)]


def test_permalink_guid_used_when_link_missing():
    body = rss('<item><guid isPermaLink="true">http://x.test/nota/1</guid></item>')
    assert parse_feed(body, "http://x.test/feed").entries[0].link == "http://x.test/nota/1"


def test_duplicate_authors_collapsed():
    body = rss(
        "<item><link>/a</link><dc:creator>Ana Ruiz</dc:creator><dc:creator>ana ruiz</dc:creator>"
        "<dc:creator>Luis Paz</dc:creator></item>"
    )
    assert parse_feed(body, "http://x.test/feed").entries[0].authors == ["Ana Ruiz", "Luis Paz"]


@pytest.mark.parametrize("body", [b"", b"   \n\t"])
def test_empty_body_is_an_error(body):
    feed = parse_feed(body, "http://x.test/feed")
    assert feed.error == "empty response body" and feed.entries == []


def test_html_page_is_an_error_not_an_empty_feed():
    page = fixture_bytes("tribuna/index.html")
    feed = parse_feed(page, f"{BASE}/tribuna/")
    assert feed.error == "not a feed: looks like an HTML page"
    assert feed.entries == []


def test_non_feed_xml_is_an_error():
    feed = parse_feed(b'<?xml version="1.0"?><sitemap><loc>x</loc></sitemap>', "http://x.test/")
    assert feed.error and feed.error.startswith("not a feed")


def test_broken_xml_without_feed_is_an_xml_error():
    feed = parse_feed(b'<?xml version="1.0"?>\n<rss version="2.0"><chan', "http://x.test/")
    assert feed.error is not None and "\n" not in feed.error


def test_recovered_malformed_feed_keeps_entries_with_warning():
    body = rss("<item><title>a & b</title><link>/a</link></item><item><title>c</title>")
    feed = parse_feed(body, "http://x.test/feed")
    assert feed.error is None
    assert feed.warning and "\n" not in feed.warning
    assert feed.entries[0].link == "http://x.test/a"
    assert feed.entries[0].title == "a & b"


def test_empty_but_valid_feed_is_not_an_error():
    feed = parse_feed(rss(""), "http://x.test/feed")
    assert feed.error is None and feed.entries == [] and feed.kind == "rss20"


def test_entries_capped_with_warning():
    body = rss("".join(f"<item><link>/n/{i}</link></item>" for i in range(12)))
    feed = parse_feed(body, "http://x.test/feed", max_entries=5)
    assert [e.link for e in feed.entries] == [f"http://x.test/n/{i}" for i in range(5)]
    assert feed.warning and "truncated" in feed.warning


def test_bytes_that_name_a_local_file_are_not_opened(tmp_path):
    secret = tmp_path / "feed.xml"
    secret.write_bytes(rss("<item><link>http://x.test/secret</link></item>"))
    feed = parse_feed(str(secret).encode(), "http://x.test/feed")
    assert feed.entries == [] and feed.error is not None


def test_html_to_text_keeps_paragraphs_and_drops_scripts():
    html = "<p>Uno &amp; dos</p><script>alert(1)</script><p>Tres<br>cuatro</p>"
    assert html_to_text(html) == "Uno & dos\n\nTres\n\ncuatro"


def _corpus_files(sub: str) -> list[Path]:
    root = CORPUS / sub
    if not root.is_dir():
        pytest.skip(shared_skip_reason(root))
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("sub", ["wellformed", "illformed", "encoding", "entities", "json"])
def test_corpus_never_raises_and_reports_an_outcome(sub):
    files = _corpus_files(sub)
    assert files
    for path in files:
        feed = parse_feed(path.read_bytes(), f"http://example.org/{sub}/{path.name}")
        assert feed.error is None or feed.entries == [], path
        assert feed.error is None or "\n" not in feed.error, path
        for entry in feed.entries:
            assert entry.link is None or entry.link.startswith(("http://", "https://")), path
            for value in (entry.published, entry.updated):
                assert value is None or value.utcoffset() is not None, path


_ITEM_WITH_LINK = re.compile(rb"<(item|entry)[\s>].*?<link[\s>]", re.S)


def test_corpus_wellformed_feeds_with_linked_items_yield_entries():
    checked = 0
    for path in _corpus_files("wellformed"):
        body = path.read_bytes()
        if not _ITEM_WITH_LINK.search(body):
            continue
        checked += 1
        feed = parse_feed(body, f"http://example.org/{path.name}")
        assert feed.error is None, (path, feed.error)
        assert feed.entries, path
    assert checked > 50
