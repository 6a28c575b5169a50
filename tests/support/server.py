"""A local HTTP server for the fixture news sites, so crawls in tests never touch the real web.

Serves ``tests/fixtures`` on 127.0.0.1 with ``{{BASE}}`` replaced by the server's own origin, answers
conditional GETs like a real site (ETag / Last-Modified → 304), and records every request so tests
can assert what a crawler fetched and how.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"
PLACEHOLDER = b"{{BASE}}"
TEXT_SUFFIXES = frozenset({".html", ".htm", ".xml", ".txt", ".json", ".rss", ".atom"})


@dataclass(slots=True, frozen=True)
class RequestLog:
    """One request as the server saw it. ``path`` is the raw request target (query included)."""

    method: str
    path: str
    headers: dict[str, str]
    status: int
    time: float
    client_port: int = 0
    """The client's TCP port: distinct ports are distinct connections (keep-alive tests)."""


@dataclass(slots=True)
class _Override:
    body: bytes | None
    status: int
    headers: dict[str, str]
    delay: float = 0.0
    mtime: float = field(default_factory=time.time)


@dataclass(slots=True)
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float = 0.0


def content_type_for(path: str, body: bytes) -> str:
    """Content-Type like a real site's: feeds by their root element, text with a charset."""
    suffix = Path(path).suffix.lower()
    if suffix in (".xml", ".rss", ".atom"):
        head = body[:1024]
        if b"<feed" in head:
            return "application/atom+xml; charset=utf-8"
        if b"<rss" in head or b"<rdf:RDF" in head:
            return "application/rss+xml; charset=utf-8"
        return "application/xml; charset=utf-8"
    if suffix in (".html", ".htm") or not suffix:
        return "text/html; charset=utf-8"
    if suffix == ".txt":
        return "text/plain; charset=utf-8"
    if suffix == ".json":
        return "application/json"
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    """``If-None-Match`` uses weak comparison: ``W/`` prefixes are ignored, ``*`` matches all."""
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def _not_modified_since(header: str, mtime: float) -> bool:
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return int(mtime) <= int(since)


class FixtureServer:
    """Threaded HTTP server on an ephemeral 127.0.0.1 port hosting every fixture site at once."""

    def __init__(self, root: Path = FIXTURES_DIR) -> None:
        self.root = Path(root).resolve()
        self._lock = threading.Lock()
        self._log: list[RequestLog] = []
        self._overrides: dict[str, _Override] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FixtureServer:
        if self._httpd is not None:
            return self
        httpd = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd = httpd
        host, port = httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- request log -----------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestLog]:
        """A snapshot of the log, oldest first."""
        with self._lock:
            return list(self._log)

    def requests_for(self, prefix: str) -> list[RequestLog]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def _record(self, entry: RequestLog) -> None:
        with self._lock:
            self._log.append(entry)

    # -- overrides -------------------------------------------------------------------------
    def override(
        self,
        path: str,
        body: bytes | str | None = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Serve ``body`` at ``path`` instead of the file (``str`` bodies get ``{{BASE}}`` filled in).

        ``path`` is matched with its query string first, then without. With ``body=None`` a 2xx
        serves the file's own content (handy for changing only headers) and other statuses an
        empty body (e.g. ``status=503`` or a redirect with ``headers={"Location": ...}``).
        ``delay`` holds the response back that many seconds (at most 120), like a server that hangs.
        """
        data = self._substitute(body.encode("utf-8")) if isinstance(body, str) else body
        with self._lock:
            self._overrides[path] = _Override(data, status, dict(headers or {}), min(delay, 120.0))

    def reset_overrides(self) -> None:
        with self._lock:
            self._overrides.clear()

    def fetch(self, path: str) -> bytes:
        """The body a GET of ``path`` would return now, without going over HTTP or logging."""
        return self._resolve(path).body

    # -- serving ---------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def _substitute(self, data: bytes) -> bytes:
        return data.replace(PLACEHOLDER, self.base_url.encode("ascii"))

    def _file_for(self, url_path: str) -> Path | None:
        """The fixture file for a URL path, refusing anything that escapes ``root``."""
        candidate = (self.root / unquote(url_path).lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def _resolve(self, target: str) -> _Reply:
        path = urlsplit(target).path or "/"
        with self._lock:
            ov = self._overrides.get(target) or self._overrides.get(path)
        file = self._file_for(path)
        if ov is not None:
            body = ov.body
            if body is None:
                body = self._read(file) if file is not None and 200 <= ov.status < 300 else b""
            headers = {
                "Content-Type": content_type_for(path, body),
                "ETag": etag_for(body),
                "Last-Modified": formatdate(int(ov.mtime), usegmt=True),
                **ov.headers,
            }
            return _Reply(ov.status, body, headers, ov.delay)
        if file is None:
            return _Reply(404, b"Not Found\n", {"Content-Type": "text/plain; charset=utf-8"})
        if not path.endswith("/") and (self.root / unquote(path).lstrip("/")).is_dir():
            return _Reply(301, b"", {"Location": self.base_url + path + "/"})
        body = self._read(file)
        return _Reply(
            200,
            body,
            {
                "Content-Type": content_type_for(file.name, body),
                "ETag": etag_for(body),
                "Last-Modified": formatdate(int(file.stat().st_mtime), usegmt=True),
            },
        )

    def _read(self, file: Path) -> bytes:
        data = file.read_bytes()
        return self._substitute(data) if file.suffix.lower() in TEXT_SUFFIXES else data

    def _answer(self, method: str, target: str, request_headers: dict[str, str]) -> _Reply:
        reply = self._resolve(target)
        if reply.status != 200 or method not in ("GET", "HEAD"):
            return reply
        lowered = {k.lower(): v for k, v in request_headers.items()}
        inm, ims = lowered.get("if-none-match"), lowered.get("if-modified-since")
        if inm is not None:
            fresh = _etag_matches(inm, reply.headers["ETag"])
        elif ims is not None and "Last-Modified" in reply.headers:
            lm = parsedate_to_datetime(reply.headers["Last-Modified"]).timestamp()
            fresh = _not_modified_since(ims, lm)
        else:
            fresh = False
        if fresh:
            keep = {k: v for k, v in reply.headers.items() if k in ("ETag", "Last-Modified")}
            return _Reply(304, b"", keep)
        return reply


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-response (crawlers do) are not test failures."""


def _make_handler(owner: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FixtureNews/1.0"
        sys_version = ""

        def _serve(self, method: str) -> None:
            headers = dict(self.headers.items())
            reply = owner._answer(method, self.path, headers)
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            owner._record(
                RequestLog(
                    method, self.path, headers, reply.status, time.time(), self.client_address[1]
                )
            )
            self.end_headers()
            if method != "HEAD" and reply.status not in (204, 304):
                self.wfile.write(reply.body)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def log_message(self, format: str, *args: object) -> None:
            """Silent: per-request lines on stderr would drown test output."""

    return Handler
