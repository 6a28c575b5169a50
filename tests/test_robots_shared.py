"""robots.txt holds for every request to a host, and one fetch serves every source of the crawl."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.test_e2e_cli import run_cli
from tests.test_host_politeness import _source, serve_feed

pytestmark = pytest.mark.slow


def _crawl(cfg: Path, tmp_path: Path, env: dict | None = None) -> list[dict]:
    result = run_cli("crawl", "--config", str(cfg), "--db", str(tmp_path / "r.sqlite"), "--format", "json", env=env)  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)


def test_pages_waiting_for_robots_txt_all_obey_it(site, tmp_path: Path) -> None:
    """A feed links to eight pages on another host name, four of them disallowed there: all eight
    reach the robots middleware while that host's robots.txt is being fetched. Scrapy 2.19 gave
    the parsed rules to the first waiter only; the others were let through."""
    site.override("/robots.txt", "User-agent: *\nDisallow: /otro/secreto-\n")
    other = site.base_url.replace("127.0.0.1", "localhost")
    links = [f"/otro/{kind}-{i}.html" for i in range(4) for kind in ("secreto", "abierto")]
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        _source("otro", serve_feed(site, "otro", links, base=other), 0), encoding="utf-8"
    )
    (run,) = _crawl(cfg, tmp_path)
    paths = [r.path for r in site.requests]
    assert not [p for p in paths if "secreto" in p]
    assert sorted(p for p in paths if "abierto" in p) == sorted(p for p in links if "abierto" in p)
    assert run["new"] == 4


def test_one_robots_txt_fetch_serves_every_source_of_a_host(site, tmp_path: Path) -> None:
    cfg = tmp_path / "sources.toml"
    text = ""
    for feed in ("uno", "dos", "tres"):
        text += _source(feed, serve_feed(site, feed, [f"/{feed}/nota.html"]), 0)
    cfg.write_text(text, encoding="utf-8")
    runs = _crawl(cfg, tmp_path)
    assert [r["new"] for r in runs] == [1, 1, 1]
    assert len(site.requests_for("/robots.txt")) == 1


def test_shared_rules_are_read_with_each_sources_own_user_agent(site, tmp_path: Path) -> None:
    """The parsed file is shared, the verdict is not: a source with its own User-Agent that the
    site shuts out fetches nothing, while the other source of the same site crawls as usual."""
    site.override("/robots.txt", "User-agent: otrobot\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    text = ""
    for feed in ("libre", "vetado"):
        text += _source(feed, serve_feed(site, feed, [f"/{feed}/nota.html"]), 0)
    text += '[sources.headers]\n"User-Agent" = "otrobot/1.0 (+https://example.org/otrobot)"\n'
    cfg = tmp_path / "sources.toml"
    cfg.write_text(text, encoding="utf-8")
    runs = {r["source"]: r for r in _crawl(cfg, tmp_path)}
    assert runs["libre"]["new"] == 1
    assert runs["vetado"]["new"] == 0
    assert not site.requests_for("/vetado/")
    assert site.requests_for("/libre/nota.html")


def test_a_later_run_reuses_the_kept_robots_txt_rules_and_delay(site, tmp_path: Path) -> None:
    """The second run asks nothing of robots.txt: the kept file still disallows, and its
    Crawl-delay still spaces the requests, although the site now serves a different file."""
    site.override("/robots.txt", "User-agent: *\nCrawl-delay: 0.4\nDisallow: /cache/secreto-\n")
    url = serve_feed(site, "cache", ["/cache/abierto-0.html", "/cache/secreto-0.html"])
    cfg = tmp_path / "sources.toml"
    cfg.write_text(_source("cache", url, 0), encoding="utf-8")
    (first,) = _crawl(cfg, tmp_path)
    assert first["new"] == 1
    assert len(site.requests_for("/robots.txt")) == 1
    site.override("/robots.txt", "User-agent: *\nAllow: /\n")
    serve_feed(
        site, "cache", [f"/cache/abierto-{i}.html" for i in range(3)] + ["/cache/secreto-1.html"]
    )
    site.clear_log()
    (second,) = _crawl(cfg, tmp_path)
    assert second["new"] == 2
    assert not site.requests_for("/robots.txt")
    assert not [r for r in site.requests if "secreto" in r.path]
    times = sorted(r.time for r in site.requests)
    assert len(times) == 3  # the feed and two new articles
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.4 - 0.05


def test_robots_txt_is_fetched_again_when_stale_or_after_a_server_error(
    site, tmp_path: Path
) -> None:
    url = serve_feed(site, "cache", ["/cache/abierto-0.html"])
    cfg = tmp_path / "sources.toml"
    cfg.write_text(_source("cache", url, 0), encoding="utf-8")
    _crawl(cfg, tmp_path)
    _crawl(cfg, tmp_path, env={"NEWSWATCH_ROBOTS_TTL": "0"})
    assert len(site.requests_for("/robots.txt")) == 2
    site.override("/robots.txt", "busy", status=500)
    site.clear_log()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    _crawl(cfg, fresh)
    _crawl(cfg, fresh)  # the 500 was not kept: asked again
    assert len(site.requests_for("/robots.txt")) == 2 * 3  # each run: the request and 2 retries
