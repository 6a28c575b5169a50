"""The download delay holds per site across sources: several sources on one host share its pace."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from crawler.download import HostClock, SharedClockSlot, host_clock, reset_host_clocks
from tests.test_download import ARTICLE, _feed
from tests.test_e2e_cli import run_cli

DELAY = 0.4


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


def test_two_sources_on_one_site_share_its_delay(site, tmp_path: Path) -> None:
    """Two feeds of one site, crawled together: no two requests to the site closer than the
    delay's lower bound (±50 % jitter). Each source alone would start with its own robots.txt
    and feed at the same instant as the other's."""
    for feed in ("uno", "dos"):
        links = [f"/{feed}/nota-{i}.html" for i in range(3)]
        for i, link in enumerate(links):
            site.override(link, ARTICLE.format(i=f"{feed} {i}"))
        site.override(
            f"/{feed}/feed.xml",
            _feed(site.base_url, links).replace("keepalive-", f"{feed}-"),
            headers={"Content-Type": "application/rss+xml; charset=utf-8"},
        )
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        "".join(_source(f, f"{site.base_url}/{f}/feed.xml", DELAY) for f in ("uno", "dos")),
        encoding="utf-8",
    )
    result = run_cli("crawl", "--config", str(cfg), "--db", str(tmp_path / "h.sqlite"), "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(r["new"] for r in json.loads(result.stdout)) == [3, 3]
    times = sorted(r.time for r in site.requests)
    assert len(times) >= 8  # robots.txt and the feed of each source, six articles
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= DELAY * 0.5 - 0.05, [round(g, 3) for g in gaps]


def test_a_site_takes_the_longest_delay_of_its_sources() -> None:
    clock = HostClock()
    quick = SharedClockSlot(8, 0.0, 0.0, clock=clock)
    assert quick.download_delay() == 0.0
    slow = SharedClockSlot(2, 3.0, 0.0, clock=clock)
    assert quick.download_delay() == slow.download_delay() == 3.0
    jittered = SharedClockSlot(2, 1.0, 0.5, clock=clock)
    assert all(1.5 <= jittered.download_delay() <= 4.5 for _ in range(200))


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
