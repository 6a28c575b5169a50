"""Issue 17 §1-2: ``newswatch sources --check --online`` against a hostile server, through the
real CLI: every redirect hop passes the crawl's address rule, only http(s) is fetched, and one
fetch has a total deadline (the crawl's download timeout) however slowly the body trickles.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.fetching.check import fetch
from tests.support.hostile import HostileServer, cli, write_sources


class _Listener:
    """A TCP port that records whether anything connected (an FTP server stand-in)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture()
def ftp() -> Iterator[_Listener]:
    listener = _Listener()
    yield listener
    listener.close()


REDIRECTS = {
    # name: (redirect target, words the refusal must contain)
    "metadata": ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local"),
    "mapped": ("http://[::ffff:169.254.169.254]/latest/", "link-local"),
    "mapped_hex": ("http://[::ffff:a9fe:a9fe]/latest/", "::ffff:a9fe:a9fe (169.254.169.254)"),
    "shared": ("http://100.64.0.1/feed.xml", "100.64.0.1 is a shared (carrier-grade NAT)"),
    "decimal": ("http://2852039166/latest/", "link-local"),
}


def test_check_online_cli_refuses_every_hostile_hop_and_keeps_its_deadline(
    tmp_path: Path, ftp: _Listener
) -> None:
    with HostileServer(max_wait=20) as hostile:
        sources = {n: ("feed", hostile.url(f"/redirect?to={t}")) for n, (t, _) in REDIRECTS.items()}
        sources["ftp"] = ("feed", hostile.url(f"/redirect?to=ftp://127.0.0.1:{ftp.port}/x.xml"))
        sources["trickle"] = ("feed", hostile.url("/trickle?every=1"))
        sources["good"] = ("feed", hostile.url("/doc/good.xml"))
        cfg = write_sources(tmp_path / "sources.toml", sources)
        started = time.monotonic()
        result = cli(
            "sources", "--check", "--online", "--config", str(cfg), "--format", "json",
            env={"NEWSWATCH_ALLOW_PRIVATE": "127.0.0.1", "NEWSWATCH_DOWNLOAD_TIMEOUT": "3"},
        )  # fmt: skip
        took = time.monotonic() - started
        link_local = ("metadata", "mapped", "mapped_hex", "decimal")
        allowed = cli(
            "sources", "--check", "--online", "--config", str(cfg), "--format", "json",
            *link_local, env={"NEWSWATCH_ALLOW_PRIVATE": "1"},
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    by_name = {r["name"]: r for r in json.loads(result.stdout)}
    assert by_name["good"]["ok"] is True, by_name["good"]
    for name, (_, words) in REDIRECTS.items():
        problem = by_name[name]["problem"] or ""
        assert not by_name[name]["ok"] and problem.startswith("refused: "), (name, problem)
        assert words in problem, (name, problem)
    assert by_name["ftp"]["problem"].startswith("refused: ftp: URLs are not fetched")
    assert ftp.connections == 0
    assert by_name["trickle"]["problem"] == "no answer within 3 s"
    assert took < 15, took
    assert allowed.returncode == 1, allowed.stderr
    for row in json.loads(allowed.stdout):
        assert "link-local" in row["problem"] and "never fetched" in row["problem"], row


def test_fetch_gives_up_on_a_one_byte_per_second_body_at_its_deadline() -> None:
    with HostileServer(max_wait=20) as hostile:
        started = time.monotonic()
        answer = fetch(hostile.url("/trickle?every=1"), timeout=2.5)
        took = time.monotonic() - started
    assert answer.status is None and answer.error == "no answer within 2.5 s"
    assert 2.0 < took < 4.0, took


def test_fetch_deadline_and_size_cap_default_to_the_crawl_settings(monkeypatch) -> None:
    monkeypatch.setenv("NEWSWATCH_DOWNLOAD_TIMEOUT", "1.5")
    monkeypatch.setenv("NEWSWATCH_MAX_PAGE_BYTES", "4096")
    with HostileServer(max_wait=20) as hostile:
        started = time.monotonic()
        slow = fetch(hostile.url("/trickle?every=1"))
        took = time.monotonic() - started
        big = fetch(hostile.url("/huge"))
    assert slow.error == "no answer within 1.5 s" and took < 3.0, (slow, took)
    assert big.status == 200 and len(big.body) == 4096
    assert big.error == "response over the size cap, truncated"
