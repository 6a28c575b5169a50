"""Ingest throughput on a generated 3,000-page site, side by side with what the machine allows.

One invocation measures, against the same local server and pages:

- ``fetch_only_pages_per_s``: a plain Scrapy spider that downloads every page and does nothing;
- ``extract_only_pages_per_s``: ``crawler.articles.extraction.extract`` alone on the cached pages, one core;
- ``naive_articles_per_s``: Scrapy + ``trafilatura.extract`` in the callback + one SQLite commit
  per item (the spider is in this module);
- ``ingest_articles_per_s``: the real ``newswatch crawl`` over a sources file (one sitemap source
  at the site root, politeness off), and its ratios to the naive pipeline and to the CPU limit
  ``2 cores / (fetch CPU s per page + extraction CPU s per page)``.

The naive and full pipelines run alternately :data:`ROUNDS` times and each reports its best run.
Crawlers run as child processes, so their wall time, CPU time (``RUSAGE_CHILDREN`` deltas) and
memory (the process tree's proportional set size, sampled from /proc) are theirs alone.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.bench.sitegen import PLACEHOLDER, ServedSite, Site, build_site, serve_site

CORES = 2
ROUNDS = 2
"""Naive and full pipelines run alternately this many times and each keeps its best run: on this
shared machine a sustained load slows whatever runs later, and alternating cancels that."""
CONCURRENCY = 16
REPO = Path(__file__).resolve().parents[2]


def record(name: str, value: float, unit: str, **detail: object) -> dict:
    return {"name": name, "value": round(value, 4), "unit": unit, "detail": detail}


# ---------------------------------------------------------------------------- child processes


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def tree_rss_mb(pid: int) -> tuple[float, float, float]:
    """Memory of ``pid`` and all its descendants in MB: (sum of RSS, sum of PSS, largest RSS).

    RSS counts a page shared by several processes (libraries, the database file mapped by
    SQLite) once per process; PSS splits it between them, so the PSS sum is what the tree
    really occupies (RSS where smaps_rollup is unavailable)."""
    todo, sizes, pss = [pid], [], []
    while todo:
        current = todo.pop()
        rss = _rss_kb(current)
        sizes.append(rss)
        share = _pss_kb(current)
        pss.append(rss if share is None else share)
        todo.extend(_children(current))
    return sum(sizes) / 1024, sum(pss) / 1024, max(sizes, default=0) / 1024


@dataclass(slots=True)
class ChildRun:
    """What one child process cost: wall and CPU seconds, peak memory, its output."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    peak_single_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    server_cpu_s: float | None = None
    loadavg_1m: float = 0.0


def run_child(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
    server: ServedSite | None = None,
    sample_every: float = 0.2,
) -> ChildRun:
    """Run ``python args…`` from the repo root, sampling its process tree's memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server.server_cpu_s() if server else None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, stdout=out, stderr=err)
        peak = peak_pss = single = 0.0
        while proc.poll() is None:
            total, pss, largest = tree_rss_mb(proc.pid)
            peak, peak_pss, single = max(peak, total), max(peak_pss, pss), max(single, largest)
            if time.perf_counter() - started > timeout:
                proc.kill()
                proc.wait()
                break
            time.sleep(sample_every)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = (
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    server_cpu = None
    if server is not None and server_before is not None:
        now = server.server_cpu_s()
        server_cpu = round(now - server_before, 2) if now is not None else None
    load = round(os.getloadavg()[0], 2)
    return ChildRun(
        wall, cpu, peak, peak_pss, single, proc.returncode, stdout, stderr, server_cpu, load
    )


def bench_env() -> dict[str, str]:
    return {**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1", "PYTHONHASHSEED": "0"}


def _check(run: ChildRun, what: str) -> None:
    if run.returncode not in (0, 1):
        raise RuntimeError(f"{what} exited {run.returncode}: {run.stderr[-2000:]}")


# ---------------------------------------------------------------------------- the spiders


def _scrapy_settings() -> dict:
    return {
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "RETRY_ENABLED": False,
    }


def _crawl_urls(url_file: str, db_path: str | None) -> None:
    """Child entry: fetch every URL in ``url_file``; with ``db_path``, the naive pipeline."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = [u for u in Path(url_file).read_text().split() if u]
    stats: dict[str, int] = {"pages": 0, "bytes": 0, "stored": 0, "empty": 0}

    class FetchOnly(scrapy.Spider):
        name = "fetch_only"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, dont_filter=True)

        def parse(self, response):
            stats["pages"] += 1
            stats["bytes"] += len(response.body)
            return None

    class Naive(FetchOnly):
        """The obvious pipeline: extract in the callback, commit every article on its own."""

        name = "naive"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            import trafilatura

            self.trafilatura = trafilatura
            self.db = sqlite3.connect(db_path)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS articles (id INTEGER PRIMARY KEY, url TEXT UNIQUE,"
                " title TEXT, author TEXT, date TEXT, text TEXT, raw_html BLOB)"
            )
            self.db.commit()

        def parse(self, response):
            import zlib

            stats["pages"] += 1
            stats["bytes"] += len(response.body)
            found = self.trafilatura.extract(
                response.text, url=response.url, with_metadata=True, output_format="json"
            )
            if not found:
                stats["empty"] += 1
                return None
            doc = json.loads(found)
            self.db.execute(
                "INSERT OR REPLACE INTO articles (url, title, author, date, text, raw_html)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (response.url, doc.get("title"), doc.get("author"), doc.get("date"),
                 doc.get("text"), zlib.compress(response.body, 6)),
            )  # fmt: skip
            self.db.commit()
            stats["stored"] += 1
            return None

    process = CrawlerProcess(_scrapy_settings())
    process.crawl(Naive if db_path else FetchOnly)
    process.start()
    print(json.dumps(stats))


# ---------------------------------------------------------------------------- measurements


def page_bodies(site: Site, base: str, limit: int | None = None) -> list[tuple[str, bytes]]:
    paths = site.article_paths[:limit] if limit else site.article_paths
    placeholder = PLACEHOLDER.encode()
    return [
        (base + p, site.page_file(p).read_bytes().replace(placeholder, base.encode()))
        for p in paths
    ]


def measure_extraction(pages: list[tuple[str, bytes]]) -> dict[str, float]:
    """``extract`` over every page in this process: wall and CPU seconds (after a warm-up)."""
    from crawler.articles.extraction import extract

    tz = ZoneInfo("America/Hermosillo")
    for url, body in pages[:3]:
        extract(body, url, tz=tz)
    chars = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for url, body in pages:
        chars += len(extract(body, url, tz=tz).text)
    return {
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        "text_chars": chars,
    }


def sources_toml(base: str) -> str:
    return "\n".join(
        [
            "[defaults]",
            "delay = 0",
            f"concurrency = {CONCURRENCY}",
            "",
            "[[sources]]",
            'name = "vigia"',
            'title = "El Vigía del Noroeste (benchmark site)"',
            'kind = "sitemap"',
            f'url = "{base}/"',
            'language = "es"',
            'timezone = "America/Hermosillo"',
            'interval = "30m"',
            "max_items = 100000",
            "",
        ]
    )


def _crawl_totals(stdout: str) -> dict[str, int]:
    try:
        results = json.loads(stdout)
    except json.JSONDecodeError:
        return {}
    keys = ("entries", "pages", "new", "updated", "duplicates", "skipped", "errors")
    totals = {k: sum(int(r.get(k) or 0) for r in results) for k in keys}
    totals["failed_sources"] = sum(1 for r in results if not r.get("ok"))
    return totals


def _rows(db: Path, table: str = "articles") -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def run(quick: bool = False) -> Iterator[dict]:
    pages = 150 if quick else int(os.environ.get("NEWSWATCH_BENCH_PAGES", 3000))
    site = build_site(pages)
    env = bench_env()
    with serve_site(site) as server, tempfile.TemporaryDirectory(prefix="nw-ingest-") as tmp_s:
        tmp = Path(tmp_s)
        base = server.base_url
        common = {"server": server.kind, "pages": pages, "concurrency": CONCURRENCY, "quick": quick}
        url_file = tmp / "urls.txt"
        url_file.write_text("\n".join(base + p for p in site.article_paths))
        empty = tmp / "none.txt"
        empty.write_text("")
        me = "tests.bench.bench_ingest"

        idle = run_child(["-m", me, "fetch", str(empty)], env=env)
        _check(idle, "fetch-only (no pages)")
        fetch = run_child(["-m", me, "fetch", str(url_file)], env=env, server=server)
        _check(fetch, "fetch-only")
        fetched = json.loads(fetch.stdout.strip().splitlines()[-1])
        fetch_cpu_per_page = max(fetch.cpu_s - idle.cpu_s, 0.0) / max(fetched["pages"], 1)
        yield record(
            "fetch_only_pages_per_s", fetched["pages"] / fetch.wall_s, "pages/s",
            **common, fetched=fetched["pages"], wall_s=round(fetch.wall_s, 2),
            cpu_s=round(fetch.cpu_s, 2), startup_cpu_s=round(idle.cpu_s, 2),
            cpu_s_per_page=round(fetch_cpu_per_page, 5), server_cpu_s=fetch.server_cpu_s,
            loadavg_1m=fetch.loadavg_1m,
            mb=round(fetched["bytes"] / 2**20, 1),
        )  # fmt: skip

        bodies = page_bodies(site, base)
        ex = measure_extraction(bodies)
        extract_cpu_per_page = ex["cpu_s"] / len(bodies)
        del bodies
        yield record(
            "extract_only_pages_per_s", len(site.article_paths) / ex["wall_s"], "pages/s",
            **common, wall_s=round(ex["wall_s"], 2), cpu_s=round(ex["cpu_s"], 2),
            cpu_s_per_page=round(extract_cpu_per_page, 5), cores=1,
            pages_per_cpu_s=round(len(site.article_paths) / max(ex["cpu_s"], 1e-9), 1),
            what="crawler.articles.extraction.extract (metadata + body), in-process",
        )  # fmt: skip

        cfg = tmp / "sources.toml"
        cfg.write_text(sources_toml(base), encoding="utf-8")
        naives: list[tuple[float, ChildRun, dict, int]] = []
        ingests: list[tuple[float, ChildRun, dict, int]] = []
        for n in range(1 if quick else ROUNDS):
            naive_db = tmp / f"naive-{n}.sqlite"
            run = run_child(
                ["-m", me, "naive", str(url_file), str(naive_db)], env=env, server=server
            )
            _check(run, "naive pipeline")
            stats = json.loads(run.stdout.strip().splitlines()[-1])
            naives.append((stats["stored"] / run.wall_s, run, stats, _rows(naive_db)))
            db = tmp / f"ingest-{n}.sqlite"
            run = run_child(
                ["-m", "scheduler.cli", "crawl", "--config", str(cfg), "--db", str(db),
                 "--format", "json", "--log-level", "WARNING"],
                env=env, server=server,
            )  # fmt: skip
            _check(run, "newswatch crawl")
            totals = _crawl_totals(run.stdout)
            done = totals.get("new", 0) + totals.get("updated", 0) + totals.get("duplicates", 0)
            ingests.append((done / run.wall_s, run, totals, _rows(db)))
        naive_rate, naive, naive_stats, naive_rows = max(naives, key=lambda r: r[0])
        yield record(
            "naive_articles_per_s", naive_rate, "articles/s", **common,
            stored=naive_stats["stored"], empty=naive_stats["empty"], rows=naive_rows,
            wall_s=round(naive.wall_s, 2), cpu_s=round(naive.cpu_s, 2),
            peak_rss_mb=round(naive.peak_rss_mb, 1), server_cpu_s=naive.server_cpu_s,
            loadavg_1m=naive.loadavg_1m,
            articles_per_cpu_s=round(naive_stats["stored"] / max(naive.cpu_s, 1e-9), 1),
            rounds=[round(r[0], 1) for r in naives], best_of=len(naives),
            what="Scrapy + trafilatura.extract(with_metadata, json) in the callback + sqlite3 "
                 "commit per item (default journal mode)",
        )  # fmt: skip

        rate, ingest, totals, rows = max(ingests, key=lambda r: r[0])
        processed = totals.get("new", 0) + totals.get("updated", 0) + totals.get("duplicates", 0)
        limit = CORES / (fetch_cpu_per_page + extract_cpu_per_page)
        ingest_detail = {
            **common,
            "source_kind": "sitemap (robots.txt → sitemap index → sitemaps)",
            "counts": totals,
            "articles_rows": rows,
            "wall_s": round(ingest.wall_s, 2),
            "cpu_s": round(ingest.cpu_s, 2),
            "exit_code": ingest.returncode,
            "server_cpu_s": ingest.server_cpu_s,
            "loadavg_1m": ingest.loadavg_1m,
            "articles_per_cpu_s": round(processed / max(ingest.cpu_s, 1e-9), 1),
            "rounds": [round(r[0], 1) for r in ingests],
            "best_of": len(ingests),
        }
        if ingest.returncode != 0:
            ingest_detail["stderr_tail"] = ingest.stderr[-1000:]
        yield record("ingest_articles_per_s", rate, "articles/s", **ingest_detail)
        yield record(
            "ingest_vs_naive", rate / naive_rate if naive_rate else 0.0, "ratio",
            target=">= 2", ingest=round(rate, 1), naive=round(naive_rate, 1),
        )  # fmt: skip
        yield record(
            "ingest_vs_limit", rate / limit, "ratio", target=">= 0.7",
            limit_articles_per_s=round(limit, 1), cores=CORES,
            fetch_cpu_s_per_page=round(fetch_cpu_per_page, 5),
            extract_cpu_s_per_page=round(extract_cpu_per_page, 5),
        )  # fmt: skip
        yield record(
            "ingest_cpu_s_per_article", ingest.cpu_s / max(processed, 1), "s",
            cpu_s=round(ingest.cpu_s, 2), articles=processed, includes="start-up and all children",
        )  # fmt: skip
        yield record(
            "ingest_peak_memory_mb", ingest.peak_pss_mb, "MB",
            rss_sum_mb=round(ingest.peak_rss_mb, 1),
            largest_process_rss_mb=round(ingest.peak_single_rss_mb, 1),
            how="peak sum of PSS over the crawl's process tree, sampled every 0.2 s",
            target="<= 300 (daemon)",
        )  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "fetch":
        _crawl_urls(argv[1], None)
        return 0
    if len(argv) >= 3 and argv[0] == "naive":
        _crawl_urls(argv[1], argv[2])
        return 0
    print(
        "usage: python -m tests.bench.bench_ingest fetch URLFILE | naive URLFILE DB",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
