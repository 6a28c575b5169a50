"""Sitemap and listing sources end to end through the real CLI against the fixture server, plus
the pure pieces they are built from (entry selection, extraction rules, source options)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.articles.extraction import ExtractRules, element_paragraphs, extract
from crawler.articles.html import parse_html
from crawler.config import ConfigError, parse_config
from crawler.fetching.runner import _spider_class
from crawler.fetching.spiders import SPIDERS
from crawler.fetching.spiders.sitemap import is_site_root, robots_url, select_entries
from crawler.items import FeedEntry
from tests.support import FIXTURES_DIR, write_sources_toml
from tests.test_e2e_cli import run_cli

SEED = "realizan-segunda-reunion"
CDMX = ZoneInfo("America/Mexico_City")
MESA = (
    "/listingsite/seguridad/2025/12/11/instalan-mesa-de-coordinacion-con-autoridades-federales.html"
)


def crawl(site, tmp_path: Path, names: list[str]) -> tuple[Path, list[dict]]:
    cfg = write_sources_toml(tmp_path / "sources.toml", site.base_url, names)
    db = tmp_path / "news.sqlite"
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return db, json.loads(result.stdout)


def rows(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


# ----------------------------------------------------------------------------- pure pieces


def test_spiders_registry_has_one_class_per_kind() -> None:
    assert set(SPIDERS) == {"feed", "sitemap", "listing"}
    assert {cls.kind for cls in SPIDERS.values()} == set(SPIDERS)


def test_site_root_and_robots_url() -> None:
    assert is_site_root("https://www.gob.mx") and is_site_root("https://www.gob.mx/")
    assert not is_site_root("https://www.gob.mx/sitemap.xml")
    assert robots_url("https://a.mx:8080/x/y?z=1") == "https://a.mx:8080/robots.txt"


def test_select_entries_filters_sorts_newest_first_and_caps() -> None:
    now = datetime(2025, 12, 12, tzinfo=UTC)
    day = timedelta(days=1)
    entries = [
        FeedEntry(link="https://a.mx/2025/12/01/viejo", published=now - 11 * day),
        FeedEntry(link="https://a.mx/sin-fecha"),
        FeedEntry(link="https://a.mx/2025/12/10/b", published=now - 2 * day),
        FeedEntry(link="https://a.mx/2025/12/11/c", updated=now - day),
        FeedEntry(link="https://a.mx/2025/12/11/c", updated=now - day),
        FeedEntry(link="https://a.mx/tag/x", published=now - day),
    ]
    kept = select_entries(entries, now=now, max_age=3 * 86400, deny=["/tag/"])
    assert [e.link for e in kept] == [
        "https://a.mx/2025/12/11/c",
        "https://a.mx/2025/12/10/b",
        "https://a.mx/sin-fecha",
    ]
    capped = select_entries(entries, now=now, max_items=2, allow=[r"/2025/"])
    assert [e.link for e in capped] == ["https://a.mx/2025/12/11/c", "https://a.mx/2025/12/10/b"]


def test_element_paragraphs_split_blocks_inline_runs_and_br() -> None:
    tree = parse_html(
        "<div id='x'>Lead <b>bold</b> text<p>One <a href='#'>link</a>.</p>"
        "<div><div>Nested</div></div>tail one<br>tail two<script>var x</script></div>"
    )
    (node,) = tree.xpath("//div[@id='x']")
    assert element_paragraphs(node) == [
        "Lead bold text",
        "One link.",
        "Nested",
        "tail one",
        "tail two",
    ]


def _mesa_html() -> bytes:
    return (FIXTURES_DIR / MESA.lstrip("/")).read_bytes()


def test_extraction_rules_win_and_remove_selectors_clean_the_page() -> None:
    rules = ExtractRules(
        body_selector=".cuerpo-nota",
        title_selector="h1.titulo",
        date_selector=".datos .fecha",
        remove_selectors=(".relacionada", ".compartir"),
    )
    url = "https://gob.example/" + MESA
    ex = extract(_mesa_html(), url, tz=CDMX, language="es", rules=rules)
    assert ex.title == (
        "Instalan Mesa Estatal de Coordinación para la Construcción de la Paz "
        "con autoridades federales"
    )
    assert ex.published_at == datetime(2025, 12, 11, 18, 40, tzinfo=CDMX)
    paragraphs = ex.text.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("Celaya, Gto., 11 de diciembre de 2025.-")
    assert "Consulta la información completa" not in ex.text


def test_extraction_rules_fall_back_to_generic_for_what_they_miss() -> None:
    url = "https://gob.example/" + MESA
    generic = extract(_mesa_html(), url, tz=CDMX, language="es")
    missing = ExtractRules(body_selector=".no-such", title_selector="//h6", date_selector=".nada")
    ruled = extract(_mesa_html(), url, tz=CDMX, language="es", rules=missing)
    assert (ruled.title, ruled.text, ruled.published_at) == (
        generic.title,
        generic.text,
        generic.published_at,
    )


def test_source_options_parse_and_reach_the_source() -> None:
    config = parse_config(
        """
[defaults]
max_pages = 5
max_age = "3d"

[[sources]]
name = "sre"
kind = "listing"
url = "https://www.gob.mx/sre/es/archivo/prensa"
link_selector = "//article//h2/a/@href"
allow = ['/sre/prensa/']
deny = ['/tag/']
max_items = 20
headers = { Referer = "https://www.gob.mx/", "User-Agent" = "Mozilla/5.0 test" }
body_selector = ".article-body"
remove_selectors = [".share", "aside"]

[[sources]]
name = "feedy"
url = "https://a.example/feed"
"""
    )
    sre, feedy = config.sources
    assert (sre.max_pages, sre.max_age, sre.max_items) == (5, 3 * 86400, 20)
    assert sre.allow == ("/sre/prensa/",) and sre.deny == ("/tag/",)
    assert sre.header_dict == {"Referer": "https://www.gob.mx/", "User-Agent": "Mozilla/5.0 test"}
    assert sre.remove_selectors == (".share", "aside")
    assert feedy.max_pages == 3 and feedy.link_selector is None
    assert feedy.max_age == 3 * 86400
    custom = _spider_class(sre).custom_settings
    assert custom["USER_AGENT"] == "Mozilla/5.0 test"
    assert custom["DEFAULT_REQUEST_HEADERS"]["Referer"] == "https://www.gob.mx/"
    assert "Accept-Language" in custom["DEFAULT_REQUEST_HEADERS"]


def test_fingerprint_covers_the_new_options() -> None:
    base = '[[sources]]\nname = "a"\nkind = "listing"\nurl = "https://a.example/s"\n'
    plain = parse_config(base).sources[0].fingerprint()
    with_selector = parse_config(base + 'link_selector = "h2 a"\n').sources[0].fingerprint()
    with_rules = parse_config(base + 'body_selector = ".x"\n').sources[0].fingerprint()
    assert len({plain, with_selector, with_rules}) == 3


def test_kind_only_key_errors_name_the_source_and_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            '[[sources]]\nname = "t"\nurl = "https://t.example/feed"\nnext_selector = "a.next"\n',
            path="sources.toml",
        )
    message = str(info.value)
    assert message.startswith("sources.toml: line 4: source 't': key 'next_selector': ")
    assert "only applies to kind = 'listing'" in message


# ----------------------------------------------------------------------------- sitemap e2e


@pytest.mark.slow
def test_sitemap_source_via_robots_index_and_gzip(site, tmp_path: Path) -> None:
    db, summary = crawl(site, tmp_path, ["sitemapsite"])
    (row,) = summary
    assert row["ok"] is True, row
    paths = [r.path for r in site.requests]
    assert "/robots.txt" in paths
    assert paths.count("/sitemapsite/sitemap_index.xml") == 1  # lists itself: loop not followed
    assert "/sitemapsite/news-sitemap.xml" in paths
    assert "/sitemapsite/sitemap-recientes.xml.gz" in paths  # gzipped, from robots.txt
    assert "/sitemapsite/sitemap-2024-01.xml.gz" not in paths  # old lastmod in the index
    assert not [p for p in paths if "/2024/" in p]  # old entries never fetched
    stored = {u.split("/")[-1] or u.split("/")[-2] for (u,) in rows(db, "select url from articles")}
    assert stored == {
        "mexico-y-eu-revisan-avances-de-mision-cortafuegos.html",
        "aseguran-arsenal-en-nogales-procedente-de-arizona.html",
        "fgr-extradita-a-eu-a-presunto-operador-financiero.html",
        "realizan-segunda-reunion-del-grupo-de-implementacion-de-seguridad-mexico-estados-unidos",
    }
    assert row["new"] == 4
    ((language,),) = rows(db, "select language from articles where url like '%cortafuegos%'")
    assert language == "es"


@pytest.mark.slow
def test_sitemap_max_items_keeps_the_newest(site, tmp_path: Path) -> None:
    cfg = write_sources_toml(tmp_path / "sources.toml", site.base_url, ["sitemapsite"])
    cfg.write_text(cfg.read_text() + "max_items = 2\n", encoding="utf-8")
    db = tmp_path / "news.sqlite"
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    urls = {u for (u,) in rows(db, "select url from articles")}
    assert len(urls) == 2
    assert any("cortafuegos" in u for u in urls) and any(SEED in u for u in urls)


@pytest.mark.slow
def test_sitemap_index_nesting_is_bounded(site, tmp_path: Path) -> None:
    for level in range(1, 7):
        site.override(
            f"/deep/index-{level}.xml",
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{{{{BASE}}}}/deep/index-{level + 1}.xml</loc></sitemap>"
            "</sitemapindex>",
        )
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        f'[[sources]]\nname = "deep"\nkind = "sitemap"\nurl = "{site.base_url}/deep/index-1.xml"\n'
        "delay = 0\n",
        encoding="utf-8",
    )
    result = run_cli(
        "crawl", "--config", str(cfg), "--db", str(tmp_path / "n.sqlite"), "--format", "json"
    )
    (row,) = json.loads(result.stdout)
    fetched = {r.path for r in site.requests if r.path.startswith("/deep/")}
    assert fetched == {f"/deep/index-{n}.xml" for n in range(1, 5)}  # depth 0..3
    assert any("nested deeper" in w for w in row["warnings"])


@pytest.mark.slow
def test_sitemap_that_is_not_a_sitemap_fails_the_source(site, tmp_path: Path) -> None:
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        f'[[sources]]\nname = "bad"\nkind = "sitemap"\nurl = "{site.base_url}/tribuna/index.html"\n',
        encoding="utf-8",
    )
    result = run_cli(
        "crawl", "--config", str(cfg), "--db", str(tmp_path / "n.sqlite"), "--format", "json"
    )
    assert result.returncode == 1
    (row,) = json.loads(result.stdout)
    assert row["ok"] is False and "not a sitemap" in row["error"]


# ----------------------------------------------------------------------------- listing e2e


@pytest.mark.slow
def test_listing_source_paginates_filters_and_applies_overrides(site, tmp_path: Path) -> None:
    db, summary = crawl(site, tmp_path, ["listingsite"])
    (row,) = summary
    assert row["ok"] is True, row
    paths = [r.path for r in site.requests]
    assert "/listingsite/boletines/" in paths
    assert "/listingsite/boletines/page/2/index.html" in paths
    assert "/listingsite/boletines/page/3/index.html" not in paths  # max_pages = 2
    assert not [p for p in paths if "/tag/" in p or "/autor/" in p or "/categoria/" in p]
    assert not [p for p in paths if "/2025/12/04/" in p or "/2025/12/03/" in p]  # page 3 items
    assert row["new"] == 10  # 6 + seed on page 1, 3 on page 2
    ((title, published, text, language),) = rows(
        db,
        "select title, published_at, text, language from articles where url like ?",
        f"%{MESA}",
    )
    assert title.startswith("Instalan Mesa Estatal de Coordinación")
    assert published.startswith("2025-12-12 00:40")  # 18:40 in Mexico City, UTC−6
    assert text.startswith("Celaya, Gto., 11 de diciembre de 2025.-")
    assert "Notas relacionadas" not in text and "Consulta la información" not in text
    assert language == "es"
    (offset,) = rows(db, "select published_offset from articles where url like ?", f"%{MESA}")[0]
    assert offset == -360


@pytest.mark.slow
def test_listing_without_matching_links_fails_with_the_selector(site, tmp_path: Path) -> None:
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        f'[[sources]]\nname = "sala"\nkind = "listing"\n'
        f'url = "{site.base_url}/listingsite/boletines/"\nlink_selector = "div.nope a"\n',
        encoding="utf-8",
    )
    result = run_cli(
        "crawl", "--config", str(cfg), "--db", str(tmp_path / "n.sqlite"), "--format", "json"
    )
    (row,) = json.loads(result.stdout)
    assert row["ok"] is False
    assert row["error"] == "no article links found with link_selector 'div.nope a'"


# ----------------------------------------------------------------------------- one way in


@pytest.mark.slow
def test_same_article_through_feed_sitemap_and_listing_is_stored_once(site, tmp_path: Path) -> None:
    db, summary = crawl(site, tmp_path, ["tribuna", "sitemapsite", "listingsite"])
    assert all(r["ok"] for r in summary), summary
    (count,) = rows(db, "select count(*) from articles where canonical_url like ?", f"%{SEED}%")[0]
    assert count == 1
    (total, distinct) = rows(db, "select count(*), count(distinct canonical_url) from articles")[0]
    assert total == distinct
    sources = {s for (s,) in rows(db, "select distinct source from articles")}
    assert sources == {"tribuna", "sitemapsite", "listingsite"}
