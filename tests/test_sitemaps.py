"""Sitemap parsing: kinds, Google News metadata, gzip limits, hostile XML, robots.txt, max_age."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.documents.sitemaps import (
    SitemapDoc,
    is_recent,
    parse_sitemap,
    sitemaps_from_robots,
)
from crawler.items import FeedEntry

BASE = "http://127.0.0.1:8765"
SITE = Path(__file__).resolve().parent / "fixtures" / "sitemapsite"
CDMX = timezone(timedelta(hours=-6))


def fixture(name: str) -> bytes:
    return (SITE / name).read_bytes().replace(b"{{BASE}}", BASE.encode())


def test_sitemap_index_lists_child_sitemaps_with_lastmod() -> None:
    doc = parse_sitemap(fixture("sitemap_index.xml"), f"{BASE}/sitemapsite/sitemap_index.xml")
    assert doc.kind == "sitemapindex"
    assert doc.error is None
    assert doc.entries == []
    locs = [loc for loc, _ in doc.sitemaps]
    assert locs == [
        f"{BASE}/sitemapsite/news-sitemap.xml",
        f"{BASE}/sitemapsite/sitemap-2024-01.xml.gz",
        f"{BASE}/sitemapsite/sitemap_index.xml",
    ]
    assert doc.sitemaps[0][1] == datetime(2025, 12, 11, 19, 5, tzinfo=CDMX)
    assert doc.sitemaps[1][1] == datetime(2024, 1, 31, tzinfo=UTC)


def test_news_sitemap_entries_carry_google_news_metadata() -> None:
    url = f"{BASE}/sitemapsite/news-sitemap.xml"
    doc = parse_sitemap(fixture("news-sitemap.xml"), url)
    assert doc.kind == "urlset"
    assert doc.error is None
    assert len(doc.entries) == 5
    first = doc.entries[0]
    assert first.link == (
        f"{BASE}/sitemapsite/nacional/2025/12/11/mexico-y-eu-revisan-avances-de-mision-cortafuegos.html"
    )
    assert first.title is not None and first.title.startswith("México y EU revisan")
    assert first.published == datetime(2025, 12, 11, 13, 20, tzinfo=CDMX)
    assert first.updated == datetime(2025, 12, 11, 14, 2, tzinfo=CDMX)
    assert first.published.utcoffset() == timedelta(hours=-6)
    assert first.categories == [
        "seguridad",
        "México",
        "Estados Unidos",
        "Misión Cortafuegos",
        "SRE",
    ]
    assert doc.languages == {entry.link: "es" for entry in doc.entries}


def test_image_locations_are_not_taken_as_article_links() -> None:
    doc = parse_sitemap(fixture("news-sitemap.xml"), f"{BASE}/sitemapsite/news-sitemap.xml")
    assert all(e.link and not e.link.endswith(".jpg") for e in doc.entries)


def test_publication_date_falls_back_to_lastmod() -> None:
    body = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://example.mx/nota/1</loc><lastmod>2025-12-11</lastmod></url>
    </urlset>"""
    (entry,) = parse_sitemap(body, "https://example.mx/sitemap.xml").entries
    assert entry.published == entry.updated == datetime(2025, 12, 11, tzinfo=UTC)
    assert entry.title is None


def test_naive_dates_use_the_source_zone() -> None:
    body = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://example.mx/nota/1</loc><lastmod>2025-12-11T10:30:00</lastmod></url>
    </urlset>"""
    hermosillo = ZoneInfo("America/Hermosillo")
    (entry,) = parse_sitemap(body, "https://example.mx/s.xml", tz=hermosillo).entries
    assert entry.published == datetime(2025, 12, 11, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025", None),
        ("2025-12", None),
        ("2025-12-11T10:30Z", datetime(2025, 12, 11, 10, 30, tzinfo=UTC)),
        ("2025-12-11T10:30:15.5-07:00", datetime(2025, 12, 11, 17, 30, 15, 500000, tzinfo=UTC)),
        ("2025-12-11T10:30:00+0530", datetime(2025, 12, 11, 5, 0, tzinfo=UTC)),
        ("Thu, 11 Dec 2025 10:30:00 GMT", datetime(2025, 12, 11, 10, 30, tzinfo=UTC)),
        ("2025-13-45", None),
        ("mañana", None),
    ],
)
def test_lastmod_datetimes(text: str, expected: datetime | None) -> None:
    """W3C datetimes and the RFC 822 dates found in the wild; a year or month alone is no date."""
    body = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://example.mx/nota/1</loc><lastmod>{text}</lastmod></url>
    </urlset>""".encode()
    (entry,) = parse_sitemap(body, "https://example.mx/s.xml").entries
    assert entry.updated == expected


def test_relative_and_non_http_locs() -> None:
    body = b"""<?xml version="1.0"?>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>/nacional/a%C3%B1o-nuevo.html</loc></url>
      <url><loc>mailto:redaccion@example.mx</loc></url>
      <url><loc>javascript:alert(1)</loc></url>
      <url><loc>ftp://example.mx/archivo.txt</loc></url>
      <url><loc>https://example.mx/nacional/a%C3%B1o-nuevo.html</loc></url>
    </urlset>"""
    doc = parse_sitemap(body, "https://example.mx/sitemaps/news.xml")
    assert [e.link for e in doc.entries] == ["https://example.mx/nacional/a%C3%B1o-nuevo.html"]


def test_gzipped_sitemap_is_inflated() -> None:
    url = f"{BASE}/sitemapsite/sitemap-2024-01.xml.gz"
    doc = parse_sitemap((SITE / "sitemap-2024-01.xml.gz").read_bytes(), url)
    assert doc.error is None
    assert doc.kind == "urlset"
    assert doc.entries[0].link == (
        f"{BASE}/sitemapsite/nacional/2024/01/08/detienen-a-presunto-jefe-de-plaza-en-cajeme.html"
    )
    assert len(doc.entries) == 3
    assert all(e.published and e.published.year == 2024 for e in doc.entries)


def _gzip_of_zeros(total: int) -> bytes:
    """gzip of ``total`` zero bytes, built in chunks so the test never holds the plain text."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(total // len(chunk))]
    parts.append(packer.flush())
    return b"".join(parts)


def test_gzip_bomb_is_capped() -> None:
    bomb = _gzip_of_zeros(200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    doc = parse_sitemap(bomb, "https://example.mx/sitemap.xml.gz", max_bytes=5 * 1024 * 1024)
    assert doc.kind == "unknown"
    assert doc.entries == []
    assert doc.error == f"sitemap too large when decompressed (> {5 * 1024 * 1024} bytes)"


def test_gzip_under_the_cap_passes_and_corrupt_gzip_is_an_error() -> None:
    xml = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://example.mx/a/b</loc></url></urlset>'
    packed = gzip.compress(xml)
    assert parse_sitemap(packed, "https://example.mx/s.xml.gz", max_bytes=len(xml)).error is None
    assert "too large" in (
        parse_sitemap(packed, "https://example.mx/s.xml.gz", max_bytes=len(xml) - 1).error or ""
    )
    broken = parse_sitemap(packed[:20], "https://example.mx/s.xml.gz")
    assert broken.error is not None and "gzip" in broken.error


def test_external_entity_is_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PASSWD-LINE", encoding="utf-8")
    for target in (secret.as_uri(), "file:///etc/passwd"):
        body = f"""<?xml version="1.0"?>
        <!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{target}">]>
        <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
          <url><loc>https://example.mx/nota/&xxe;</loc></url>
          <url><loc>https://example.mx/nota/segura</loc>
            <news:news xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
              <news:title>&xxe;</news:title></news:news></url>
        </urlset>""".encode()
        doc = parse_sitemap(body, "https://example.mx/s.xml")
        dumped = repr(doc)
        assert "TOP-SECRET" not in dumped
        assert "root:" not in dumped
        assert [e.link for e in doc.entries] == ["https://example.mx/nota/segura"]
        assert doc.entries[0].title is None


def test_billion_laughs_does_not_expand() -> None:
    levels = ['<!ENTITY lol0 "lololololololololol">']
    levels += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    body = f"""<?xml version="1.0"?>
    <!DOCTYPE urlset [{"".join(levels)}]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://example.mx/nota/1</loc>
        <news:news xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
          <news:title>&lol9;</news:title></news:news></url>
    </urlset>""".encode()
    doc = parse_sitemap(body, "https://example.mx/s.xml")
    assert len(repr(doc)) < 10_000
    assert [e.link for e in doc.entries] == ["https://example.mx/nota/1"]


def test_text_sitemap_with_bom_and_blank_lines() -> None:
    body = (
        b"\xef\xbb\xbf\n  https://example.mx/nacional/uno.html\n\n"
        b"not a url\nhttps://example.mx/nacional/dos.html\r\n"
        b"https://example.mx/nacional/uno.html\n"
    )
    doc = parse_sitemap(body, "https://example.mx/sitemap.txt")
    assert doc.kind == "urlset"
    assert [e.link for e in doc.entries] == [
        "https://example.mx/nacional/uno.html",
        "https://example.mx/nacional/dos.html",
    ]


def test_bom_and_leading_whitespace_before_xml_declaration() -> None:
    body = b'\xef\xbb\xbf  \n<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://example.mx/a/b</loc></url></urlset>'
    doc = parse_sitemap(body, "https://example.mx/s.xml")
    assert [e.link for e in doc.entries] == ["https://example.mx/a/b"]


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>404</title></head><body><p>No encontrado</p></body></html>",
        b"<html><body>Mantenimiento</body></html>",
    ],
)
def test_html_page_is_an_error(body: bytes) -> None:
    doc = parse_sitemap(body, "https://example.mx/sitemap.xml")
    assert doc.kind == "unknown"
    assert doc.error == "not a sitemap: got an HTML page"


@pytest.mark.parametrize("body", [b"", b"   \n\t", b"\xef\xbb\xbf"])
def test_empty_body_is_an_error(body: bytes) -> None:
    assert parse_sitemap(body, "https://example.mx/sitemap.xml").error == "empty sitemap body"


def test_rss_is_not_a_sitemap() -> None:
    doc = parse_sitemap(b"<rss version='2.0'><channel/></rss>", "https://example.mx/s.xml")
    assert doc.error == "not a sitemap: root element <rss>"


def test_max_entries_truncates_with_a_warning() -> None:
    urls = "".join(f"<url><loc>https://example.mx/n/{i}</loc></url>" for i in range(10))
    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    doc = parse_sitemap(body.encode(), "https://example.mx/s.xml", max_entries=4)
    assert [e.link for e in doc.entries] == [f"https://example.mx/n/{i}" for i in range(4)]
    assert doc.warning == "sitemap truncated: kept the first 4 of 10 entries"


def test_empty_urlset_is_not_an_error() -> None:
    doc = parse_sitemap(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>', "https://e.mx/s.xml"
    )
    assert doc == SitemapDoc(kind="urlset")


def test_robots_sitemap_lines() -> None:
    robots = (
        "User-agent: *\nDisallow: /admin/\n"
        "SITEMAP: /sitemap_index.xml  # principal\n"
        "sitemap:https://cdn.example.mx/news.xml\n"
        "# Sitemap: https://example.mx/comentado.xml\n"
        "Sitemap: /sitemap_index.xml\n"
        "Sitemap-Extra: https://example.mx/no.xml\n"
    )
    assert sitemaps_from_robots(robots, "https://example.mx/robots.txt") == [
        "https://example.mx/sitemap_index.xml",
        "https://cdn.example.mx/news.xml",
    ]


def test_robots_fixture_bytes() -> None:
    found = sitemaps_from_robots(fixture("robots.txt"), f"{BASE}/robots.txt")
    assert found == [f"{BASE}/sitemapsite/sitemap_index.xml"]


NOW = datetime(2025, 12, 12, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("published", "updated", "max_age", "expected"),
    [
        (datetime(2025, 12, 11, 13, 20, tzinfo=CDMX), None, 2 * 86400, True),
        (datetime(2024, 3, 15, 11, 0, tzinfo=CDMX), None, 2 * 86400, False),
        (None, datetime(2024, 3, 15, tzinfo=UTC), 2 * 86400, False),
        (None, None, 60, True),
        (datetime(2024, 3, 15, tzinfo=UTC), None, None, True),
        (datetime(2025, 12, 13, tzinfo=UTC), None, 60, True),
    ],
)
def test_is_recent(
    published: datetime | None, updated: datetime | None, max_age: float | None, expected: bool
) -> None:
    entry = FeedEntry(link="https://example.mx/n", published=published, updated=updated)
    assert is_recent(entry, max_age, NOW) is expected


def test_news_fixture_filtered_by_max_age_keeps_the_three_recent() -> None:
    doc = parse_sitemap(fixture("news-sitemap.xml"), f"{BASE}/sitemapsite/news-sitemap.xml")
    recent = [e for e in doc.entries if is_recent(e, 7 * 86400, NOW)]
    assert len(recent) == 3
    assert all("/2025/12/" in (e.link or "") for e in recent)
