"""``newswatch serve`` and ``newswatch daemon --web`` as real processes: the start line, the
one-line refusals, a clean stop on SIGTERM, and the daemon's supervision of its web child."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import write_sources_toml
from tests.test_daemon import DaemonProcess, wait_until
from tests.test_e2e_cli import run_cli

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(port: int, path: str) -> object:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def answers(port: int) -> bool:
    try:
        return "sources" in get_json(port, "/api/v1/status")  # type: ignore[operator]
    except OSError:
        return False


@pytest.fixture()
def db(site, tmp_path) -> tuple[Path, Path]:
    cfg = write_sources_toml(tmp_path / "sources.toml", site.base_url, ["tribuna"])
    path = tmp_path / "news.sqlite"
    result = run_cli("crawl", "--config", str(cfg), "--db", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    return cfg, path


def serve(cfg: Path, db: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, **(env or {})}
    env.pop("NEWSWATCH_DB", None)
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "serve", "--config", str(cfg), "--db", str(db),
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_serve_prints_its_address_answers_and_stops_cleanly(db):
    cfg, path = db
    port = free_port()
    proc = serve(cfg, path, "--port", str(port))
    try:
        line = proc.stdout.readline()
        assert line.strip() == f"newswatch: web app at http://127.0.0.1:{port}/"
        wait_until(lambda: answers(port), 20)
        hits = get_json(port, "/api/v1/search?q=mision%20cortafuegos&facets=false")
        assert hits["results"][0]["source"] == "tribuna"  # type: ignore[index]
        second = serve(cfg, path, "--port", str(port))
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2 and err.strip().endswith(
            f"port {port} on 127.0.0.1 is already in use"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert proc.returncode == 0


def test_serve_refuses_beyond_loopback_without_a_token_and_a_missing_db(db, tmp_path):
    cfg, path = db
    wide = serve(cfg, path, "--host", "0.0.0.0", "--port", str(free_port()))
    _, err = wide.communicate(timeout=60)
    assert (
        wide.returncode == 2 and "NEWSWATCH_WEB_TOKEN" in err and len(err.strip().splitlines()) == 1
    )
    missing = serve(cfg, tmp_path / "nope.sqlite", "--port", str(free_port()))
    _, err = missing.communicate(timeout=60)
    assert missing.returncode == 2 and "no database at" in err


def test_serve_with_a_token_says_so_and_requires_it(db):
    cfg, path = db
    port = free_port()
    proc = serve(cfg, path, "--port", str(port), env={"NEWSWATCH_WEB_TOKEN": "tok-123"})
    try:
        assert proc.stdout.readline().startswith("newswatch: web app at")
        assert "token is required" in proc.stdout.readline()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/status", timeout=10)
        assert refused.value.code == 401
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/status", headers={"Authorization": "Bearer tok-123"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    assert proc.returncode == 0


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def web_child(pid: int) -> int | None:
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmdline:
            return child
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_daemon_web_child_is_supervised(db, tmp_path):
    cfg, path = db
    port = free_port()
    bad = run_cli("daemon", "--config", str(cfg), "--db", str(path), "--web", "nonsense")
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr
    daemon = DaemonProcess(cfg, path, tmp_path / "daemon.log", "--web", f"127.0.0.1:{port}")
    try:
        wait_until(lambda: answers(port), 40)
        first = wait_until(lambda: web_child(daemon.proc.pid), 10)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: not answers(port), 10)
        second = wait_until(lambda: (web_child(daemon.proc.pid) or 0) not in (0, first), 20)
        assert second
        wait_until(lambda: answers(port), 40)
        child = web_child(daemon.proc.pid)
        assert daemon.stop(signal.SIGTERM) == 0
        time.sleep(0.5)
        assert child is not None and not alive(child)
        assert not answers(port)
        assert "web app" in daemon.logtext() and "restarting" in daemon.logtext()
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(10)


def test_the_listening_socket_says_tcp_so_responses_are_not_delayed():
    """asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; with proto 0 every
    response waited ~40 ms for the client's delayed ACK."""
    from scheduler.cli.web import bind

    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
