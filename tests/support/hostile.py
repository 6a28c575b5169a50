"""A hostile HTTP server for fault tests: every broken answer the real web gives, on 127.0.0.1.

Routes (any prefix path works, the first segment picks the behaviour):

- ``/status/<code>[?retry_after=N]`` — that status with a small HTML body.
- ``/flaky/<key>?fail=N&code=503&then=/doc/…`` — ``code`` N times, then what ``then`` serves.
- ``/reset`` — the connection is reset (SO_LINGER 0 close) after the request is read.
- ``/hang`` — nothing is ever sent; the handler waits until ``stop()`` (bounded by ``max_wait``).
- ``/trickle[?every=S]`` — a 200 whose body arrives one byte every S seconds (default 0.2),
  forever (bounded by ``max_wait``).
- ``/loop/a`` ↔ ``/loop/b`` — a redirect loop; ``/chain/<n>`` — n redirects, then an article.
- ``/redirect?to=URL`` — a 302 to ``URL`` (another host, 169.254.169.254 …).
- ``/bomb`` — gzip, ~2 MB on the wire, 2 GiB unpacked (built once, cached in memory).
- ``/huge[?length=0]`` — a 200 MB page streamed from a generator, never held in memory.
- ``/liar`` — ``Content-Length`` promises more than the body has, then the connection closes.
- ``/empty`` — a 200 with an empty body.
- ``/article/<slug>`` — a good Spanish article page, unique per slug.
- ``/doc/<relpath>[?ctype=…]`` — a file from ``tests/fixtures/hostile`` (``{{BASE}}`` replaced);
  ``ctype=none`` sends no Content-Type.
- anything registered with :meth:`HostileServer.put` (generated documents).

Every wait is bounded and released by :meth:`stop`, so a test run can never hang on the server.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

HOSTILE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
PLACEHOLDER = b"{{BASE}}"
OTHER_PLACEHOLDER = b"{{OTHER}}"
MiB = 1024 * 1024
BOMB_MEMBER = 64 * MiB
BOMB_MEMBERS = 32
HUGE_BYTES = 200 * MiB

_bomb_cache: list[bytes] = []
_bomb_lock = threading.Lock()


def gzip_bomb() -> bytes:
    """~2 MB of gzip that inflates to 2 GiB of zeros: one 64 MiB member compressed once and
    repeated (a concatenation of gzip members is one valid gzip stream)."""
    with _bomb_lock:
        if not _bomb_cache:
            member = gzip.compress(bytes(BOMB_MEMBER), compresslevel=9, mtime=0)
            _bomb_cache.append(member * BOMB_MEMBERS)
        return _bomb_cache[0]


def article_html(slug: str, charset: str = "utf-8") -> str:
    """A plain, extractable Spanish article whose text is unique to ``slug``."""
    paragraphs = "\n".join(
        f"<p>Párrafo {i} de la nota {slug}: autoridades de México y Estados Unidos revisaron "
        f"la cooperación en seguridad fronteriza, el tráfico de armas y la extradición de "
        f"presuntos integrantes de organizaciones criminales en Sonora y Chihuahua.</p>"
        for i in range(1, 7)
    )
    return (
        f'<!doctype html><html lang="es"><head><meta charset="{charset}">'
        f"<title>Nota {slug} sobre seguridad bilateral</title>"
        f'<meta property="article:published_time" content="2025-12-11T09:15:00-07:00">'
        f"</head><body><header><nav>Inicio | Nacional</nav></header>"
        f"<article><h1>Nota {slug} sobre seguridad bilateral</h1>{paragraphs}</article>"
        f"<footer>Todos los derechos reservados</footer></body></html>"
    )


class _Backlogged(ThreadingHTTPServer):
    """A listen backlog for hundreds of feeds at once: with the default 5 the kernel drops
    connections and a loaded machine turns that into download timeouts the test did not ask for."""

    request_queue_size = 256


class HostileServer:
    """Threaded, 127.0.0.1-only server; use as a context manager or call start()/stop()."""

    def __init__(self, max_wait: float = 30.0) -> None:
        self.max_wait = max_wait
        self.stopping = threading.Event()
        self.base_url = ""
        self._docs: dict[str, tuple[bytes, str | None]] = {}
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self.requests: list[str] = []
        self.times: dict[str, list[float]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> HostileServer:
        httpd = _Backlogged(("127.0.0.1", 0), _make_handler(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return self.base_url + path

    def put(self, path: str, body: bytes | str, ctype: str | None = "text/html") -> str:
        """Serve ``body`` at ``path`` (``{{BASE}}`` replaced); returns the absolute URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._docs[path] = (data, ctype)
        return self.url(path)

    def hit(self, key: str) -> int:
        """Count a request to ``key``; returns how many came before it."""
        with self._lock:
            seen = self._hits.get(key, 0)
            self._hits[key] = seen + 1
            self.requests.append(key)
            self.times.setdefault(key, []).append(time.monotonic())
            return seen

    def hits(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.startswith(prefix))

    def doc(self, path: str) -> tuple[bytes, str | None] | None:
        with self._lock:
            found = self._docs.get(path)
        if found is not None:
            return self.fill(found[0]), found[1]
        return None

    def fill(self, body: bytes) -> bytes:
        """Replace ``{{BASE}}`` with this server's origin and ``{{OTHER}}`` with the same server
        under another host name (``localhost``), for "link to another domain" cases."""
        other = self.base_url.replace("127.0.0.1", "localhost").encode()
        return body.replace(PLACEHOLDER, self.base_url.encode()).replace(OTHER_PLACEHOLDER, other)


def _content_type_for(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return {
        ".xml": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".html": "text/html; charset=utf-8",
        ".txt": "text/plain",
    }.get(suffix, "application/octet-stream")


def _make_handler(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = server.max_wait

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            seen = server.hit(split.path)
            try:
                self.route(split.path, query, seen)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

        def send(
            self,
            status: int,
            body: bytes = b"",
            ctype: str | None = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, location: str) -> None:
            self.send(302, b"", headers={"Location": location})

        def serve_doc(self, path: str, query: dict[str, str]) -> None:
            found = server.doc(path)
            if found is None:
                file = (HOSTILE_DIR / path.removeprefix("/doc/")).resolve()
                if HOSTILE_DIR not in file.parents or not file.is_file():
                    self.send(404, b"<html><body>not found</body></html>")
                    return
                body = server.fill(file.read_bytes())
                found = (body, _content_type_for(path))
            body, ctype = found
            if "ctype" in query:
                ctype = None if query["ctype"] == "none" else query["ctype"]
            self.send(200, body, ctype)

        def route(self, path: str, query: dict[str, str], seen: int) -> None:
            head = path.split("/")[1] if path.count("/") >= 1 else ""
            if path in server._docs or head == "doc":
                self.serve_doc(path, query)
            elif head == "status":
                code = int(path.split("/")[2])
                extra = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
                self.send(
                    code, f"<html><body><h1>Error {code}</h1></body></html>".encode(), headers=extra
                )
            elif head == "flaky":
                if seen < int(query.get("fail", "2")):
                    self.send(int(query.get("code", "503")), b"<html><body>busy</body></html>")
                else:
                    self.route(query["then"], {}, 0)
            elif head == "article":
                self.send(200, article_html(path.split("/")[2]).encode("utf-8"))
            elif head == "reset":
                self.reset()
            elif head == "hang":
                server.stopping.wait(server.max_wait)
                self.close_connection = True
            elif head == "trickle":
                self.trickle(float(query.get("every", "0.2")))
            elif head == "loop":
                self.redirect("/loop/b" if path.endswith("/a") else "/loop/a")
            elif head == "chain":
                left = int(path.split("/")[2])
                if left > 0:
                    self.redirect(f"/chain/{left - 1}")
                else:
                    self.send(200, article_html("chain-end").encode("utf-8"))
            elif head == "redirect":
                self.redirect(query["to"].replace("{{BASE}}", server.base_url))
            elif head == "bomb":
                self.send(200, gzip_bomb(), headers={"Content-Encoding": "gzip"})
            elif head == "huge":
                self.huge(declared=query.get("length", "1") != "0")
            elif head == "liar":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(article_html("liar").encode("utf-8")[:500])
                self.wfile.flush()
                self.close_connection = True
            elif head == "empty":
                self.send(200, b"", "application/rss+xml")
            else:
                self.send(404, b"<html><body>no such case</body></html>")

        def reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def trickle(self, every: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(MiB))
            self.end_headers()
            deadline = time.monotonic() + server.max_wait
            while time.monotonic() < deadline and not server.stopping.wait(every):
                self.wfile.write(b" ")
                self.wfile.flush()
            self.close_connection = True

        def huge(self, declared: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if declared:
                self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            deadline = time.monotonic() + server.max_wait
            for chunk in _huge_chunks(HUGE_BYTES):
                if server.stopping.is_set() or time.monotonic() > deadline:
                    break
                self.wfile.write(chunk)
            self.close_connection = True

    return Handler


def _huge_chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    chunk = b"<p>" + b"relleno " * (size // 8 - 1) + b"</p>"
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


# -- helpers for the tests that drive the real CLI --------------------------------------------


def write_sources(path: Path, sources: dict[str, tuple[str, str]], extra: str = "") -> Path:
    """A sources file: ``{name: (kind, url)}``, no politeness delay, one topic-free profile."""
    lines = ["[defaults]", "delay = 0", "concurrency = 8", extra, ""]
    for name, (kind, url) in sources.items():
        lines += [
            "[[sources]]",
            f'name = "{name}"',
            f'kind = "{kind}"',
            f'url = "{url}"',
            'language = "es"',
            'timezone = "America/Hermosillo"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


FAST_ENV = {
    "NEWSWATCH_DOWNLOAD_TIMEOUT": "2",
    "NEWSWATCH_MAX_PAGE_BYTES": str(2 * MiB),
    "NEWSWATCH_RETRY_TIMES": "2",
    "NEWSWATCH_RETRY_BACKOFF": "0.2",
    "NEWSWATCH_ALLOW_PRIVATE": "1",
}
"""Small limits so a hanging or endless response costs seconds, not the production 30 s."""


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180, unset: tuple[str, ...] = ()
):
    """Run the real ``newswatch`` CLI in a subprocess (``unset`` removes variables first)."""
    import os
    import subprocess
    import sys

    full = {**os.environ, **FAST_ENV, **(env or {})}
    for name in ("NEWSWATCH_DB", *unset):
        full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full,
        cwd=Path(__file__).resolve().parents[2],
    )


def last_runs(db: Path) -> dict[str, dict]:
    """Each source's latest ``crawl_runs`` row: outcome, error, counts (with warnings)."""
    import json
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM crawl_runs ORDER BY id").fetchall()
    out = {}
    for row in rows:
        data = dict(row)
        counts = data.get("counts")
        data["counts"] = json.loads(counts) if isinstance(counts, str) else counts or {}
        out[data["source"]] = data
    return out


def integrity(db: Path) -> str:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def stored_urls(db: Path, source: str | None = None) -> list[str]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        if source is None:
            rows = conn.execute("SELECT url FROM articles").fetchall()
        else:
            rows = conn.execute("SELECT url FROM articles WHERE source = ?", (source,)).fetchall()
    return sorted(r[0] for r in rows)
