"""Issue 17 §12: input limits — compressed sitemaps, entity attacks, binary bodies labelled
``text/html``, and charset declarations that contradict the bytes (saved in
``tests/fixtures/charsets``).

The fast tests pin each rule where it lives; the slow one throws them all at one real crawl.
"""

from __future__ import annotations

import gzip
import io
import sqlite3
import zipfile
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard

from crawler import settings
from crawler.articles.html import binary_kind, decode_html
from crawler.articles.textrepair import repair_text
from crawler.documents.sitemaps import parse_sitemap
from crawler.items import RawPage
from crawler.pipeline.process import NotAnArticle, process_page
from tests.support.hostile import HostileServer, cli, last_runs, stored_urls, write_sources
from tests.test_analysis import _source

CHARSETS = Path(__file__).resolve().parent / "fixtures" / "charsets"
SM_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MiB = 1024 * 1024


def _urls(base: str, first: int, last: int) -> str:
    return "".join(f"<url><loc>{base}/article/n{i}</loc></url>\n" for i in range(first, last))


def billion_laughs(base: str = "https://e.mx", before: int = 3, after: int = 4) -> bytes:
    """A urlset whose middle entry expands an entity 10^9 times: libxml2 stops reading there."""
    levels = "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10)).replace(
        "&lol0;", "lol"
    )
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE urlset [\n{levels}]>\n<urlset xmlns="{SM_NS}">\n'
        + _urls(base, 0, before)
        + f"<url><loc>{base}/article/lol</loc><lastmod>&lol9;</lastmod></url>\n"
        + _urls(base, before, before + after)
        + "</urlset>"
    ).encode()


def big_urlset(base: str, entries: int) -> bytes:
    """A plain urlset of about ``entries`` * 100 bytes that gzip shrinks ~30 times."""
    return (f'<urlset xmlns="{SM_NS}">' + _urls(base, 0, entries) + "</urlset>").encode()


# -- sitemaps ----------------------------------------------------------------------------------


def test_gzipped_sitemap_is_capped_at_the_page_size_setting(monkeypatch) -> None:
    body = gzip.compress(big_urlset("https://e.mx", 40_000))
    assert len(body) < MiB < len(gzip.decompress(body))
    monkeypatch.setenv(settings.ENV_MAX_PAGE_BYTES, str(MiB))
    doc = parse_sitemap(body, "https://e.mx/sitemap.xml.gz")
    assert doc.kind == "unknown" and not doc.entries
    assert doc.error == f"sitemap too large when decompressed (> {MiB} bytes)"
    monkeypatch.setenv(settings.ENV_MAX_PAGE_BYTES, str(8 * MiB))
    assert len(parse_sitemap(body, "https://e.mx/sitemap.xml.gz").entries) == 40_000


def test_a_sitemap_cut_by_an_entity_attack_says_so() -> None:
    doc = parse_sitemap(billion_laughs(), "https://e.mx/sitemap.xml")
    assert [e.link for e in doc.entries][:3] == [f"https://e.mx/article/n{i}" for i in range(3)]
    assert len(doc.entries) < 8
    assert doc.warning is not None and "sitemap cut short by the XML parser" in doc.warning
    assert "entity amplification" in doc.warning
    assert f"read {len(doc.entries)} of 8 <url> entries, the rest are lost" in doc.warning


@pytest.mark.parametrize(
    ("middle", "why"),
    [
        ("<url><loc>https://e.mx/" + "a" * (11 * MiB) + "</loc></url>", "Text node too long"),
        ("<a>" * 300 + "</a>" * 300, "Excessive depth"),
    ],
    ids=["huge-text-node", "deep-nesting"],
)
def test_a_sitemap_cut_by_a_parser_limit_says_so(middle: str, why: str) -> None:
    body = f'<urlset xmlns="{SM_NS}">{_urls("https://e.mx", 0, 5)}{middle}'
    body += _urls("https://e.mx", 5, 10) + "</urlset>"
    doc = parse_sitemap(body.encode(), "https://e.mx/sitemap.xml", max_bytes=20 * MiB)
    assert doc.warning is not None and why in doc.warning, doc.warning
    assert "the rest are lost" in doc.warning


def test_recoverable_damage_and_undeclared_prefixes_are_no_warning() -> None:
    body = (
        f'<urlset xmlns="{SM_NS}">{_urls("https://e.mx", 0, 3)}<url><loc>x</loc></ur>'
        "<url><loc>https://e.mx/n/p</loc><news:news><news:title>Sin prefijo declarado"
        f"</news:title></news:news></url>{_urls('https://e.mx', 3, 6)}</urlset>"
    )
    doc = parse_sitemap(body.encode(), "https://e.mx/sitemap.xml")
    assert len(doc.entries) == 8 and doc.warning is None
    assert [e.title for e in doc.entries if e.link == "https://e.mx/n/p"] == [
        "Sin prefijo declarado"
    ]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_every_content_encoding_is_capped_by_the_page_size_setting(monkeypatch, encoding) -> None:
    """Scrapy inflates ``Content-Encoding`` bodies; our settings must hand it the same cap."""
    from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import Request, Response
    from scrapy.utils.test import get_crawler

    monkeypatch.setenv(settings.ENV_MAX_PAGE_BYTES, str(MiB))
    zeros = bytes(16 * MiB)
    body = {
        "gzip": lambda: gzip.compress(zeros),
        "deflate": lambda: zlib.compress(zeros),
        "br": lambda: brotli.compress(zeros),
        "zstd": lambda: zstandard.ZstdCompressor().compress(zeros),
    }[encoding]()
    crawler = get_crawler(settings_dict=settings.scrapy_settings())
    middleware = HttpCompressionMiddleware.from_crawler(crawler)
    request = Request("https://e.mx/sitemap.xml")
    response = Response(request.url, body=body, headers={"Content-Encoding": encoding})
    with pytest.raises(IgnoreRequest, match="DOWNLOAD_MAXSIZE"):
        middleware.process_response(request, response)


# -- binary bodies -----------------------------------------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("nota.html", "<html><body><p>México</p></body></html>")
    return buffer.getvalue()


BINARIES = {
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "a PNG image"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >>\nendobj\n", "a PDF"),
    "zip": (_zip(), "a ZIP archive"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(512), "a JPEG image"),
    "random": (zlib.compress(bytes(range(256)) * 64, 9) * 3 + bytes(range(256)), "binary data"),
}


@pytest.mark.parametrize("name", list(BINARIES))
def test_a_binary_body_labelled_text_html_is_not_an_article(name: str) -> None:
    body, kind = BINARIES[name]
    assert binary_kind(body) is not None and kind in binary_kind(body)
    page = RawPage(
        source="tribuna",
        url="https://e.mx/nota",
        final_url="https://e.mx/nota",
        status=200,
        body=body,
        headers={"content-type": "text/html; charset=utf-8"},
    )
    with pytest.raises(NotAnArticle, match=f"not an HTML page: {kind}.* served as text/html"):
        process_page(page, _source())


def test_text_pages_are_not_taken_for_binary() -> None:
    nul_page = (CHARSETS.parents[0] / "hostile" / "nul_surrogate.html").read_bytes()
    for body in [*(p.read_bytes() for p in CHARSETS.iterdir()), nul_page]:
        assert binary_kind(body) is None
    utf16 = "<html><body><p>México</p></body></html>".encode("utf-16")
    assert binary_kind(utf16) is None and "México" in decode_html(utf16)


# -- charsets ----------------------------------------------------------------------------------

CHARSET_CASES = {
    # saved file: (HTTP header charset, what it is)
    "meta_utf8_bytes_utf8.html": "ISO-8859-1",  # header lies, meta and bytes agree
    "meta_utf8_bytes_cp1252.html": "UTF-8",  # header and meta lie, bytes are Windows-1252
    "meta_latin1_bytes_utf8.html": "UTF-8",  # meta lies
    "meta_1250_bytes_utf8.html": "windows-1250",  # header and meta lie the same way
    "meta_utf16_bytes_utf8.html": "UTF-8",  # a meta UTF-16 is read as UTF-8 (as browsers do)
    "none_bytes_cp1252.html": "UTF-8",  # no meta, header lies
    "meta_utf8_mixed_cp1252.html": "UTF-8",  # a Windows-1252 paragraph in a UTF-8 page
    "meta_utf8_double_encoded.html": "UTF-8",  # UTF-8 encoded twice: the repair step's job
}


@pytest.mark.parametrize("name", list(CHARSET_CASES))
def test_conflicting_charset_declarations_give_clean_text(name: str) -> None:
    raw = (CHARSETS / name).read_bytes()
    page = RawPage(
        source="tribuna",
        url="https://e.mx/nota",
        final_url="https://e.mx/nota",
        status=200,
        body=raw,
        headers={"content-type": f"text/html; charset={CHARSET_CASES[name]}"},
    )
    record = process_page(page, _source())
    everything = f"{record.title}\n{record.text}"
    assert record.title.startswith("Cooperación en Michoacán"), record.title
    assert "Secretaría de Seguridad de México" in record.text
    assert "señaló el año próximo" in record.text
    for bad in ("Ã", "Â", "\ufffd", "Ă", "ďż"):
        assert bad not in everything, (bad, everything[:300])
    if "mixed" in name:
        assert "Última hora: reunión en Querétaro." in record.text
    assert repair_text(everything) == everything


# -- all of it in one real crawl ---------------------------------------------------------------


@pytest.mark.slow
def test_one_crawl_reports_every_limit_in_its_warnings(tmp_path: Path) -> None:
    with HostileServer(max_wait=20) as hostile:
        base = hostile.base_url
        hostile.put("/sm/good.xml", big_urlset(base, 2), "application/xml")
        hostile.put("/sm/laughs.xml", billion_laughs(base, before=1, after=3), "application/xml")
        bomb = gzip.compress(big_urlset(base, 40_000))
        hostile.put("/sm/big.xml.gz", bomb, "application/x-gzip")
        index = "".join(f"<sitemap><loc>{base}/sm/{n}</loc></sitemap>" for n in
                        ("good.xml", "laughs.xml", "big.xml.gz"))  # fmt: skip
        hostile.put("/sm/index.xml", f'<sitemapindex xmlns="{SM_NS}">{index}</sitemapindex>',
                    "application/xml")  # fmt: skip
        items = ""
        for name, (body, _) in BINARIES.items():
            hostile.put(f"/bin/{name}", body, "text/html; charset=utf-8")
            items += f"<item><title>{name}</title><link>{base}/bin/{name}</link></item>"
        for number, (name, header) in enumerate(CHARSET_CASES.items()):
            unique = f"<p>Caso {number} de la prueba de juegos de caracteres.</p></article>"
            raw = (CHARSETS / name).read_bytes().replace(b"</article>", unique.encode())
            hostile.put(f"/cs/{name}", raw, f"text/html; charset={header}")
            items += f"<item><title>{name}</title><link>{base}/cs/{name}</link></item>"
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
        hostile.put("/feed.xml", feed + "</channel></rss>", "application/rss+xml")
        cfg = write_sources(
            tmp_path / "sources.toml",
            {"maps": ("sitemap", hostile.url("/sm/index.xml")), "pages": ("feed", hostile.url("/feed.xml"))},
        )  # fmt: skip
        db = tmp_path / "news.sqlite"
        result = cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json",
                     env={"NEWSWATCH_MAX_PAGE_BYTES": str(MiB)})  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    runs = last_runs(db)
    warnings = " | ".join(runs["maps"]["counts"]["warnings"])
    assert "big.xml.gz" in warnings and "too large when decompressed" in warnings, warnings
    assert "laughs.xml" in warnings and "cut short by the XML parser" in warnings, warnings
    assert len(stored_urls(db, "maps")) == 3  # two good entries, one before the attack
    pages = runs["pages"]
    reasons = " | ".join(pages["counts"]["warnings"])
    assert pages["counts"]["errors"] == len(BINARIES), pages
    for _, kind in BINARIES.values():
        assert f"{kind}" in reasons, reasons
    stored = stored_urls(db, "pages")
    assert stored == sorted(f"{base}/cs/{n}" for n in CHARSET_CASES)
    with sqlite3.connect(db) as conn:
        texts = " ".join(t + x for t, x in conn.execute("SELECT title, text FROM articles"))
    assert "\ufffd" not in texts and "Ã" not in texts and "Cooperación" in texts


# -- the same class elsewhere: stored pages ----------------------------------------------------


def test_a_stored_page_is_inflated_only_up_to_its_bound() -> None:
    from storage.records import compress_html, decompress_html

    page = "<p>México</p>".encode() * 1000
    assert decompress_html(compress_html(page)) == page
    assert decompress_html(zlib.compress(page)) == page
    unknown_size = zstandard.ZstdCompressor(write_content_size=False).compress(page)
    assert decompress_html(unknown_size) == page
    for blob in (compress_html(page), unknown_size, zlib.compress(page)):
        with pytest.raises(ValueError, match="larger than 4096 bytes when decompressed"):
            decompress_html(blob, max_bytes=4096)
    header = b"\x28\xb5\x2f\xfd\xc0\x58" + (1 << 40).to_bytes(8, "little")
    announces_a_tebibyte = header + b"\x01\x00\x00"  # one empty last block
    with pytest.raises(ValueError, match="larger than 1073741824 bytes"):
        decompress_html(announces_a_tebibyte)
