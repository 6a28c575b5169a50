"""End to end through the real ``newswatch`` CLI: a real Scrapy crawl over HTTP of the fixture sites
on 127.0.0.1 into a real SQLite file, then search and export."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support import write_sources_toml

pytestmark = pytest.mark.slow

SEED_URL_PART = "grupo-de-implementacion"


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120, env: dict | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1", **(env or {})}
    env.pop("NEWSWATCH_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="module")
def crawled(fixture_server, tmp_path_factory):
    """One real crawl of the fixture sites, shared by the module's tests (read-only)."""
    fixture_server.reset_overrides()
    base = tmp_path_factory.mktemp("crawled")
    cfg = write_sources_toml(base / "sources.toml", fixture_server.base_url)
    db = base / "news.sqlite"
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
    return cfg, db, json.loads(result.stdout)


@pytest.fixture()
def corpus(crawled, site, tmp_path):
    """The crawled database, copied so a test may change it."""
    cfg, db, summary = crawled
    copy = tmp_path / "news.sqlite"
    shutil.copyfile(db, copy)
    return cfg, copy, summary


def search_json(db: Path, *args: str) -> list[dict]:
    result = run_cli("search", *args, "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_crawl_summary_counts_every_source(corpus):
    _, _, summary = corpus
    by_source = {r["source"]: r for r in summary}
    assert set(by_source) == {"tribuna", "borderreport"}
    for row in summary:
        assert row["ok"] is True
        assert row["entries"] > 0
        assert row["new"] > 0
        assert row["pages"] >= row["new"]


def test_accent_free_query_finds_seed_article(corpus):
    _, db, _ = corpus
    rows = search_json(db, "mision cortafuegos")
    assert rows, "seed article not found"
    top = rows[0]
    assert top["source"] == "tribuna"
    assert SEED_URL_PART in top["url"]
    assert "Grupo de Implementación de Seguridad" in top["title"]
    assert "Misión Cortafuegos" in top["text"]
    assert top["language"] == "es"
    assert top["snippet"]


def test_seed_article_published_on_the_day_in_sonora_time(corpus):
    _, db, _ = corpus
    top = search_json(db, '"Misión Cortafuegos"')[0]
    published = datetime.fromisoformat(top["published_at"])
    assert published.utcoffset() is not None
    local = published.astimezone(ZoneInfo("America/Hermosillo"))
    assert local.date().isoformat() == "2025-12-11"
    assert published.utcoffset().total_seconds() == -7 * 3600


def test_seed_article_body_has_no_boilerplate(corpus):
    _, db, _ = corpus
    text = search_json(db, "cortafuegos")[0]["text"]
    assert text.startswith("Ciudad de México")
    assert "calendario de reuniones periódicas" in text
    for junk in (
        "Notas relacionadas",
        "Compartir",
        "WhatsApp",
        "Lo más leído",
        "Todos los derechos",
    ):
        assert junk not in text, junk


def test_search_filters_source_language_and_dates(corpus):
    _, db, _ = corpus
    assert search_json(db, "fentanyl", "--source", "borderreport")
    assert all(
        r["source"] == "borderreport"
        for r in search_json(db, "fentanyl", "--source", "borderreport")
    )
    assert all(r["language"] == "en" for r in search_json(db, "border", "--lang", "en"))
    assert search_json(db, "cortafuegos", "--since", "2025-12-11", "--until", "2025-12-12")
    assert not search_json(db, "cortafuegos", "--since", "2025-12-12")


def test_second_crawl_adds_nothing_and_fetches_no_article_again(corpus, site):
    cfg, db, _ = corpus
    site.clear_log()
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    for row in json.loads(result.stdout):
        assert row["new"] == 0 and row["updated"] == 0
    paths = [r.path for r in site.requests]
    assert not [p for p in paths if not p.endswith((".xml", "robots.txt"))], paths
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute("select count(*) from articles").fetchone()
        (distinct,) = conn.execute("select count(distinct canonical_url) from articles").fetchone()
    assert n == distinct


def test_changed_article_is_updated_in_place(corpus, site):
    cfg, db, _ = corpus
    seed = search_json(db, "cortafuegos")[0]
    path = "/" + seed["url"].split("/", 3)[3]
    page = site.fetch(path).decode("utf-8")
    site.override(path, page.replace("Misión Cortafuegos", "Misión Cortafuegos Ampliada", 1))
    # The outlet edits the story and its feed entry carries the new time, as WordPress does.
    feed = site.fetch("/tribuna/feed.xml").decode("utf-8")
    edited = format_datetime(datetime.now(UTC) + timedelta(minutes=1))
    site.override(
        "/tribuna/feed.xml",
        feed.replace("Thu, 11 Dec 2025 09:15:00 -0700", edited, 1),
        headers={"Content-Type": "application/rss+xml"},
    )
    with sqlite3.connect(db) as conn:
        before = conn.execute("select count(*) from articles").fetchone()[0]
    site.clear_log()
    result = run_cli("crawl", "tribuna", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)[0]
    assert summary["updated"] == 1 and summary["new"] == 0
    assert [r.path for r in site.requests if "/2025/" in r.path] == [path]
    rows = search_json(db, '"Cortafuegos Ampliada"')
    assert len(rows) == 1 and rows[0]["id"] == seed["id"]
    assert rows[0]["updated_at"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from articles").fetchone()[0] == before


def test_export_formats(corpus, tmp_path):
    _, db, _ = corpus
    out = tmp_path / "all.csv"
    result = run_cli("export", "--db", str(db), "--format", "csv", "--output", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) >= 6
    assert {"url", "source", "title", "published_at", "language", "authors", "text"} <= set(rows[0])
    jl = run_cli("export", "--db", str(db), "--format", "jsonl", "--source", "tribuna")
    lines = [json.loads(line) for line in jl.stdout.splitlines() if line.strip()]
    assert lines and all(r["source"] == "tribuna" for r in lines)


def test_search_table_output(corpus):
    _, db, _ = corpus
    result = run_cli("search", "mision cortafuegos", "--db", str(db), env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "Grupo de Implementación" in result.stdout
    assert "2025-12-11" in result.stdout


@pytest.mark.parametrize("query", ['"unbalanced', "AND", "OR", "   "])
def test_bad_query_exits_2_with_message(corpus, query):
    _, db, _ = corpus
    result = run_cli("search", query, "--db", str(db))
    assert result.returncode == 2
    assert "bad query" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_exits_2_naming_file_source_and_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[[sources]]\nname = "x"\nkind = "feed"\nurl = "https://example.org/feed"\ninterval = "soon"\n',
        encoding="utf-8",
    )
    result = run_cli("crawl", "--config", str(cfg), "--db", str(tmp_path / "db.sqlite"))
    assert result.returncode == 2
    assert "bad.toml" in result.stderr and "'x'" in result.stderr and "interval" in result.stderr
    assert "Traceback" not in result.stderr


def test_failing_source_exit_1_but_others_stored(site, tmp_path):
    cfg = write_sources_toml(tmp_path / "sources.toml", site.base_url)
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(
        text.replace("/borderreport/atom.xml", "/borderreport/missing.xml"), encoding="utf-8"
    )
    db = tmp_path / "db.sqlite"
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 1
    by_source = {r["source"]: r for r in json.loads(result.stdout)}
    assert by_source["borderreport"]["ok"] is False
    assert "404" in by_source["borderreport"]["error"]
    assert by_source["tribuna"]["new"] > 0
    status = run_cli("status", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["daemon"] is None
    from storage.db import sqlite_dbapi

    assert report["database"] == {
        "url": f"sqlite:///{db}",
        "backend": "sqlite",
        "version": sqlite_dbapi().sqlite_version,
        "driver": sqlite_dbapi().__name__.split(".")[0],
        "search_threads": report["database"]["search_threads"],
    }
    assert report["database"]["search_threads"] >= 1
    table = run_cli("status", "--config", str(cfg), "--db", str(db))
    assert f"database: sqlite:///{db} (sqlite {sqlite_dbapi().sqlite_version} via" in " ".join(
        table.stdout.split()
    )
    rows = {r["name"]: r for r in report["sources"]}
    assert rows["borderreport"]["consecutive_failures"] == 1
    assert "404" in rows["borderreport"]["last_error"]
    assert rows["tribuna"]["articles_total"] > 0


def test_sources_lists_config(tmp_path, site):
    cfg = write_sources_toml(tmp_path / "sources.toml", site.base_url)
    result = run_cli("sources", "--config", str(cfg), "--format", "json")
    assert result.returncode == 0, result.stderr
    names = [s["name"] for s in json.loads(result.stdout)]
    assert names == ["tribuna", "borderreport"]


def test_packaged_catalog_lists_tribuna_first(tmp_path):
    result = run_cli("sources", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["name"] == "tribuna-del-yaqui"


def test_bad_environment_override_exits_2_with_one_line(site, tmp_path):
    cfg = write_sources_toml(tmp_path / "sources.toml", site.base_url)
    result = run_cli(
        "crawl", "--config", str(cfg), "--db", str(tmp_path / "db.sqlite"),
        env={"NEWSWATCH_RETRY_TIMES": "many"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "NEWSWATCH_RETRY_TIMES" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_inline_promo_and_copyright_lines_stay_out_of_bodies(corpus):
    _, db, _ = corpus
    nogales = search_json(db, "fentanilo Nogales", "--source", "tribuna")[0]
    assert "Lee también" not in nogales["text"]
    otay = search_json(db, "Otay Mesa", "--source", "borderreport")[0]
    assert "All rights reserved" not in otay["text"]


def test_extraction_in_worker_processes_stores_the_same_articles(crawled, site, tmp_path):
    cfg, reference_db, _ = crawled
    db = tmp_path / "pool.sqlite"
    result = run_cli(
        "crawl", "--config", str(cfg), "--db", str(db), "--format", "json",
        env={"NEWSWATCH_INLINE_FIRST": "0", "NEWSWATCH_EXTRACT_WORKERS": "2"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sum(r["new"] for r in json.loads(result.stdout)) == 9

    def corpus_of(path: Path) -> set[tuple]:
        with sqlite3.connect(path) as conn:
            rows = conn.execute(
                "select canonical_url, title, text, published_at, content_hash, relevant from articles"
            ).fetchall()
        return {tuple(str(v).replace(site.base_url, "") for v in row) for row in rows}

    assert corpus_of(db) == corpus_of(reference_db)
