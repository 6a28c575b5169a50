"""The worker's side of its long-lived crawl process (``crawler.fetching.service``).

Jobs hand their batches to one crawl process per worker instead of starting a ``newswatch
crawl`` each: the process's start-up (about a second of CPU) is paid once, not per job. The
process boundary stays: a batch past its hard time limit, or a process that dies, is handled as
the per-job child was (its unfinished runs closed with the reason, the source's failure noted),
and the next job starts a fresh process. The process is also replaced, between batches, after
:data:`RECYCLE_AFTER_BATCHES` batches or :data:`RECYCLE_AFTER_MB` of memory, so a leak in a
library costs a restart, not the machine.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from crawler.processes import die_with_parent
from scheduler.child import hard_limit
from storage.store import Store

log = logging.getLogger("newswatch.worker")

RECYCLE_AFTER_BATCHES = 2000
RECYCLE_AFTER_MB = 1024
KILL_AFTER = 5.0


@dataclass
class _Waiter:
    pid: int
    done: threading.Event = field(default_factory=threading.Event)
    results: list[dict[str, Any]] | None = None
    outcome: str = "failed"
    reason: str = ""


class CrawlProcess:
    """One worker's crawl process: start it on demand, send batches, collect their results."""

    def __init__(self, config_path: str, db_url: str, log_level: str, env: dict[str, str]):
        self.config_path = config_path
        self.db_url = db_url
        self.log_level = log_level
        self.env = env
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pending: dict[int, _Waiter] = {}
        self._numbers = iter(range(1, sys.maxsize))
        self._served = 0
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self.load = 0
        """Batches handed to this process and not finished (kept by :class:`CrawlPool`)."""

    # ------------------------------------------------------------------ the process

    def _ensure(self) -> subprocess.Popen:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            return proc
        cmd = [
            sys.executable,
            "-m",
            "crawler.fetching.service",
            "--config",
            self.config_path,
            "--db",
            self.db_url,
            "--log-level",
            self.log_level,
        ]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **self.env},
            start_new_session=True,
            preexec_fn=die_with_parent,  # a worker killed by -9 takes its crawls with it
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._proc = proc
        self._served = 0
        threading.Thread(target=self._read_results, args=(proc,), daemon=True).start()
        threading.Thread(target=self._read_log, args=(proc,), daemon=True).start()
        log.info("crawl process started (pid %d)", proc.pid)
        return proc

    def _read_results(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                message = json.loads(line)
                number = int(message["batch"])
            except (ValueError, KeyError, TypeError):
                log.warning(
                    "crawl process %d wrote a line that is not a result: %.200s", proc.pid, line
                )
                continue
            with self._lock:
                waiter = self._pending.pop(number, None)
            if waiter is not None:
                waiter.results = list(message.get("results") or [])
                waiter.done.set()
        code = proc.wait()
        with self._lock:
            orphans = [(n, w) for n, w in self._pending.items() if w.pid == proc.pid]
            for number, _ in orphans:
                self._pending.pop(number, None)
            if self._proc is proc:
                self._proc = None
        tail = next((t for t in reversed(self._stderr_tail) if "ERROR" in t or "Error" in t), "")
        for _, waiter in orphans:
            if not waiter.reason:
                waiter.outcome = "aborted" if code < 0 else "failed"
                waiter.reason = f"crawl process exited with code {code}" + (
                    f": {tail.strip()[-300:]}" if tail else ""
                )
            waiter.done.set()
        if code != 0 and orphans:
            log.warning("crawl process %d exited with code %d", proc.pid, code)

    def _read_log(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self._stderr_tail.append(line)
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(line)
                sys.stderr.flush()

    # ------------------------------------------------------------------ batches

    def run(self, sources: list[str], run_timeout: float) -> tuple[list[dict[str, Any]], _Waiter]:
        """Crawl ``sources`` in the process; their result records (missing ones: see the
        waiter's outcome and reason) once the batch ends, fails or is stopped."""
        with self._lock:
            proc = self._ensure()
            number = next(self._numbers)
            waiter = _Waiter(proc.pid)
            self._pending[number] = waiter
            line = json.dumps({"batch": number, "sources": sources, "run_timeout": run_timeout})
            try:
                assert proc.stdin is not None
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
            except (OSError, ValueError):
                pass  # the process is dying; its reader thread closes the waiter
        log.info("run started: %s (pid %d)", ", ".join(sources), proc.pid)
        if not waiter.done.wait(hard_limit(run_timeout)):
            waiter.outcome = "timeout"
            waiter.reason = (
                f"stopped at its time limit ({run_timeout:g} s): crawl process restarted"
            )
            log.warning(
                "run %s over its time limit: restarting the crawl process", ", ".join(sources)
            )
            self._stop(
                proc, others=f"its crawl process was restarted: {', '.join(sources)} overran"
            )
            waiter.done.wait(KILL_AFTER * 3)
        self._after_batch(proc)
        return waiter.results or [], waiter

    def _stop(self, proc: subprocess.Popen, others: str) -> None:
        with self._lock:
            for waiter in self._pending.values():
                if waiter.pid == proc.pid and not waiter.reason:
                    waiter.outcome, waiter.reason = "aborted", others
        _signal(proc, signal.SIGTERM)
        try:
            proc.wait(KILL_AFTER)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL)

    def _after_batch(self, proc: subprocess.Popen) -> None:
        """Replace a process that served enough batches or grew too big, once it is idle."""
        with self._lock:
            self._served += 1
            if self._proc is not proc or any(w.pid == proc.pid for w in self._pending.values()):
                return
            size = _rss_mb(proc.pid)
            if self._served < RECYCLE_AFTER_BATCHES and size < RECYCLE_AFTER_MB:
                return
            self._proc = None
        log.info("crawl process %d replaced (%d batches, %d MB)", proc.pid, self._served, size)
        with contextlib.suppress(OSError, ValueError):
            assert proc.stdin is not None
            proc.stdin.close()

    def close(self, wait: float = 30.0) -> None:
        """End the process: stdin closed (it finishes what it holds), then signals."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            self._stop(proc, others="the worker stopped")


class CrawlPool:
    """A worker's crawl processes: each batch goes to the one with the fewest batches on hand.

    One process crawls on one core, so a machine with more cores needs more of them (one per
    core by default: on two cores, two processes per core polled slower than one). Two batches of one site never run at once anyway (the job's site lock), and a
    job holds that lock for the site's delay after it ends, so which process takes a site's
    next batch does not matter to the site.
    """

    def __init__(
        self, size: int, config_path: str, db_url: str, log_level: str, env: dict[str, str]
    ):
        self.processes = [CrawlProcess(config_path, db_url, log_level, env) for _ in range(size)]
        self._lock = threading.Lock()

    def run(self, sources: list[str], run_timeout: float) -> tuple[list[dict[str, Any]], _Waiter]:
        with self._lock:
            chosen = min(self.processes, key=lambda p: p.load)
            chosen.load += 1
        try:
            return chosen.run(sources, run_timeout)
        finally:
            with self._lock:
                chosen.load -= 1

    def close(self, wait: float = 30.0) -> None:
        for process in self.processes:
            process.close(wait)


def close_missing(
    db_url: str, pid: int, outcome: str, reason: str, missing: list[str], *, charge: bool
) -> None:
    """Runs a crawl process never reported: closed with the reason and, with ``charge``, the
    source's failure noted."""
    store = Store(db_url)
    try:
        for name in missing:
            store.close_open_runs(name, pid, outcome, reason)
            if charge:
                store.record_source_result(name, False, reason)
    finally:
        store.close()


def _signal(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
