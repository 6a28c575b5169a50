"""End to end through the real CLI: relevance, topics, entities, embedded posts, rescore and the
``keep = "relevant"`` policy, over a real crawl of the fixture sites."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from crawler.analysis.relevance import DEFAULT_PROFILE
from tests.support import write_sources_toml
from tests.test_e2e_cli import SEED_URL_PART, run_cli

pytestmark = pytest.mark.slow

GUAYMAS_URL_PART = "arsenal-en-carretera-hermosillo-guaymas"
OFF_TOPIC_URL_PARTS = ("yaquis-de-obregon", "frente-frio-18")


@pytest.fixture(scope="module")
def analysed(fixture_server, tmp_path_factory):
    """One crawl of the two feed sites, shared read-only by the module's tests."""
    fixture_server.reset_overrides()
    base = tmp_path_factory.mktemp("analysis")
    cfg = write_sources_toml(base / "sources.toml", fixture_server.base_url)
    db = base / "news.sqlite"
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
    return db


def cli_json(db, *args: str):
    result = run_cli(*args, "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def seed_record(db) -> dict:
    rows = cli_json(db, "search", '"Misión Cortafuegos"', "--source", "tribuna")
    return next(r for r in rows if SEED_URL_PART in r["url"])


def test_seed_article_is_relevant_with_topics_and_entities(analysed):
    seed = seed_record(analysed)
    assert seed["relevant"] is True
    assert seed["relevance"] >= 0.5
    assert {"security_cooperation", "arms_trafficking"} <= set(seed["topics"])
    ids = {e["id"] for e in seed["entities"]}
    assert "sre" in ids
    assert ids & {"ronald_johnson", "us_embassy_mx"}


def test_seed_posts_are_records_and_out_of_the_body(analysed):
    seed = seed_record(analysed)
    posts = seed["posts"]
    assert [p["handle"] for p in posts] == ["SRE_mx", "USAmbMex"]
    assert posts[0]["author"] == "Relaciones Exteriores"
    assert posts[0]["date"] == "2025-12-11"
    assert posts[0]["text"].startswith("📸 Esta mañana")
    assert "🇺🇸🇲🇽" in posts[1]["text"]
    assert all(p["platform"] == "twitter" and "/status/" in p["url"] for p in posts)
    for fragment in ("Esta mañana, el encargado", "socios soberanos", "pic.twitter.com", "uD83"):
        assert fragment not in seed["text"]


def test_search_posts_finds_the_sre_statement(analysed):
    for query in ("SRE_mx", "relaciones exteriores"):
        rows = cli_json(analysed, "search", query, "--posts")
        assert rows, query
        top = rows[0]
        assert top["handle"] == "SRE_mx"
        assert SEED_URL_PART in top["article_url"]
        assert top["source"] == "tribuna"
    assert cli_json(analysed, "search", "Yaquis", "--posts") == []


def test_relevant_filter_drops_off_topic_articles(analysed):
    rows = cli_json(analysed, "search", "--relevant", "--all-copies", "--limit", "100")
    urls = [r["url"] for r in rows]
    assert any(SEED_URL_PART in u for u in urls)
    for part in OFF_TOPIC_URL_PARTS:
        assert not any(part in u for u in urls), part
    assert all(r["relevant"] is True for r in rows)
    everything = cli_json(analysed, "export", "--format", "json")
    assert len(rows) < len(everything)
    scored = [r for r in everything if any(p in r["url"] for p in OFF_TOPIC_URL_PARTS)]
    assert len(scored) == 2 and all(r["relevant"] is False for r in scored)


def test_topic_entity_and_score_filters(analysed):
    arms = cli_json(analysed, "search", "--topic", "arms_trafficking", "--all-copies")
    assert any(GUAYMAS_URL_PART in r["url"] for r in arms)
    assert all("arms_trafficking" in r["topics"] for r in arms)
    both = cli_json(analysed, "search", "--topic", "arms_trafficking", "--topic", "illicit_finance")
    assert {r["id"] for r in both} <= {r["id"] for r in arms}
    by_name = cli_json(analysed, "search", "--entity", "Secretaria de Relaciones Exteriores")
    by_id = cli_json(analysed, "search", "--entity", "sre")
    assert by_name and {r["id"] for r in by_name} == {r["id"] for r in by_id}
    assert any(SEED_URL_PART in r["url"] for r in by_id)
    high = cli_json(analysed, "search", "--min-score", "0.9", "--all-copies", "--limit", "100")
    assert high and all(r["relevance"] >= 0.9 for r in high)
    result = run_cli("search", "--db", str(analysed))
    assert result.returncode == 2 and "--topic" in result.stderr


def test_explain_shows_topics_and_matched_terms(analysed):
    result = run_cli(
        "search", "cortafuegos", "--explain", "--db", str(analysed), env={"COLUMNS": "250"}
    )
    assert result.returncode == 0, result.stderr
    assert "Misión Cortafuegos ×1" in result.stdout
    assert "security_cooperation" in result.stdout
    (row,) = [
        r for r in cli_json(analysed, "search", "cortafuegos", "--explain") if "matched" in r
    ][:1]
    assert row["matched"]["arms_trafficking"]["Misión Cortafuegos"] == 1


def test_rescore_with_a_strict_profile_makes_nothing_relevant(analysed, tmp_path):
    """Threshold 0.99 alone is not enough (a strong article saturates at 1.0), so the user's
    profile also flattens the score curve; the packaged profile then restores the verdicts."""
    db = tmp_path / "news.sqlite"
    shutil.copyfile(analysed, db)
    packaged = DEFAULT_PROFILE.read_text(encoding="utf-8")
    strict = tmp_path / "strict.toml"
    strict_text = packaged.replace("\nthreshold = ", "\nthreshold = 0.99 # was ", 1)
    strict_text = strict_text.replace("\nsaturation = ", "\nsaturation = 400 # was ", 1)
    strict.write_text(strict_text, encoding="utf-8")
    assert cli_json(db, "search", "--relevant")
    result = run_cli("rescore", "--db", str(db), "--topics", str(strict), "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["relevant_before"] > 0 and summary["relevant_after"] == 0
    assert summary["threshold"] == 0.99
    empty = run_cli("search", "--relevant", "--db", str(db), "--format", "json")
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
    back = run_cli("rescore", "--db", str(db))
    assert back.returncode == 0 and "→" in back.stdout
    assert cli_json(db, "search", "--relevant")


def _keep_relevant_config(path, base_url):
    cfg = write_sources_toml(path, base_url, ["tribuna"])
    text = cfg.read_text(encoding="utf-8").replace(
        'name = "tribuna"\n', 'name = "tribuna"\nkeep = "relevant"\n'
    )
    cfg.write_text(text, encoding="utf-8")
    return cfg


def test_keep_relevant_remembers_off_topic_articles_without_text(site, tmp_path):
    cfg = _keep_relevant_config(tmp_path / "sources.toml", site.base_url)
    db = tmp_path / "news.sqlite"
    first = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert first.returncode == 0, first.stderr
    (summary,) = json.loads(first.stdout)
    assert summary["skipped"] >= 2
    with sqlite3.connect(db) as conn:
        skipped = dict(conn.execute("SELECT url, title FROM skipped").fetchall())
        stored = [r[0] for r in conn.execute("SELECT url FROM articles")]
        fts_hits = conn.execute(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'naranjeros'"
        ).fetchone()[0]
    for part in OFF_TOPIC_URL_PARTS:
        assert any(part in u for u in skipped), part
        assert not any(part in u for u in stored), part
    assert any(SEED_URL_PART in u for u in stored)
    assert all(title for title in skipped.values())
    assert fts_hits == 0
    exported = cli_json(db, "export")
    assert not any(p in r["url"] for r in exported for p in OFF_TOPIC_URL_PARTS)
    assert cli_json(db, "search", "naranjeros") == []

    site.clear_log()
    feed = site.fetch("/tribuna/feed.xml").decode("utf-8") + "\n<!-- changed -->\n"
    site.override("/tribuna/feed.xml", feed)
    second = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert second.returncode == 0, second.stderr
    (again,) = json.loads(second.stdout)
    assert again["entries"] > 0 and again["pages"] == 0 and again["new"] == 0
    paths = [r.path for r in site.requests]
    assert any(p.startswith("/tribuna/feed.xml") for p in paths)
    for part in (*OFF_TOPIC_URL_PARTS, SEED_URL_PART):
        assert not any(part in p for p in paths), part
