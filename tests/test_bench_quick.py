"""Smoke test of the benchmark suite: ``python -m tests.bench --quick`` runs and reports every figure.

No thresholds: the figures depend on the machine. What must hold is that each benchmark runs end
to end at its small size and prints well-formed records with the names the README and CI read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

EXPECTED = {
    "fetch_only_pages_per_s",
    "extract_only_pages_per_s",
    "naive_articles_per_s",
    "ingest_articles_per_s",
    "ingest_vs_naive",
    "ingest_vs_limit",
    "ingest_cpu_s_per_article",
    "ingest_peak_memory_mb",
    "naive_many_articles_per_s",
    "ingest_many_articles_per_s",
    "ingest_vs_naive_many",
    "ingest_many_cpu_s_per_article",
    "ingest_many_peak_memory_mb",
    "poll_cycle_s",
    "poll_cycle_cpu_s",
    "bulk_load_articles_per_s",
    "db_bytes_per_article",
    "search_p50_ms",
    "search_p95_ms",
}


def test_quick_benchmarks_print_every_figure() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", "ingest", "ingest_many", "poll", "search"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    for rec in records:
        assert set(rec) == {"name", "value", "unit", "detail"}, rec
        assert isinstance(rec["value"], int | float) and rec["value"] >= 0, rec
        assert isinstance(rec["unit"], str) and rec["unit"], rec
        assert isinstance(rec["detail"], dict), rec
    names = [rec["name"] for rec in records]
    assert set(names) >= EXPECTED, sorted(EXPECTED - set(names))
    assert len(names) == len(set(names)), names
    by_name = {rec["name"]: rec for rec in records}
    assert by_name["ingest_articles_per_s"]["detail"]["counts"]["pages"] > 0
    many = by_name["ingest_many_articles_per_s"]["detail"]
    assert many["counts"]["new"] == many["articles"] > 0
    assert (
        by_name["poll_cycle_s"]["detail"]["not_modified"]
        == by_name["poll_cycle_s"]["detail"]["sources"]
    )


@pytest.mark.skipif(not os.environ.get("NEWSWATCH_TEST_PG_URL"), reason="needs PostgreSQL")
def test_quick_postgres_search_benchmark_prints_its_figures() -> None:
    env = {**os.environ, "NEWSWATCH_BENCH_PG_URL": os.environ["NEWSWATCH_TEST_PG_URL"]}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", "search_pg"],
        cwd=REPO, capture_output=True, text=True, timeout=240, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    by_name = {r["name"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert set(by_name) == {
        "pg_bulk_load_articles_per_s", "pg_db_bytes_per_article", "pg_search_p50_ms",
        "pg_search_p95_ms",
    }  # fmt: skip
    assert by_name["pg_search_p95_ms"]["detail"]["queries"] == 50
    assert all(r["value"] > 0 for r in by_name.values())


def test_quick_web_benchmark_prints_its_figures() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", "web"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    by_name = {r["name"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert {"web_api_search_p95_ms", "web_api_story_p95_ms"} <= set(by_name)
    api = by_name["web_api_search_p95_ms"]["detail"]
    assert api["queries"] == 50 and api["facets"] is True and api["cli_search_p95_ms"] > 0
    assert by_name["web_api_story_p95_ms"]["detail"]["stories"] > 0
    assert all(r["value"] > 0 for r in by_name.values())
