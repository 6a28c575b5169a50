"""One polling cycle of unchanged feeds on 20 local hosts, run by cluster workers on PostgreSQL.

Each host is its own server on 127.0.0.x (x = 1…20), logging the time of every request. A first
``newswatch crawl`` of every source (not measured) stores each feed's ETag; then every source is
queued at once through the daemon's own code (``ClusterScheduler.defer``: one job per host with
its due sources, locked by the host) and 1, then 2, ``newswatch worker`` processes run the
cycle: once to warm up (each worker starts its crawl process on its first job), then measured.
Figures: cycle time, CPU per source (workers and their crawl processes, from /proc), queue
latency (due → job started, from the workers' log) p50/p95, and the smallest gap between two
requests to one host, as the servers saw them (the workers run at a lower priority than the
servers, so that a server is not kept from logging a request by the crawl it measures).

The delay is 0.05 s: 100 feeds of one host polled one after another within 10 s leave at most
0.1 s between two of them, so the issue's target implies a delay below that.

Needs a throwaway database in ``NEWSWATCH_BENCH_PG_URL`` (emptied first!), e.g.
``NEWSWATCH_BENCH_PG_URL=$NEWSWATCH_TEST_PG_URL`` after ``source .ci/postgres.sh``; without it
the benchmark prints nothing. ``NEWSWATCH_BENCH_FEEDS`` sets N (default 2000; quick: 40).
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.bench.bench_ingest import bench_env, record

ENV_URL = "NEWSWATCH_BENCH_PG_URL"
HOSTS = 20
DELAY = 0.05
FEED = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Sondeo</title><link>http://example.org/</link><description>sin cambios</description>
</channel></rss>"""
STARTING = re.compile(r"^(\S+ \S+) INFO procrastinate\.worker\S*: Starting job .*due_at='([^']+)'")


def _arrival(conn: socket.socket) -> float:
    """The kernel's receive time of the next bytes waiting on ``conn`` (now, if it has none)."""
    conn.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:
        _data, ancillary, _, _ = conn.recvmsg(1, 64, socket.MSG_PEEK)
    except OSError:
        return time.time()
    for level, kind, raw in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= 16:
            seconds, nanos = struct.unpack("qq", raw[:16])
            return seconds + nanos / 1e9
    return time.time()


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


class _Hosts:
    """20 tiny feed servers, one per loopback address, logging (host, time) of every request."""

    def __init__(self) -> None:
        self.log: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        self.servers = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: a thread per connection, not per poll

            def handle_one_request(self) -> None:
                """Log when the request reached the machine: the kernel's receive time of its
                first bytes (SO_TIMESTAMPNS), not when this thread got the CPU to read it."""
                self.arrived = _arrival(self.connection)
                super().handle_one_request()

            def do_GET(self) -> None:
                with owner.lock:
                    owner.log.append((self.server.server_address[0], self.arrived))
                if self.path == "/robots.txt":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                elif self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.send_header("ETag", '"v1"')
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("ETag", '"v1"')
                    self.send_header("Content-Length", str(len(FEED)))
                self.end_headers()
                fresh = self.headers.get("If-None-Match") != '"v1"'
                if self.path != "/robots.txt" and fresh:
                    self.wfile.write(FEED)

            def log_message(self, *args: object) -> None:
                pass

        for i in range(1, HOSTS + 1):
            server = ThreadingHTTPServer((f"127.0.0.{i}", 0), Handler)
            # on the listening socket too: the kernel then stamps every packet it receives
            server.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def bases(self) -> list[str]:
        return [f"http://{s.server_address[0]}:{s.server_address[1]}" for s in self.servers]

    def smallest_gap(self) -> float:
        by_host: dict[str, list[float]] = {}
        for host, when in self.log:
            by_host.setdefault(host, []).append(when)
        gaps = [b - a for ts in by_host.values() for a, b in itertools.pairwise(sorted(ts))]
        return min(gaps, default=float("nan"))

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def sources_toml(bases: list[str], feeds: int) -> str:
    lines = ["[defaults]", f"delay = {DELAY}", ""]
    for n in range(feeds):
        lines += [
            "[[sources]]",
            f'name = "poll-{n:05d}"',
            'kind = "feed"',
            f'url = "{bases[n % len(bases)]}/feed/{n}.xml"',
            'language = "es"',
            'timezone = "America/Mexico_City"',
            'interval = "10m"',
            "",
        ]
    return "\n".join(lines)


def _empty(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their living children (the crawl processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid in pids or ppid in pids:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _one_pass(url: str, names: list[str], hosts: _Hosts, engine) -> float:
    from scheduler.cluster.schedule import ClusterScheduler

    hosts.log.clear()
    scheduler = ClusterScheduler(url)
    scheduler.app.open()
    started = time.monotonic()
    scheduler.defer([(n, f"127.0.0.{i % HOSTS + 1}") for i, n in enumerate(names)])
    while True:
        with engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar()
        if not left:
            break
        time.sleep(0.05)
    wall = time.monotonic() - started
    scheduler.app.close()
    return wall


def _lower_priority() -> None:
    """Workers below the feed servers: a server thread kept waiting for the CPU would log two
    requests that arrived 50 ms apart as closer, and the gap figure would measure the machine."""
    os.nice(10)


def _cycle(url: str, cfg: Path, names: list[str], hosts: _Hosts, workers: int, tmp: Path) -> dict:
    env = bench_env()
    logs = [tmp / f"w{workers}-{i}.log" for i in range(workers)]
    # Each worker stands for a machine: it gets its share of this machine's cores.
    share = str(max(1, (os.cpu_count() or 1) // workers))
    cmd = [sys.executable, "-m", "scheduler.cli", "worker", "--config", str(cfg), "--db", url,
           "--processes", share]  # fmt: skip
    procs = [
        subprocess.Popen(
            [*cmd, "--log-level", "INFO"],
            stderr=log.open("w"),
            stdout=subprocess.DEVNULL,
            env=env,
            preexec_fn=_lower_priority,
        )
        for log in logs
    ]
    time.sleep(3)  # the workers' own start-up is not the cycle
    engine = create_engine(url)
    _one_pass(url, names, hosts, engine)  # warm-up: each worker starts its crawl process
    marks = [log.stat().st_size for log in logs]
    pids = [p.pid for p in procs]
    cpu_before = _cpu_seconds(pids)
    wall = _one_pass(url, names, hosts, engine)
    cpu = _cpu_seconds(pids) - cpu_before
    engine.dispose()
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(60)
    latencies = []
    for log, mark in zip(logs, marks, strict=True):
        with log.open("rb") as f:
            f.seek(mark)
            lines = f.read().decode("utf-8", "replace").splitlines()
        for line in lines:
            m = STARTING.match(line)
            if m:
                at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").astimezone()
                latencies.append((at - datetime.fromisoformat(m.group(2))).total_seconds())
    latencies.sort()
    return {
        "wall": wall,
        "cpu": cpu,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "jobs": len(latencies),
        "gap": hosts.smallest_gap(),
    }


def run(quick: bool = False) -> Iterator[dict]:
    url = os.environ.get(ENV_URL)
    if not url:
        return
    feeds = 40 if quick else int(os.environ.get("NEWSWATCH_BENCH_FEEDS", 2000))
    _empty(url)
    hosts = _Hosts()
    try:
        with tempfile.TemporaryDirectory(prefix="nw-cluster-") as tmp_s:
            tmp = Path(tmp_s)
            cfg = tmp / "sources.toml"
            cfg.write_text(sources_toml(hosts.bases(), feeds), encoding="utf-8")
            names = [f"poll-{n:05d}" for n in range(feeds)]
            priming = subprocess.run(
                [sys.executable, "-m", "scheduler.cli", "crawl", "--config", str(cfg),
                 "--db", url, "--format", "json", "--log-level", "WARNING"],
                capture_output=True, text=True, env=bench_env(), timeout=3600,
            )  # fmt: skip
            if priming.returncode not in (0, 1):
                raise RuntimeError(f"priming crawl exited {priming.returncode}: {priming.stderr}")
            for workers in (1, 2):
                got = _cycle(url, cfg, names, hosts, workers, tmp)
                detail = {"sources": feeds, "hosts": HOSTS, "workers": workers, "quick": quick,
                          "processes_per_worker": max(1, (os.cpu_count() or 1) // workers),
                          "cores": os.cpu_count()}  # fmt: skip
                yield record(f"cluster_cycle_s_{workers}w", got["wall"], "s", **detail,
                             target="<= 10 s for 2000 feeds with 2 workers")  # fmt: skip
                yield record(f"cluster_cpu_ms_per_source_{workers}w",
                             got["cpu"] / feeds * 1000, "ms", **detail)  # fmt: skip
                yield record(f"cluster_queue_latency_p50_s_{workers}w", got["p50"], "s",
                             jobs=got["jobs"], **detail)  # fmt: skip
                yield record(f"cluster_queue_latency_p95_s_{workers}w", got["p95"], "s",
                             target="<= 1 s", **detail)  # fmt: skip
                yield record(f"cluster_min_host_gap_s_{workers}w", got["gap"], "s",
                             delay=DELAY, **detail)  # fmt: skip
    finally:
        hosts.close()
