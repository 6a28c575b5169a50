"""The download delay holds per site: several sources on one host share its pace, and its
robots.txt ``Crawl-delay`` sets the least delay."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest

from crawler.fetching.politeness import HostClock, SharedClockSlot, host_clock, reset_host_clocks
from tests.test_download import ARTICLE, _feed
from tests.test_e2e_cli import run_cli

pytestmark = pytest.mark.slow

DELAY = 0.4
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def _source(name: str, url: str, delay: float) -> str:
    return (
        "[[sources]]\n"
        f'name = "{name}"\n'
        'kind = "feed"\n'
        f'url = "{url}"\n'
        'language = "es"\n'
        'timezone = "America/Hermosillo"\n'
        f"delay = {delay}\n"
        "concurrency = 4\n\n"
    )


def serve_feed(site, name: str, links: list[str], base: str | None = None) -> str:
    """Serve an article at each of ``links`` and ``/<name>/feed.xml`` listing them (on ``base``,
    the fixture server by default); returns the feed's URL."""
    for link in links:
        site.override(link, ARTICLE.format(i=f"{name} {link}"))
    feed = _feed(base or site.base_url, links).replace("keepalive-", f"{name}-")
    site.override(f"/{name}/feed.xml", feed, headers=RSS)
    return f"{site.base_url}/{name}/feed.xml"


def test_two_sources_on_one_site_share_its_delay(site, tmp_path: Path) -> None:
    """Two feeds of one site, crawled together: no two requests to the site closer than the
    delay (the jitter only lengthens it). Each source alone would start with its own robots.txt
    and feed at the same instant as the other's."""
    urls = {
        f: serve_feed(site, f, [f"/{f}/nota-{i}.html" for i in range(3)]) for f in ("uno", "dos")
    }
    cfg = tmp_path / "sources.toml"
    cfg.write_text("".join(_source(f, url, DELAY) for f, url in urls.items()), encoding="utf-8")
    result = run_cli("crawl", "--config", str(cfg), "--db", str(tmp_path / "h.sqlite"), "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(r["new"] for r in json.loads(result.stdout)) == [3, 3]
    times = sorted(r.time for r in site.requests)
    assert len(times) >= 8  # robots.txt and the feed of each source, six articles
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= DELAY - 0.05, [round(g, 3) for g in gaps]


def test_a_site_takes_the_longest_delay_of_its_sources() -> None:
    clock = HostClock()
    quick = SharedClockSlot(8, 0.0, 0.0, clock=clock)
    assert quick.download_delay() == 0.0
    slow = SharedClockSlot(2, 3.0, 0.0, clock=clock)
    assert quick.download_delay() == slow.download_delay() == 3.0
    jittered = SharedClockSlot(2, 1.0, 0.5, clock=clock)
    assert all(3.0 <= jittered.download_delay() <= 4.5 for _ in range(200))


def test_slots_of_one_site_see_each_others_last_request() -> None:
    reset_host_clocks()
    a = SharedClockSlot(4, 1.0, 0.0, clock=host_clock("www.gob.mx"))
    b = SharedClockSlot(4, 1.0, 0.0, clock=host_clock("www.gob.mx"))
    other = SharedClockSlot(4, 1.0, 0.0, clock=host_clock("mx.usembassy.gov"))
    a.lastseen = 100.0
    assert b.lastseen == 100.0
    assert other.lastseen == 0.0
    b.lastseen = 50.0  # a late writer never moves the site's clock back
    assert a.lastseen == 100.0
    reset_host_clocks()
    assert host_clock("www.gob.mx").lastseen == 0.0


def _one_feed(site, tmp_path: Path, robots: str, pages: int = 4) -> Path:
    """Serve ``robots`` and a feed of ``pages`` articles; the sources file (``delay = 0``)."""
    site.override("/robots.txt", robots, headers={"Content-Type": "text/plain"})
    url = serve_feed(site, "lento", [f"/lento/nota-{i}.html" for i in range(pages)])
    cfg = tmp_path / "sources.toml"
    cfg.write_text(_source("lento", url, 0), encoding="utf-8")
    return cfg


def test_robots_crawl_delay_spaces_a_source_without_a_delay(site, tmp_path: Path) -> None:
    cfg = _one_feed(site, tmp_path, "User-agent: *\nCrawl-delay: 0.5\nAllow: /\n")
    result = run_cli("crawl", "--config", str(cfg), "--db", str(tmp_path / "c.sqlite"), "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)[0]["new"] == 4
    times = sorted(r.time for r in site.requests)
    assert len(times) == 6  # robots.txt, the feed, four articles
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.5 - 0.05, [round(g, 3) for g in gaps]


def test_crawl_delay_for_another_robot_is_not_ours(site, tmp_path: Path) -> None:
    cfg = _one_feed(
        site, tmp_path, "User-agent: Googlebot\nCrawl-delay: 5\n\nUser-agent: *\nAllow: /\n"
    )
    started = time.monotonic()
    result = run_cli("crawl", "--config", str(cfg), "--db", str(tmp_path / "c.sqlite"), "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)[0]["new"] == 4
    assert time.monotonic() - started < 15  # five waits of 2.5–7.5 s each would take longer


def test_a_huge_crawl_delay_is_capped_and_reported(site, tmp_path: Path) -> None:
    cfg = _one_feed(site, tmp_path, "User-agent: *\nCrawl-delay: 3600\n", pages=2)
    result = run_cli(
        "crawl", "--config", str(cfg), "--db", str(tmp_path / "c.sqlite"), "--format", "json",
        env={"NEWSWATCH_MAX_CRAWL_DELAY": "0.4"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = json.loads(result.stdout)
    assert run["new"] == 2
    assert any("Crawl-delay of 3600 s" in w and "0.4 s" in w for w in run["warnings"]), run
    times = sorted(r.time for r in site.requests)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.4 - 0.05, [round(g, 3) for g in gaps]


def test_crawl_delay_cap_comes_from_the_environment(monkeypatch) -> None:
    from crawler import settings

    monkeypatch.delenv(settings.ENV_MAX_CRAWL_DELAY, raising=False)
    assert settings.max_crawl_delay() == settings.MAX_CRAWL_DELAY
    assert settings.scrapy_settings()["NEWSWATCH_MAX_CRAWL_DELAY"] == settings.MAX_CRAWL_DELAY
    monkeypatch.setenv(settings.ENV_MAX_CRAWL_DELAY, "5")
    assert settings.max_crawl_delay() == 5.0
    for bad in ("-1", "soon"):
        monkeypatch.setenv(settings.ENV_MAX_CRAWL_DELAY, bad)
        with pytest.raises(settings.SettingsError, match="NEWSWATCH_MAX_CRAWL_DELAY"):
            settings.max_crawl_delay()


def test_robots_ttl_comes_from_the_environment(monkeypatch) -> None:
    from crawler import settings

    monkeypatch.delenv(settings.ENV_ROBOTS_TTL, raising=False)
    assert settings.scrapy_settings()["NEWSWATCH_ROBOTS_TTL"] == settings.ROBOTS_TTL == 3600
    monkeypatch.setenv(settings.ENV_ROBOTS_TTL, "0")
    assert settings.robots_ttl() == 0
    monkeypatch.setenv(settings.ENV_ROBOTS_TTL, "an hour")
    with pytest.raises(settings.SettingsError, match="NEWSWATCH_ROBOTS_TTL"):
        settings.robots_ttl()


def test_a_site_with_a_delay_takes_one_request_at_a_time() -> None:
    """While a request to a site with a delay is on its way no slot of that site sends another
    (the delay runs from its end too); the slots held back are woken when it ends."""
    clock = HostClock()
    first = SharedClockSlot(4, 0.5, 0.0, clock=clock)
    second = SharedClockSlot(4, 0.5, 0.0, clock=clock)
    assert second.free_transfer_slots() == 4
    clock.in_flight = 1
    assert first.free_transfer_slots() == second.free_transfer_slots() == 0
    assert set(clock.held) == {id(first), id(second)}
    no_delay = HostClock()
    quick = SharedClockSlot(4, 0.0, 0.0, clock=no_delay)
    no_delay.in_flight = 3
    assert quick.free_transfer_slots() == 4
