"""robots.txt holds for every request to a host, and one fetch serves every source of the crawl."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_download import ARTICLE, _feed
from tests.test_e2e_cli import run_cli
from tests.test_host_politeness import _source

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def _crawl(cfg: Path, tmp_path: Path) -> list[dict]:
    result = run_cli("crawl", "--config", str(cfg), "--db", str(tmp_path / "r.sqlite"), "--format", "json")  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)


def test_pages_waiting_for_robots_txt_all_obey_it(site, tmp_path: Path) -> None:
    """A feed links to eight pages on another host name, four of them disallowed there: all eight
    reach the robots middleware while that host's robots.txt is being fetched. Scrapy 2.19 gave
    the parsed rules to the first waiter only; the others were let through."""
    site.override("/robots.txt", "User-agent: *\nDisallow: /otro/secreto-\n")
    other = site.base_url.replace("127.0.0.1", "localhost")
    links = [f"/otro/{kind}-{i}.html" for i in range(4) for kind in ("secreto", "abierto")]
    for i, link in enumerate(links):
        site.override(link, ARTICLE.format(i=f"otro {i}"))
    site.override("/otro/feed.xml", _feed(other, links).replace("keepalive-", "otro-"), headers=RSS)
    cfg = tmp_path / "sources.toml"
    cfg.write_text(_source("otro", f"{site.base_url}/otro/feed.xml", 0), encoding="utf-8")
    (run,) = _crawl(cfg, tmp_path)
    paths = [r.path for r in site.requests]
    assert not [p for p in paths if "secreto" in p]
    assert sorted(p for p in paths if "abierto" in p) == sorted(p for p in links if "abierto" in p)
    assert run["new"] == 4


def test_one_robots_txt_fetch_serves_every_source_of_a_host(site, tmp_path: Path) -> None:
    cfg = tmp_path / "sources.toml"
    text = ""
    for feed in ("uno", "dos", "tres"):
        link = f"/{feed}/nota.html"
        site.override(link, ARTICLE.format(i=feed))
        site.override(f"/{feed}/feed.xml", _feed(site.base_url, [link]).replace("keepalive-", feed), headers=RSS)  # fmt: skip
        text += _source(feed, f"{site.base_url}/{feed}/feed.xml", 0)
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
        link = f"/{feed}/nota.html"
        site.override(link, ARTICLE.format(i=feed))
        site.override(f"/{feed}/feed.xml", _feed(site.base_url, [link]).replace("keepalive-", feed), headers=RSS)  # fmt: skip
        text += _source(feed, f"{site.base_url}/{feed}/feed.xml", 0)
    text += '[sources.headers]\n"User-Agent" = "otrobot/1.0 (+https://example.org/otrobot)"\n'
    cfg = tmp_path / "sources.toml"
    cfg.write_text(text, encoding="utf-8")
    runs = {r["source"]: r for r in _crawl(cfg, tmp_path)}
    assert runs["libre"]["new"] == 1
    assert runs["vetado"]["new"] == 0
    assert not site.requests_for("/vetado/")
    assert site.requests_for("/libre/nota.html")
