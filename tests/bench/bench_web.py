"""The web app at corpus scale: ``/api/v1/search`` and the HTML search page against the CLI's
search, and the story page, on the search benchmark's corpus (100,000 generated articles; 2,000
with ``--quick``; ``NEWSWATCH_BENCH_WEB_DB=path`` reuses an existing SQLite file of that corpus,
which saves the minutes of building it).

In the same run, on the same database: the CLI search p95 (:func:`tests.bench.bench_search.
time_queries`, ``storage.search.search`` exactly as ``newswatch search`` calls it), then the
same 50 queries through ``GET /api/v1/search`` (facets and histogram included) and through the
search page ``GET /?q=…`` when the pages router has one, over HTTP to the app served by uvicorn
(in a thread of this process, one keep-alive connection: the whole stack, middleware,
validation, JSON), timed like the CLI's (one cold pass, median of three). Target: both ≤ 2 × the CLI p95. Then 50 stories through
``/api/v1/stories/{id}`` (and the story page when there is one): target p95 ≤ 50 ms.
"""

from __future__ import annotations

import http.client
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from tests.bench.bench_ingest import record
from tests.bench.bench_search import BATCH, SOURCES, Corpus, percentile, queries, time_queries


def build(url: str, total: int) -> None:
    """The search benchmark's corpus, loaded the same way (``Store.store`` in batches)."""
    from storage.store import Store
    from storage.types import SourceInfo

    store = Store(url)
    store.sync_sources(
        [
            SourceInfo(f"fuente-{s:02d}", "feed", f"https://fuente-{s:02d}.example.mx/rss",
                       f"Fuente {s}", "es", "America/Mexico_City")
            for s in range(SOURCES)
        ]
    )  # fmt: skip
    corpus, now = Corpus(), datetime.now(UTC)
    for first in range(0, total, BATCH):
        list(store.store(corpus.records(first, min(BATCH, total - first), now)))
    store.close()


def params_of(q: str, filters: dict) -> dict:
    out: dict = {"q": q, "limit": 20}
    for key in ("since", "until"):
        if key in filters:
            out[key] = filters[key].isoformat()
    if "sources" in filters:
        out["source"] = filters["sources"]
    return out


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """(cold ms, median of three warm ms)."""
    t0 = time.perf_counter()
    call()
    cold = (time.perf_counter() - t0) * 1000
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        call()
        runs.append((time.perf_counter() - t0) * 1000)
    return cold, statistics.median(runs)


class Client:
    """Keep-alive HTTP/1.1 GETs to the app served by uvicorn in a thread of this process."""

    def __init__(self, app) -> None:
        import socket
        import threading

        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, access_log=False, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]})
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        self.app = app
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path: str, params: dict) -> bytes:
        self.conn.request("GET", path + ("?" + urlencode(params, doseq=True) if params else ""))
        response = self.conn.getresponse()
        body = response.read()
        assert response.status == 200, body[:300]
        return body

    def close(self) -> None:
        self.conn.close()
        self.server.should_exit = True
        self.thread.join(10)


def time_gets(client: Client, paths: list[tuple[str, dict]]) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for path, params in paths:

        def get(path: str = path, params: dict = params) -> None:
            client.get(path, params)

        c, w = timed(get)
        cold.append(c)
        warm.append(w)
    return cold, warm


def has_route(app, path: str) -> bool:
    """Whether the app serves ``path``: FastAPI no longer lists an included router's routes in
    ``app.routes``, so ask the routers themselves."""
    from scheduler.web import api, pages

    return any(getattr(r, "path", None) == path for m in (api, pages) for r in m.router.routes)


def run(quick: bool = False) -> Iterator[dict]:
    from scheduler.web import WebSettings, create_app
    from storage.db import dispose_engines
    from storage.search import search

    total = 2_000 if quick else 100_000
    reuse = os.environ.get("NEWSWATCH_BENCH_WEB_DB", "").strip()
    with tempfile.TemporaryDirectory(prefix="nw-web-") as tmp:
        url = f"sqlite:///{reuse or Path(tmp) / 'web.sqlite'}"
        if not reuse:
            build(url, total)
        dispose_engines()
        cli = time_queries(url)
        cli_p95 = percentile(cli.timings, 95)
        client = Client(create_app(WebSettings(url)))
        searches = [("/api/v1/search", params_of(q, f)) for q, f in queries(random.Random(11))]
        common = {
            "articles": total,
            "queries": len(searches),
            "cli_search_p95_ms": round(cli_p95, 2),
        }
        _, api = time_gets(client, searches)
        yield record(
            "web_api_search_p95_ms", percentile(api, 95), "ms", target="<= 2 x cli_search_p95_ms",
            ratio_to_cli=round(percentile(api, 95) / cli_p95, 2), facets=True,
            p50_ms=round(percentile(api, 50), 2),
            search_page="measured" if has_route(client.app, "/") else "no search page route yet",
            **common,
        )  # fmt: skip
        if has_route(client.app, "/"):
            pages = [("/", p) for _, p in searches]
            _, page = time_gets(client, pages)
            yield record(
                "web_page_search_p95_ms", percentile(page, 95), "ms",
                target="<= 2 x cli_search_p95_ms",
                ratio_to_cli=round(percentile(page, 95) / cli_p95, 2), **common,
            )  # fmt: skip
        ids = sorted(
            {h["id"] for q, f in queries(random.Random(11)) for h in search(url, q, limit=3, **f)}
        )[:50]
        _, stories = time_gets(client, [(f"/api/v1/stories/{i}", {}) for i in ids])
        yield record(
            "web_api_story_p95_ms", percentile(stories, 95), "ms", target="<= 50",
            stories=len(ids), p50_ms=round(percentile(stories, 50), 2), articles=total,
        )  # fmt: skip
        if has_route(client.app, "/stories/{ident}"):
            _, page = time_gets(client, [(f"/stories/{i}", {}) for i in ids])
            yield record(
                "web_page_story_p95_ms", percentile(page, 95), "ms", target="<= 50",
                stories=len(ids), articles=total,
            )  # fmt: skip
        client.close()
        dispose_engines()
