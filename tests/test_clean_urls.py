"""Clean output: an article's ``url`` is its canonical form, and every URL that led to it stays in
its URL list (so it is still known, and not fetched again, by each of them)."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.config import Source
from crawler.items import RawPage
from crawler.pipeline.process import process_page
from tests.test_e2e_cli import run_cli
from tests.test_sources_kinds import crawl, rows

SLUG = "aseguran-mas-de-40-mil-pastillas-de-fentanilo-en-garita-de-nogales"
TRACKED = "?utm_source=rss&utm_medium=feed&utm_campaign=rss"
ARTICLE = """<html lang="es"><head><title>Nota</title>{canonical}</head><body><article>
<h1>Aseguran más de 40 mil pastillas de fentanilo en garita de Nogales</h1>
<p>Elementos de la Guardia Nacional aseguraron más de 40 mil pastillas de fentanilo ocultas en
un vehículo que intentaba cruzar por la garita Dennis DeConcini de Nogales, Sonora.</p>
<p>El conductor fue puesto a disposición del Ministerio Público Federal.</p></article></body></html>"""


def page(url: str, final: str, canonical: str = "") -> RawPage:
    head = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = ARTICLE.format(canonical=head).encode()
    return RawPage("tribuna", url, final, 200, body, {"content-type": "text/html"})


def source() -> Source:
    return Source(name="tribuna", kind="feed", url="https://tribuna.example/feed", language="es")


def test_record_url_is_canonical_and_the_fetched_urls_are_kept():
    clean = f"https://tribuna.example/2025/12/10/{SLUG}/"
    record = process_page(page(clean + TRACKED, clean + TRACKED), source())
    assert record.url == record.canonical_url == clean
    assert record.alt_urls == [clean + TRACKED]
    moved = f"https://www.tribuna.example/nota/{SLUG}/"
    record = process_page(page(clean + TRACKED, moved + "?fbclid=x", canonical=moved), source())
    assert record.url == moved
    assert record.alt_urls == sorted({clean + TRACKED, moved + "?fbclid=x"})
    elsewhere = process_page(
        page(clean, clean, canonical="https://agencia.example/nota/"), source()
    )
    assert elsewhere.url == clean  # a canonical on another site is not this article's address


def test_feed_link_with_tracking_parameters_is_stored_and_shown_clean(site, tmp_path: Path):
    db, summary = crawl(site, tmp_path, ["tribuna"])
    assert summary[0]["ok"] is True
    ((url, canonical),) = rows(
        db, "select url, canonical_url from articles where url like ?", f"%{SLUG}%"
    )
    assert "utm_" not in url and url == canonical and url.endswith(f"/{SLUG}/")
    listed = {u for (u,) in rows(db, "select url from article_urls where url like ?", f"%{SLUG}%")}
    assert listed == {url, url + TRACKED}
    for command in (("search", "fentanilo"), ("export",)):
        result = run_cli(*command, "--db", str(db), "--format", "json")
        assert result.returncode == 0, result.stderr
        shown = [r["url"] for r in json.loads(result.stdout) if SLUG in r["url"]]
        assert shown == [url], command
