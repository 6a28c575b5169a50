"""``newswatch sources --check [--online]``: what each source serves, judged by the crawler's own
parsers, with a suggested fix — against the fixture server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path

from crawler.config import Source
from crawler.fetching.check import check_source, classify, fetch
from tests.support import FIXTURES_DIR, write_sources_toml
from tests.support.hostile import HostileServer
from tests.test_e2e_cli import run_cli


def test_classify_feed_sitemaps_listing_and_other() -> None:
    base = "http://127.0.0.1:1"
    feed = (FIXTURES_DIR / "tribuna" / "feed.xml").read_bytes().replace(b"{{BASE}}", b"x")
    assert classify(feed, f"{base}/tribuna/feed.xml").serves == "feed"
    index = (FIXTURES_DIR / "sitemapsite" / "sitemap_index.xml").read_bytes()
    assert (classify(index, f"{base}/s.xml").serves, classify(index, f"{base}/s.xml").items) == (
        "sitemap index",
        3,
    )
    gz = (FIXTURES_DIR / "sitemapsite" / "sitemap-recientes.xml.gz").read_bytes()
    assert (classify(gz, f"{base}/r.xml.gz").serves, classify(gz, f"{base}/r.xml.gz").items) == (
        "sitemap",
        3,
    )
    html = (FIXTURES_DIR / "tribuna" / "index.html").read_bytes().replace(b"{{BASE}}", b"")
    served = classify(html, f"{base}/tribuna/")
    assert served.serves == "HTML listing" and served.items > 0
    assert served.feed_links == (f"{base}/tribuna/feed.xml",)
    assert classify(b'{"a": 1}', f"{base}/x.json").serves == "other"


def _source(url: str, **kw: object) -> Source:
    return Source(name="s", kind=str(kw.pop("kind", "feed")), url=url, **kw)  # type: ignore[arg-type]


def test_html_page_configured_as_feed_suggests_its_alternate_feed(site) -> None:
    result = check_source(_source(site.url("/tribuna/")))
    assert not result.ok
    assert result.status == 200 and result.serves == "HTML listing"
    assert result.suggestion is not None
    assert "use that as a feed" in result.suggestion
    assert site.url("/tribuna/feed.xml") in result.suggestion


def test_sitemap_site_root_reads_robots_then_the_sitemap(site) -> None:
    result = check_source(_source(site.base_url + "/", kind="sitemap"))
    assert result.ok, result
    assert result.serves == "robots.txt → sitemap index"
    assert [r.path for r in site.requests] == ["/robots.txt", "/sitemapsite/sitemap_index.xml"]


def test_sitemap_kind_on_html_points_at_robots_sitemaps(site) -> None:
    result = check_source(_source(site.url("/tribuna/index.html"), kind="sitemap"))
    assert not result.ok
    assert result.suggestion is not None and "robots.txt lists sitemaps" in result.suggestion


def test_feed_configured_as_listing_says_use_kind_feed(site) -> None:
    result = check_source(_source(site.url("/tribuna/feed.xml"), kind="listing"))
    assert not result.ok and result.serves == "feed"
    assert result.suggestion == 'this URL is a feed: use kind = "feed"'


def test_fetch_sends_our_user_agent_and_source_headers(site) -> None:
    answer = fetch(site.url("/tribuna/feed.xml"), {"X-Test": "sí"[:1]})
    assert answer.status == 200
    (request,) = site.requests
    assert request.headers["User-Agent"].startswith("newswatch/")
    assert request.headers["X-Test"] == "s"


def test_unreachable_host_is_reported_not_raised() -> None:
    result = check_source(_source("http://127.0.0.1:9/feed.xml"))
    assert result.status is None and not result.ok
    assert result.suggestion is not None and "host name" in result.suggestion


def _config(site, tmp_path: Path) -> Path:
    cfg = write_sources_toml(
        tmp_path / "sources.toml",
        site.base_url,
        ["tribuna", "borderreport", "sitemapsite", "listingsite"],
    )
    cfg.write_text(
        cfg.read_text()
        + f'\n[[sources]]\nname = "gone"\nurl = "{site.base_url}/no-existe/feed.xml"\n',
        encoding="utf-8",
    )
    return cfg


def test_cli_check_online_json(site, tmp_path: Path) -> None:
    result = run_cli("sources", "--check", "--online", "--config", str(_config(site, tmp_path)),
                     "--format", "json")  # fmt: skip
    assert result.returncode == 1, result.stderr
    by_name = {r["name"]: r for r in json.loads(result.stdout)}
    assert {n: r["ok"] for n, r in by_name.items()} == {
        "tribuna": True,
        "borderreport": True,
        "sitemapsite": True,
        "listingsite": True,
        "gone": False,
    }
    assert by_name["tribuna"]["serves"] == "feed" and by_name["tribuna"]["items"] == 6
    assert by_name["listingsite"]["serves"] == "HTML listing"
    assert by_name["listingsite"]["items"] == 7
    assert by_name["gone"]["status"] == 404
    assert "check the URL" in by_name["gone"]["suggestion"]


def test_cli_check_online_table_for_named_sources(site, tmp_path: Path) -> None:
    cfg = _config(site, tmp_path)
    result = run_cli("sources", "--check", "--online", "--config", str(cfg), "tribuna",
                     env={"COLUMNS": "200"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "tribuna" in result.stdout and "feed" in result.stdout
    assert "gone" not in result.stdout


def test_cli_check_offline_only_validates(site, tmp_path: Path) -> None:
    cfg = _config(site, tmp_path)
    result = run_cli("sources", "--check", "--config", str(cfg), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"config": str(cfg), "valid": True, "sources": 5}
    assert site.requests == []
    bad = tmp_path / "bad.toml"
    bad.write_text('[[sources]]\nname = "x"\nurl = "https://x.mx/"\ndeny = ["("]\n')
    result = run_cli("sources", "--check", "--config", str(bad))
    assert result.returncode == 2
    assert "source 'x': key 'deny': bad regular expression '('" in result.stderr


def test_cli_online_without_check_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("sources", "--online")
    assert result.returncode == 2
    assert "--online needs --check" in result.stderr


def test_fetch_follows_redirects_itself_and_checks_every_hop(monkeypatch) -> None:
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE", "127.0.0.1")
    with HostileServer(max_wait=10) as hostile:
        answer = fetch(hostile.url("/chain/3"))
        assert answer.status == 200 and answer.url == hostile.url("/chain/0")
        to_metadata = fetch(hostile.url("/redirect?to=http://169.254.169.254/latest/meta-data/"))
        to_private = fetch(hostile.url("/redirect?to=http://10.255.255.1/feed.xml"))
        to_ftp = fetch(hostile.url("/redirect?to=ftp://example.com/feed.xml"))
        looping = fetch(hostile.url("/loop/a"))
        loop_requests = hostile.hits("/loop/")
    assert to_metadata.status is None and to_metadata.error is not None
    assert to_metadata.error.startswith("refused: 169.254.169.254 is a link-local address")
    assert to_private.error is not None and "10.255.255.1 is a private address" in to_private.error
    assert to_ftp.error == "refused: ftp: URLs are not fetched (ftp://example.com/feed.xml)"
    assert looping.status is None and looping.error == "no answer: more than 5 redirects"
    assert loop_requests == 6


def test_fetch_refuses_private_addresses_unless_allowed(monkeypatch) -> None:
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE", "0")
    answer = fetch("http://127.0.0.1:9/feed.xml")
    assert answer.status is None and answer.error is not None
    assert "loopback" in answer.error and "NEWSWATCH_ALLOW_PRIVATE" in answer.error
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE", "1")
    assert "link-local" in (fetch("http://[::ffff:a9fe:a9fe]/").error or "")


def test_fetch_keeps_a_total_deadline_against_a_trickling_body() -> None:
    with HostileServer(max_wait=10) as hostile:
        started = time.monotonic()
        answer = fetch(hostile.url("/trickle"), timeout=1.0)
        took = time.monotonic() - started
    assert answer.status is None and answer.error == "no answer within 1 s"
    assert took < 3.0, took
