"""Per-site concurrency holds with no delay, and the crawl reuses its connections to the site."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_e2e_cli import run_cli

pytestmark = pytest.mark.slow

PAGES = 60
CONCURRENCY = 4
ARTICLE = """<!doctype html><html lang="es"><head><meta charset="utf-8">
<title>Nota {i} sobre seguridad fronteriza</title></head><body><article>
<h1>Nota {i} sobre seguridad fronteriza</h1>
<p>La nota número {i} describe el decomiso de armas en la garita de Nogales, Sonora, donde
agentes aduanales revisaron {i} vehículos durante la madrugada del jueves.</p>
<p>Las autoridades informaron que el operativo {i} se coordinó con la Guardia Nacional y con
agentes estadounidenses en el marco de la cooperación bilateral en materia de seguridad.</p>
</article></body></html>"""


def _feed(base: str, links: list[str]) -> str:
    items = "".join(
        f"<item><title>Nota {i}</title><link>{base}{link}</link><guid>keepalive-{i}</guid>"
        f"<pubDate>Thu, 11 Dec 2025 09:{i % 60:02d}:00 -0700</pubDate></item>"
        for i, link in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Keepalive</title><link>{base}/keepalive/</link>{items}</channel></rss>"
    )


def _run(site, tmp_path: Path, links: list[str]) -> Path:
    """Serve a feed of ``links`` and crawl it with no delay; returns the database."""
    site.override(
        "/keepalive/feed.xml",
        _feed(site.base_url, links),
        headers={"Content-Type": "application/rss+xml; charset=utf-8"},
    )
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        "[[sources]]\n"
        'name = "keepalive"\n'
        'kind = "feed"\n'
        f'url = "{site.base_url}/keepalive/feed.xml"\n'
        'language = "es"\n'
        'timezone = "America/Hermosillo"\n'
        "delay = 0\n"
        f"concurrency = {CONCURRENCY}\n",
        encoding="utf-8",
    )
    db = tmp_path / "k.sqlite"
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)[0]["new"] == len(links)
    return db


def _crawl(site, tmp_path: Path, delay: float = 0.0) -> None:
    for i in range(PAGES):
        site.override(f"/keepalive/nota-{i}.html", ARTICLE.format(i=i), delay=delay)
    _run(site, tmp_path, [f"/keepalive/nota-{i}.html" for i in range(PAGES)])
    assert len([r for r in site.requests if r.path.startswith("/keepalive/nota-")]) == PAGES


def test_no_more_requests_in_flight_than_the_source_concurrency(site, tmp_path: Path) -> None:
    slow = 0.25
    _crawl(site, tmp_path, delay=slow)
    pages = [r for r in site.requests if r.path.startswith("/keepalive/nota-")]
    # Each page is logged when answered, after its delay: it was in flight over [t - slow, t].
    events = sorted([(r.time - slow, 1) for r in pages] + [(r.time, -1) for r in pages])
    in_flight = peak = 0
    for _, step in events:
        in_flight += step
        peak = max(peak, in_flight)
    # Scrapy 2.19 alone dispatched the whole queue at once here (up to CONCURRENT_REQUESTS).
    assert peak <= CONCURRENCY + 1, peak


def test_crawl_reuses_connections_instead_of_one_per_page(site, tmp_path: Path) -> None:
    _crawl(site, tmp_path)
    connections = {r.client_port for r in site.requests}
    assert len(connections) <= CONCURRENCY + 1, sorted(connections)


def test_meta_refresh_page_is_followed_to_the_article(site, tmp_path: Path) -> None:
    stub = (
        '<html><head><meta charset="utf-8"><META HTTP-EQUIV="Refresh" '
        'CONTENT="0; URL=/keepalive/nota-real.html"></head><body>Redirigiendo…</body></html>'
    )
    site.override("/keepalive/movida.html", stub)
    site.override("/keepalive/nota-real.html", ARTICLE.format(i=99))
    db = _run(site, tmp_path, ["/keepalive/movida.html"])
    with sqlite3.connect(db) as conn:
        ((title, canonical),) = conn.execute("select title, canonical_url from articles")
    assert title == "Nota 99 sobre seguridad fronteriza"
    assert canonical.endswith("/keepalive/nota-real.html")
