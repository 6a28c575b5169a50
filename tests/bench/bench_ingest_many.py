"""Ingest throughput over many feed sources with heavy pages, side by side with the naive pipeline.

The standing performance rule asks for ingest ≥ 2× the naive pipeline on the benchmark site
(``bench_ingest``) *and* on a many-source site with heavy pages, which this module measures:

- the site: :data:`PAGES` generated pages of 100–300 KB (sidebar and state blob grow, the story
  does not), and :data:`FEEDS` RSS feeds of :data:`FEED_ITEMS` items each, all on one host;
  the feeds list disjoint stories, so the sources cover ``FEEDS × FEED_ITEMS`` article pages;
- ``naive_many_articles_per_s``: the same naive spider as ``bench_ingest`` (Scrapy +
  ``trafilatura.extract`` in the callback + one SQLite commit per item) over the feeds' article
  URLs;
- ``ingest_many_articles_per_s``: the real ``newswatch crawl`` over a sources file with one feed
  source per feed (delay 0, the default per-source concurrency), and the ratio between the two.

As in ``bench_ingest``, the two pipelines run alternately :data:`ROUNDS` times, each keeps its
best run, and each runs as a child process whose wall, CPU and memory are its own.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.bench.bench_ingest import (
    ROUNDS,
    ChildRun,
    _check,
    _crawl_totals,
    _rows,
    bench_env,
    record,
    run_child,
)
from tests.bench.sitegen import PLACEHOLDER, Site, build_site, serve_site

PAGES = 2000
FEEDS = 20
FEED_ITEMS = 75
PAGE_KB = (100, 300)
SOURCE_CONCURRENCY = 4
"""The per-source default: twenty sources on one host keep up to 80 requests in flight."""

_ITEM_LINK = re.compile(
    r"<item><title>.*?</title><link>" + re.escape(PLACEHOLDER) + r"([^<]+)</link>"
)


def feed_article_paths(site: Site) -> list[str]:
    """The article paths the feeds list, feed by feed, each once."""
    seen: dict[str, None] = {}
    for feed in site.feed_paths:
        text = (site.templates_dir / feed.lstrip("/")).read_text(encoding="utf-8")
        seen.update(dict.fromkeys(_ITEM_LINK.findall(text)))
    return list(seen)


def sources_toml(base: str, site: Site) -> str:
    lines = ["[defaults]", "delay = 0", f"concurrency = {SOURCE_CONCURRENCY}", ""]
    for n, feed in enumerate(site.feed_paths):
        lines += [
            "[[sources]]",
            f'name = "vigia-{n:02d}"',
            f'title = "El Vigía del Noroeste, feed {n} (benchmark site)"',
            'kind = "feed"',
            f'url = "{base}{feed}"',
            'language = "es"',
            'timezone = "America/Hermosillo"',
            'interval = "30m"',
            "",
        ]
    return "\n".join(lines)


def _processed(totals: dict[str, int]) -> int:
    return totals.get("new", 0) + totals.get("updated", 0) + totals.get("duplicates", 0)


def _memory(run: ChildRun) -> dict[str, float]:
    return {
        "peak_pss_mb": round(run.peak_pss_mb, 1),
        "peak_rss_sum_mb": round(run.peak_rss_mb, 1),
        "largest_process_rss_mb": round(run.peak_single_rss_mb, 1),
    }


def run(quick: bool = False) -> Iterator[dict]:
    pages, feeds, items = (200, 4, 20) if quick else (PAGES, FEEDS, FEED_ITEMS)
    site = build_site(pages, feeds=feeds, feed_items=items, page_kb=PAGE_KB)
    paths = feed_article_paths(site)
    env = bench_env()
    with serve_site(site) as server, tempfile.TemporaryDirectory(prefix="nw-many-") as tmp_s:
        tmp = Path(tmp_s)
        base = server.base_url
        url_file = tmp / "urls.txt"
        url_file.write_text("\n".join(base + p for p in paths))
        cfg = tmp / "sources.toml"
        cfg.write_text(sources_toml(base, site), encoding="utf-8")
        feed_kb = sum(site.page_file(p).stat().st_size for p in paths) / len(paths) / 1024
        common = {
            "server": server.kind, "sources": feeds, "feed_items": items, "articles": len(paths),
            "page_kb": list(PAGE_KB), "mean_page_kb": round(feed_kb, 1), "quick": quick,
        }  # fmt: skip
        naives: list[tuple[float, ChildRun, dict, int]] = []
        ingests: list[tuple[float, ChildRun, dict, int]] = []
        for n in range(1 if quick else ROUNDS):
            naive_db = tmp / f"naive-{n}.sqlite"
            child = run_child(
                ["-m", "tests.bench.bench_ingest", "naive", str(url_file), str(naive_db)],
                env=env, server=server,
            )  # fmt: skip
            _check(child, "naive pipeline")
            stats = json.loads(child.stdout.strip().splitlines()[-1])
            naives.append((stats["stored"] / child.wall_s, child, stats, _rows(naive_db)))
            db = tmp / f"ingest-{n}.sqlite"
            child = run_child(
                ["-m", "scheduler.cli", "crawl", "--config", str(cfg), "--db", str(db),
                 "--format", "json", "--log-level", "WARNING"],
                env=env, server=server,
            )  # fmt: skip
            _check(child, "newswatch crawl")
            totals = _crawl_totals(child.stdout)
            ingests.append((_processed(totals) / child.wall_s, child, totals, _rows(db)))
        yield from _records(common, naives, ingests)


def _records(common: dict, naives: list, ingests: list) -> Iterator[dict]:
    naive_rate, naive, stats, naive_rows = max(naives, key=lambda r: r[0])
    yield record(
        "naive_many_articles_per_s", naive_rate, "articles/s", **common,
        stored=stats["stored"], empty=stats["empty"], rows=naive_rows,
        wall_s=round(naive.wall_s, 2), cpu_s=round(naive.cpu_s, 2),
        cpu_ms_per_article=round(1000 * naive.cpu_s / max(stats["stored"], 1), 2),
        **_memory(naive), server_cpu_s=naive.server_cpu_s, loadavg_1m=naive.loadavg_1m,
        rounds=[round(r[0], 1) for r in naives], best_of=len(naives),
        what="bench_ingest's naive spider (Scrapy + trafilatura in the callback + sqlite3 commit "
             "per item) over the feeds' article URLs",
    )  # fmt: skip
    rate, ingest, totals, rows = max(ingests, key=lambda r: r[0])
    processed = _processed(totals)
    detail = {
        **common, "source_kind": "feed", "source_concurrency": SOURCE_CONCURRENCY,
        "counts": totals, "articles_rows": rows, "wall_s": round(ingest.wall_s, 2),
        "cpu_s": round(ingest.cpu_s, 2),
        "cpu_ms_per_article": round(1000 * ingest.cpu_s / max(processed, 1), 2),
        **_memory(ingest), "exit_code": ingest.returncode, "server_cpu_s": ingest.server_cpu_s,
        "loadavg_1m": ingest.loadavg_1m, "rounds": [round(r[0], 1) for r in ingests],
        "best_of": len(ingests),
    }  # fmt: skip
    if ingest.returncode != 0:
        detail["stderr_tail"] = ingest.stderr[-1000:]
    yield record("ingest_many_articles_per_s", rate, "articles/s", **detail)
    yield record(
        "ingest_vs_naive_many", rate / naive_rate if naive_rate else 0.0, "ratio",
        target=">= 2", ingest=round(rate, 1), naive=round(naive_rate, 1),
    )  # fmt: skip
    yield record(
        "ingest_many_cpu_s_per_article", ingest.cpu_s / max(processed, 1), "s",
        cpu_s=round(ingest.cpu_s, 2), articles=processed, includes="start-up and all children",
        naive_cpu_s_per_article=round(naive.cpu_s / max(stats["stored"], 1), 5),
    )  # fmt: skip
    yield record(
        "ingest_many_peak_memory_mb", ingest.peak_pss_mb, "MB", **_memory(ingest),
        naive_peak_pss_mb=round(naive.peak_pss_mb, 1),
        how="peak sum of PSS over the crawl's process tree, sampled every 0.2 s",
        target="<= 300 (daemon)",
    )  # fmt: skip


if __name__ == "__main__":
    for rec in run(quick=bool(os.environ.get("QUICK"))):
        print(json.dumps(rec, ensure_ascii=False), flush=True)
