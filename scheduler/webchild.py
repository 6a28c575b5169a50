"""The daemon's web app (``newswatch daemon --web HOST:PORT``): a supervised ``newswatch serve``.

The web app runs in its own process, like a crawl, so a slow page never delays scheduling and
a crash in one never takes down the other. The daemon polls it each tick: a child that died is
started again after a backoff that doubles (1 s up to a minute) while it keeps dying early;
the child gets SIGTERM when the daemon stops and dies with the daemon even if the daemon is
killed (:func:`crawler.processes.die_with_parent`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler.processes import die_with_parent

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1:8080"
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
HEALTHY_AFTER = 60.0
"""Seconds a child must have lived for its next death to restart the backoff at one second."""
STOP_WAIT = 5.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost``, 127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_address(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) as ``(host, port)``; ValueError when bad."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--web: {value!r} is not HOST:PORT (such as {DEFAULT_ADDRESS})")
    return host.strip("[]"), int(port)


class WebChild:
    """One supervised ``newswatch serve`` process."""

    def __init__(
        self, address: str, db_url: str, config_path: Path | None, log_level: str = "INFO"
    ) -> None:
        self.host, self.port = parse_address(address)
        self.db_url = db_url
        self.config_path = config_path
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.backoff = FIRST_BACKOFF
        self.next_start = 0.0
        self.restarts = 0

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "scheduler.cli", "serve", "--db", self.db_url]
        cmd += ["--host", self.host, "--port", str(self.port), "--log-level", self.log_level]
        if self.config_path is not None:
            cmd += ["--config", str(self.config_path)]
        return cmd

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno(),
            env=dict(os.environ),
            start_new_session=True,
            preexec_fn=die_with_parent,  # SIGTERM when the daemon dies, even by kill -9
        )
        self.started_at = time.monotonic()
        log.info("web app started on %s:%d (pid %d)", self.host, self.port, self.proc.pid)

    def poll(self) -> None:
        """Called every daemon tick: notice a dead child, start it again when its backoff ends."""
        now = time.monotonic()
        if self.proc is not None:
            code = self.proc.poll()
            if code is None:
                return
            lived = now - self.started_at
            self.backoff = FIRST_BACKOFF if lived >= HEALTHY_AFTER else self.backoff
            log.warning(
                "web app (pid %d) exited with %s; restarting in %.0f s",
                self.proc.pid,
                code,
                self.backoff,
            )
            self.proc = None
            self.next_start = now + self.backoff
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)
            return
        if now >= self.next_start:
            self.restarts += 1
            self.start()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within :data:`STOP_WAIT` seconds."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.info("web app stopped")
