"""Search at corpus scale: bulk load rate, bytes per article, and query latency.

100,000 generated Spanish articles (1,000,000 with ``NEWSWATCH_BENCH_LARGE=1``; 2,000 with
``--quick``) from 20 sources over 2025, about 3 KB of text each, 5 % republished by another source,
each with the raw HTML of a 40–80 KB page (compressed by storage, as a real crawl stores it), are
written through ``Store.store`` in batches. Then 50 realistic queries (phrases, accent-free words,
single terms, OR, NOT, prefixes; half with date and source filters; top 20) run through
``storage.search.search``; each is timed three times after one cold pass and its median counts.
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

from tests.bench.bench_ingest import record
from tests.bench.sitegen import (
    OBJECTS,
    PLACES,
    SECTIONS,
    SUBJECTS,
    WORDS,
    Article,
    PageRenderer,
    TextGen,
)

SOURCES = 20
BATCH = 500
TEXT_CHARS = 3000
SHELLS = 120
RARE = (
    "Ismael Zambada", "Ovidio Guzmán", "Operativo Enjambre", "El Mencho", "Rancho Izaguirre",
    "Cártel Jalisco Nueva Generación", "Los Chapitos", "La Mayiza", "tren interoceánico",
    "gusano barrenador", "Ley de Seguridad Nacional", "Plan México", "Golden Dome",
)  # fmt: skip
MARK = "\x00BODY\x00"


TAIL_WORDS = 30_000
ZIPF_S = 1.05
_SYLLABLES = (
    "ca", "ma", "ra", "ta", "la", "na", "sa", "pa", "da", "ga", "co", "mo", "ro", "to", "lo",
    "no", "so", "po", "ci", "mi", "ri", "ti", "li", "ni", "si", "pi", "cu", "mu", "ru", "tu",
    "lu", "nu", "que", "gue", "ción", "men", "tal", "dor", "res", "des", "tra", "bre", "pla",
    "cri", "fla", "gro", "ven", "ñe", "ña", "llo", "rra", "chi", "ja", "jo", "xi", "zá", "né",
)  # fmt: skip


class FocusedText(TextGen):
    """News text with the term statistics of a real corpus, for search timing.

    The ingest site's generator draws every sentence from the same short word lists, so each of
    its ~300 words is in nearly every article and any query matches a third to a half of the
    corpus: bm25 then scores 30–50k rows per query, which no real news corpus asks for. Here an
    article is *about* a few subjects, objects and places (a topic term lands in ~5–15 % of
    articles, as "fentanilo" does in a security-focused feed), and filler words follow a Zipf
    law over the common words plus a long tail of invented ones (vocabulary of ~30k words).
    """

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        vocab_rng = random.Random(97)
        tail: set[str] = set()
        while len(tail) < TAIL_WORDS:
            word = "".join(vocab_rng.choices(_SYLLABLES, k=vocab_rng.randint(2, 4)))
            if word not in WORDS:
                tail.add(word)
        self.vocabulary = list(WORDS) + sorted(tail)
        weights = [1 / (rank + 1) ** ZIPF_S for rank in range(len(self.vocabulary))]
        total, running = sum(weights), 0.0
        self.cum_weights = []
        for w in weights:
            running += w / total
            self.cum_weights.append(running)
        self.focus()

    def focus(self) -> None:
        """Choose what the next article is about."""
        r = self.rng
        self.subjects = r.sample(SUBJECTS, 4)
        self.objects = r.sample(OBJECTS, 3)
        self.places = r.sample(PLACES, 3)

    def filler(self, k: int) -> list[str]:
        return self.rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=k)


class Corpus:
    """Deterministic article records; raw HTML from a pool of rendered page shells."""

    def __init__(self, seed: int = 8):
        self.rng = random.Random(seed)
        self.gen = FocusedText(self.rng)
        self.start = datetime(2025, 1, 1, tzinfo=UTC)
        renderer = PageRenderer(seed)
        shell_rng = random.Random(seed + 3)
        self.shells: list[tuple[str, str]] = []
        for i in range(SHELLS):
            art = Article(
                index=i, path=f"/shell/{i}.html", title=self.gen.headline(),
                summary=self.gen.news_sentence(), paragraphs=[MARK], section=SECTIONS[i % 8],
                author=self.gen.name(), published=self.start, updated=self.start, tags=["Seguridad"],
            )  # fmt: skip
            page = renderer.render(art, shell_rng.randint(37, 77))
            head, tail = page.split(f"<p>{MARK}</p>", 1)
            self.shells.append((head, tail))
        self.recent: list[tuple[str, str]] = []

    def text(self) -> str:
        parts: list[str] = []
        size = 0
        while size < TEXT_CHARS:
            para = self.gen.paragraph()
            if self.rng.random() < 0.08:
                para += f" {self.rng.choice(RARE)} {self.gen.loose_sentence()}"
            parts.append(para)
            size += len(para) + 2
        return "\n\n".join(parts)

    def records(self, first: int, count: int, now: datetime) -> list:
        from crawler.identity.hashing import content_hash
        from storage.types import ArticleRecord

        out = []
        r = self.rng
        for n in range(first, first + count):
            source = f"fuente-{n % SOURCES:02d}"
            if self.recent and r.random() < 0.05:
                title, text = r.choice(self.recent)
                title = f"{title} (Fuente: {r.choice(('EFE', 'Reforma', 'AP'))})"
            else:
                self.gen.focus()
                title, text = self.gen.headline(), self.text()
                self.recent = ([*self.recent, (title, text)])[-200:]
            tz = timezone(timedelta(hours=r.choice((-6, -7))))
            published = (self.start + timedelta(seconds=r.uniform(0, 364 * 86400))).astimezone(tz)
            url = f"https://{source}.example.mx/nota/{n:07d}"
            head, tail = r.choice(self.shells)
            body = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
            out.append(
                ArticleRecord(
                    source=source,
                    url=url,
                    canonical_url=url,
                    title=title,
                    text=text,
                    content_hash=content_hash(text),
                    fetched_at=now,
                    guid=url,
                    authors=[self.gen.name()],
                    published_at=published.replace(microsecond=0),
                    language="es",
                    section=r.choice(SECTIONS)[1],
                    tags=["Seguridad"],
                    description=text[:200],
                    raw_html=(head + body + tail).encode("utf-8"),
                )
            )
        return out


BASE_QUERIES = (
    '"tráfico de armas"', "mision cortafuegos", "fentanilo", '"Cártel de Sinaloa"',
    "extradicion", "fentanilo OR metanfetamina", '"Guardia Nacional" frontera', "huachicol",
    "aranceles NOT acero", "extradi*", '"lavado de dinero"', "garita nogales", "Zambada",
    '"gusano barrenador"', "aduana rayos gamma", "Harfuch", '"túnel transfronterizo"',
    "Chapitos OR Mayiza", "trafico armas Arizona", '"drogas sintéticas" laboratorio',
    "Sheinbaum Washington acuerdo", "precursores quimicos", "extorsión", "Izaguirre",
    '"Golden Dome"',
)  # fmt: skip


def queries(rng: random.Random) -> list[tuple[str, dict]]:
    """50 queries: each base query alone, and with a date window and/or a source filter."""
    out: list[tuple[str, dict]] = []
    for q in BASE_QUERIES:
        out.append((q, {}))
        month = rng.randint(1, 11)
        since = datetime(2025, month, 1, tzinfo=UTC)
        filters: dict = {"since": since, "until": since + timedelta(days=rng.choice((7, 30, 90)))}
        if rng.random() < 0.6:
            filters["sources"] = [
                f"fuente-{s:02d}" for s in rng.sample(range(SOURCES), k=rng.randint(1, 3))
            ]
        out.append((q, filters))
    return out


class QueryTimes(NamedTuple):
    """Per query: the median of three warm runs and the cold first run (ms), the hit count;
    and the slowest query (label, ms)."""

    timings: list[float]
    cold: list[float]
    hits: list[int]
    slowest: tuple[str, float]


def time_queries(url: str) -> QueryTimes:
    """Run the 50 queries through ``storage.search.search``: once cold, then three times."""
    from storage.search import search

    timings: list[float] = []
    cold: list[float] = []
    hits: list[int] = []
    slowest = ("", 0.0)
    for q, filters in queries(random.Random(11)):
        t0 = time.perf_counter()
        found = search(url, q, limit=20, **filters)
        cold.append((time.perf_counter() - t0) * 1000)
        hits.append(len(found))
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            search(url, q, limit=20, **filters)
            runs.append((time.perf_counter() - t0) * 1000)
        median = statistics.median(runs)
        timings.append(median)
        if median > slowest[1]:
            slowest = (q + (" +filters" if filters else ""), round(median, 2))
    return QueryTimes(timings, cold, hits, slowest)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``pct`` % at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def match_shares(path: Path, texts: list[str], total: int) -> list[float]:
    """Share of the corpus each query matches before filters: the work bm25 ranking does."""
    from storage.db import sqlite_connect
    from storage.search import parse_query, to_fts5

    # The engine's connections are still open here: read with the same SQLite library.
    with sqlite_connect(path) as conn:
        return [
            round(
                conn.execute(
                    "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?",
                    (to_fts5(parse_query(q)),),
                ).fetchone()[0]
                / total,
                4,
            )
            for q in texts
        ]


def _db_breakdown(path: Path) -> dict[str, int]:
    try:
        with sqlite3.connect(path) as conn:
            rows = conn.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            )
            return {name: size for name, size in list(rows)[:8]}
    except sqlite3.Error:
        return {}


def run(quick: bool = False) -> Iterator[dict]:
    from storage.db import dispose_engines
    from storage.store import Store
    from storage.types import SourceInfo

    large = os.environ.get("NEWSWATCH_BENCH_LARGE", "").strip() in ("1", "true", "yes")
    total = 2_000 if quick else (1_000_000 if large else 100_000)
    corpus = Corpus()
    with tempfile.TemporaryDirectory(prefix="nw-search-") as tmp_s:
        path = Path(tmp_s) / "search.sqlite"
        url = f"sqlite:///{path}"
        store = Store(url)
        store.sync_sources(
            [
                SourceInfo(
                    f"fuente-{s:02d}",
                    "feed",
                    f"https://fuente-{s:02d}.example.mx/rss",
                    f"Fuente {s}",
                    "es",
                    "America/Mexico_City",
                )
                for s in range(SOURCES)
            ]
        )
        now = datetime.now(UTC)
        store_s = gen_s = 0.0
        outcomes: dict[str, int] = {}
        raw_bytes = 0
        for first in range(0, total, BATCH):
            t0 = time.perf_counter()
            batch = corpus.records(first, min(BATCH, total - first), now)
            t1 = time.perf_counter()
            for result in store.store(batch):
                outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            gen_s += t1 - t0
            store_s += time.perf_counter() - t1
            raw_bytes += sum(len(r.raw_html) for r in batch)
        yield record(
            "bulk_load_articles_per_s", total / store_s, "articles/s", articles=total,
            batch=BATCH, store_s=round(store_s, 1), generate_s=round(gen_s, 1),
            outcomes=outcomes, via="storage.store.Store.store", quick=quick, large=large,
        )  # fmt: skip

        store.close()
        dispose_engines()
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            rows = conn.execute(
                "SELECT count(*), avg(length(raw_html)), avg(length(text)) FROM articles"
            ).fetchone()
        wal = path.with_name(path.name + "-wal")
        size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        yield record(
            "db_bytes_per_article", size / max(rows[0], 1), "bytes", target="<= 40960",
            db_mb=round(size / 2**20, 1), rows=rows[0],
            raw_html_kb_avg=round(raw_bytes / total / 1024, 1),
            raw_html_stored_bytes_avg=round(rows[1] or 0), text_chars_avg=round(rows[2] or 0),
            largest_objects=_db_breakdown(path),
        )  # fmt: skip

        timings, cold, hits, slowest = time_queries(url)
        shares = match_shares(path, [q for q, _ in queries(random.Random(11))], total)
        from storage.db import sqlite_dbapi
        from storage.search import search_threads

        common = {
            "queries": len(timings), "articles": total, "limit": 20,
            "sqlite": f"{sqlite_dbapi().__name__} {sqlite_dbapi().sqlite_version}",
            "search_threads": search_threads(),
            "matches_share_p50": percentile(shares, 50), "matches_share_max": max(shares),
            "zero_hit_queries": sum(1 for h in hits if h == 0),
            "story_collapsing": "whatever storage.search.search does (not a flag here)",
        }  # fmt: skip
        yield record("search_p50_ms", percentile(timings, 50), "ms", **common)
        yield record(
            "search_p95_ms", percentile(timings, 95), "ms", target="<= 20 at 100k",
            max_ms=round(max(timings), 2), slowest=slowest,
            cold_p95_ms=round(percentile(cold, 95), 2), **common,
        )  # fmt: skip
        dispose_engines()
