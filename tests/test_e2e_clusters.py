"""End to end through the real CLI: a second outlet (the sitemap fixture site) republishes the
tribuna seed article under another headline with "Fuente: Tribuna del Yaqui"; search shows the
story once with both outlets, ``--all-copies`` both copies, and ``story`` the cluster."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.support import write_sources_toml
from tests.test_e2e_cli import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_outlets(fixture_server, tmp_path_factory):
    fixture_server.reset_overrides()
    base = tmp_path_factory.mktemp("clusters")
    cfg = write_sources_toml(
        base / "sources.toml", fixture_server.base_url, ["tribuna", "sitemapsite"]
    )
    db = base / "news.sqlite"
    # The original is crawled before the copy: the fixture sitemap also lists the tribuna URL
    # (one host serves both outlets), and within one run whichever source stores a shared URL
    # first owns it, so crawling both at once would make the owner a race.
    for source in ("tribuna", "sitemapsite"):
        result = run_cli("crawl", source, "--config", str(cfg), "--db", str(db), "--format", "json")
        assert result.returncode == 0, result.stderr
    return cfg, db


def cli_json(db, *args: str):
    result = run_cli(*args, "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_search_shows_the_story_once_with_both_outlets(two_outlets):
    _, db = two_outlets
    rows = cli_json(db, "search", "mision cortafuegos")
    assert len(rows) == 1
    (row,) = rows
    assert row["copies"] == 2
    assert sorted(row["outlets"]) == ["sitemapsite", "tribuna"]
    assert row["source"] == "tribuna"  # the credited original represents the story
    assert row["cluster_id"] is not None


def test_all_copies_lists_each_outlet_and_the_credit(two_outlets):
    _, db = two_outlets
    rows = cli_json(db, "search", "mision cortafuegos", "--all-copies")
    assert sorted(r["source"] for r in rows) == ["sitemapsite", "tribuna"]
    assert len({r["cluster_id"] for r in rows}) == 1
    credits = {r["source"]: r["credited_source"] for r in rows}
    assert credits["sitemapsite"] == "Tribuna del Yaqui"
    assert all(r["copies"] == 2 for r in rows)


def test_story_command_lists_the_copies_and_the_representative(two_outlets):
    _, db = two_outlets
    copy = next(
        r
        for r in cli_json(db, "search", "mision cortafuegos", "--all-copies")
        if r["source"] == "sitemapsite"
    )
    story = cli_json(db, "story", str(copy["id"]))
    assert {r["source"] for r in story} == {"tribuna", "sitemapsite"}
    assert [r["source"] for r in story if r["representative"]] == ["tribuna"]
    assert all(r["url"] and r["published_at"] for r in story)
    table = run_cli("story", str(copy["cluster_id"]), "--db", str(db))
    assert table.returncode == 0, table.stderr
    assert "2 copies" in table.stdout
    missing = run_cli("story", "999999", "--db", str(db))
    assert missing.returncode == 2 and "no article or story" in missing.stderr


def test_other_stories_stay_apart_and_export_carries_clusters(two_outlets):
    _, db = two_outlets
    with sqlite3.connect(db) as conn:
        total, stories = conn.execute(
            "select count(*), count(distinct cluster_id) from articles"
        ).fetchone()
    assert total - stories == 1  # only the seed copy joined another article
    records = [
        json.loads(line)
        for line in run_cli("export", "--db", str(db)).stdout.splitlines()
        if line.strip()
    ]
    assert len(records) == total
    assert all({"cluster_id", "credited_source", "copies", "outlets"} <= set(r) for r in records)
    assert sorted(r["copies"] for r in records).count(2) == 2


def test_recluster_at_a_strict_threshold_splits_nothing_here_and_reports(two_outlets, tmp_path):
    _, db = two_outlets
    copy = tmp_path / "copy.sqlite"
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    summary = cli_json(copy, "recluster", "--threshold", "0.8")
    assert summary["multi_member_clusters"] == 1
    assert summary["articles"] == summary["clusters"] + 1
    strict = run_cli("recluster", "--threshold", "1.0", "--db", str(copy))
    assert strict.returncode == 0, strict.stderr
    assert "reclustered" in strict.stdout
    bad = run_cli("recluster", "--threshold", "1.5", "--db", str(copy))
    assert bad.returncode == 2
