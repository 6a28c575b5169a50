"""``newswatch daemon``: the scheduler process.

It hosts APScheduler (one job per enabled source, rebuilt from the config at every start and on
SIGHUP, never pickled) and starts each run as a child ``newswatch crawl`` process with a hard time
limit. It never imports Scrapy or parses a page, so its memory stays flat; a crash, hang or leak in
a crawl dies with its child. All scheduling state (next due, failures, backoff, ETag) lives in the
database, written by the crawl itself, so a restart resumes where the last process stopped.
Sources due together share one child; a source whose site another child is crawling waits for
that child, because a crawl keeps a site's delay only among its own sources.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import Config, ConfigError, Source, load_config, resolve_config_path
from crawler.processes import die_with_parent
from scheduler.alerts.daemon_hook import ALERTS_EVERY, JOB_ID, DaemonAlerts
from scheduler.child import Child, hard_limit
from scheduler.logs import plural
from scheduler.webchild import WebChild
from storage.db import one_line
from storage.schedule import due_at, first_run_at, pending_backoff
from storage.store import Store

log = logging.getLogger("newswatch.daemon")

DEFAULT_RUN_TIMEOUT = 15 * 60.0
DEFAULT_GRACE = 30.0
DEFAULT_MAX_CHILDREN = 2
HEARTBEAT_EVERY = 5.0
LOCK_STALE_AFTER = 30.0
FAILING_AFTER = 5
KILL_AFTER = 5.0
MAX_JITTER = 60.0
LOST_LOCK_EXIT = 4
"""Exit code of a daemon that found another one holding its database's lock."""


@dataclass
class DaemonOptions:
    config_path: Path | None
    db_url: str
    run_timeout: float = DEFAULT_RUN_TIMEOUT
    grace: float = DEFAULT_GRACE
    max_children: int = DEFAULT_MAX_CHILDREN
    tick: float = 0.25
    log_level: str = "INFO"
    log_format: str = "text"
    extra_env: dict[str, str] = field(default_factory=dict)
    lock_stale_after: float = LOCK_STALE_AFTER
    web: str | None = None
    """``HOST:PORT`` of a supervised web app (:mod:`scheduler.webchild`), or None."""
    cluster: bool = False
    """Queue runs for ``newswatch worker``s (PostgreSQL) instead of starting children."""
    stalled_after: float = 30.0


class DaemonAlreadyRunning(RuntimeError):
    """Another daemon holds this database; its pid and host are in the message."""


def jitter_for(interval: float) -> float:
    """Spread each source's runs by up to 10 % of its interval (at most a minute)."""
    return min(interval * 0.1, MAX_JITTER)


class Daemon:
    def __init__(self, options: DaemonOptions) -> None:
        self.opts = options
        self.store = Store(options.db_url)
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self.config: Config | None = None
        self.sources: dict[str, Source] = {}
        self.queue: list[str] = []
        self.queue_lock = threading.Lock()
        self.held: dict[str, float] = {}
        """Sources due but held back (a run of their site, or no free child), since when."""
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.lost_lock = False
        self.workdir: Path | None = None
        """A private directory for the configuration snapshot the children run."""
        self.reload_requested = threading.Event()
        self.alerts = DaemonAlerts(self.store, FAILING_AFTER)
        self.web = (
            WebChild(options.web, options.db_url, options.config_path, options.log_level)
            if options.web
            else None
        )
        self.cluster: Any = None
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        stale_after = self.opts.lock_stale_after
        if self.opts.cluster:
            from scheduler.cluster.schedule import ClusterScheduler

            self._install_signals()
            self.cluster = ClusterScheduler(self.opts.db_url, self.opts.stalled_after)
            if not self.cluster.wait_for_leadership(self.stopping):
                self.cluster.close()
                return 0
            stale_after = 0.0  # the advisory lock is the authority: the old holder is gone
        holder = self.store.acquire_daemon_lock(self.pid, self.host, stale_after)
        if holder is not None:
            raise DaemonAlreadyRunning(
                f"another newswatch daemon (pid {holder['pid']} on {holder['host']}, "
                f"heartbeat {holder['heartbeat_at']:%Y-%m-%d %H:%M:%S} UTC) already runs against "
                "this database; stop it first"
            )
        try:
            # Cluster workers own their runs (a dead worker's are aborted on recovery).
            aborted = self.cluster is None and self.store.abort_running_runs(
                "daemon restarted: run was left running"
            )
            if aborted:
                log.warning(
                    "marked %s left running by a previous process as aborted",
                    plural(aborted, "run"),
                )
            self._install_signals()
            self.load()
            self.scheduler.add_job(
                self.alerts.run, IntervalTrigger(seconds=ALERTS_EVERY, timezone=UTC), id=JOB_ID
            )
            self.scheduler.start()
            self._alerts_now()
            if self.web is not None:
                self.web.start()
            log.info(
                "daemon started (pid %d): %s scheduled; config %s; database %s",
                self.pid,
                plural(len(self.sources), "source"),
                self.opts.config_path,
                self.store.engine.url.render_as_string(hide_password=True),
            )
            log.info("children run the configuration as loaded, from %s", self.snapshot)
            self._loop()
            self._shutdown()
        finally:
            if not self.lost_lock:
                self.store.release_daemon_lock(self.pid)
            self.store.close()
            if self.cluster is not None:
                self.cluster.close()
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)
        if self.lost_lock:
            log.error("daemon stopped: it had lost its lock on the database")
            return LOST_LOCK_EXIT
        log.info("daemon stopped")
        return 0

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.stopping.set()

        def hup(_signum: int, _frame: Any) -> None:
            self.reload_requested.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hup)

    def reload(self) -> None:
        """SIGHUP: load the sources file again; whatever goes wrong (a broken file, a database
        that stays locked, a full disk) keeps the old configuration and the daemon running."""
        try:
            self.load()
        except ConfigError as exc:
            log.error("configuration not reloaded, keeping the old one: %s", exc)
        except Exception as exc:
            log.error(
                "configuration not reloaded, keeping the old one: %s: %s",
                type(exc).__name__,
                one_line(exc),
            )
        else:
            log.info("configuration reloaded")

    def load(self) -> None:
        """(Re)build the jobs from the config: added, removed and changed sources. The children's
        snapshot changes only once the database knows the new sources, so a reload that fails
        halfway leaves the old configuration everywhere."""
        config, staged = self._read_config()
        self.alerts.load(config)
        enabled = {s.name: s for s in config.sources if s.enabled}
        self.store.sync_sources([s.info() for s in config.sources])
        os.replace(staged, self.snapshot)
        states = self.store.source_states()
        now = datetime.now(UTC)
        for name in set(self.sources) - set(enabled):
            if self.scheduler.get_job(name):
                self.scheduler.remove_job(name)
            log.info("source %s removed from schedule", name)
        for slot, (name, source) in enumerate(sorted(enabled.items())):
            old = self.sources.get(name)
            if old == source and self.scheduler.get_job(name):
                continue
            self.scheduler.add_job(
                self.enqueue,
                IntervalTrigger(
                    seconds=source.interval, jitter=jitter_for(source.interval), timezone=UTC
                ),
                id=name,
                name=name,
                args=[name],
                replace_existing=True,
                next_run_time=first_run_at(states.get(name), source.interval, now, slot),
            )
            log.info(
                "source %s scheduled every %ss%s",
                name,
                source.interval,
                " (changed)" if old else "",
            )
        self.config = config
        self.sources = enabled
        self.held = {n: since for n, since in self.held.items() if n in enabled}

    @property
    def snapshot(self) -> Path:
        """The configuration the daemon holds, as the children read it."""
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="newswatch-daemon-"))
        return self.workdir / "sources.toml"

    def _read_config(self) -> tuple[Config, Path]:
        """Read and validate the sources file, staged beside the children's snapshot (which
        :meth:`load` replaces only if it is valid): a child runs what the daemon holds, so a broken
        file (reloaded or not) or an edit saved without SIGHUP never reaches a run. Errors name the
        user's file and its lines."""
        original = resolve_config_path(self.opts.config_path)
        try:
            data = original.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"cannot read config file: {exc.strerror or exc}", path=original
            ) from None
        candidate = self.snapshot.with_name("sources.next.toml")
        try:
            candidate.write_bytes(data)
        except OSError as exc:
            raise ConfigError(
                f"cannot stage config snapshot: {exc.strerror or exc}", path=candidate
            ) from None
        try:
            config = load_config(candidate)
        except ConfigError as exc:
            raise ConfigError(
                exc.message,
                path=original,
                source=exc.source,
                key=exc.key,
                line=exc.line,
                column=exc.column,
            ) from None
        return replace(config, path=original), candidate

    # ------------------------------------------------------------------ jobs and children

    def enqueue(self, name: str) -> None:
        """APScheduler job: the source is due; the main loop starts it when it is not running."""
        with self.queue_lock:
            if name not in self.queue:
                self.queue.append(name)

    def _running(self) -> set[str]:
        return {n for c in self.children for n in c.sources}

    def _dispatch(self) -> None:
        with self.queue_lock:
            queued, self.queue = self.queue, []
        if not queued:
            return
        running = self._running()
        states = self.store.source_states()
        now = datetime.now(UTC)
        healthy: list[str] = []
        alone: list[str] = []
        for name in queued:
            if name in running or name not in self.sources:
                self.held.pop(name, None)
                continue
            backoff = pending_backoff(states.get(name), now)
            if backoff is not None:
                self.held.pop(name, None)
                self._reschedule(name, backoff)
                continue
            (alone if states.get(name, {}).get("consecutive_failures") else healthy).append(name)
        batches = ([healthy] if healthy else []) + [[n] for n in alone]
        # Sources held back longest go first: a sibling due again whenever its run ends must not
        # keep a source of the same site waiting for ever.
        batches.sort(key=lambda batch: min(self.held.get(n, math.inf) for n in batch))
        busy = {self._host(n) for n in running}
        waiting: list[str] = []
        for batch in batches:
            clash = [n for n in batch if self._host(n) in busy]
            batch = [n for n in batch if n not in clash]
            waiting += clash
            if not batch:
                continue
            if len(self.children) >= self.opts.max_children:
                waiting += batch
                continue
            self._start_child(batch)
            busy |= {self._host(n) for n in batch}
            for name in batch:
                self.held.pop(name, None)
        held_at = time.monotonic()
        for name in waiting:
            self.held.setdefault(name, held_at)
        if waiting:
            log.debug(
                "held back (a run of the same site, or no free child): %s", ", ".join(waiting)
            )
            with self.queue_lock:
                self.queue = waiting + [n for n in self.queue if n not in waiting]

    def _host(self, name: str) -> str:
        """The site a source is read from (its URL's host name): two child runs never crawl one
        site at once, since each process keeps the site's delay only among its own sources."""
        source = self.sources.get(name)
        return (urlsplit(source.url).hostname or name) if source is not None else name

    def _start_child(self, names: list[str]) -> None:
        if self.cluster is not None:
            self.cluster.dispatch(names, self._host, self._reschedule)
            return
        cmd = [
            sys.executable,
            "-m",
            "scheduler.cli",
            "crawl",
            *names,
            "--db",
            self.opts.db_url,
            "--format",
            "json",
            "--run-timeout",
            str(int(self.opts.run_timeout)),
            "--log-level",
            self.opts.log_level,
        ]
        cmd += ["--config", str(self.snapshot)]
        env = {**os.environ, **self.opts.extra_env}
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,  # SIGTERM when the daemon dies, even by kill -9
            text=True,
        )
        now = time.monotonic()
        child = Child(proc, names, now, now + hard_limit(self.opts.run_timeout))
        child.start_readers()
        self.children.append(child)
        log.info("run started: %s (pid %d)", ", ".join(names), proc.pid)

    def _reap(self) -> None:
        now = time.monotonic()
        for child in list(self.children):
            code = child.proc.poll()
            if code is None:
                if child.terminated_at is None and now > child.deadline:
                    log.warning("run %s over its time limit: stopping it", ", ".join(child.sources))
                    child.outcome = "timeout"
                    self._signal(child, signal.SIGTERM)
                    child.terminated_at = now
                elif child.terminated_at is not None and now > child.terminated_at + KILL_AFTER:
                    self._signal(child, signal.SIGKILL)
                continue
            self.children.remove(child)
            self._finished(child, code)

    @staticmethod
    def _signal(child: Child, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, sig)

    def _finished(self, child: Child, code: int) -> None:
        out = child.collected()
        elapsed = time.monotonic() - child.started
        try:
            results = {r["source"]: r for r in json.loads(out)} if out.strip() else {}
        except (json.JSONDecodeError, TypeError, KeyError):
            results = {}
        for name in child.sources:
            result = results.get(name)
            if result is None:
                # A run cut short by the daemon's own shutdown says nothing about the source:
                # it is logged as aborted but does not count towards the source's backoff.
                ours = self.stopping.is_set() and child.outcome != "timeout"
                outcome = child.outcome or ("aborted" if code < 0 or ours else "failed")
                if outcome == "timeout":
                    reason = f"run stopped at its time limit ({self.opts.run_timeout:.0f}s)"
                elif ours:
                    reason = "stopped by the daemon's shutdown before it finished"
                else:
                    reason = (
                        child.error_line()
                        or f"crawl process exited with code {code} without a result"
                    )
                self.store.close_open_runs(name, child.proc.pid, outcome, reason)
                if not ours:
                    self.store.record_source_result(
                        name, False, reason, interval=self._interval(name)
                    )
                log.warning("source %s: %s", name, reason)
            else:
                log.info(
                    "source %s: %s in %.1fs (new %s, updated %s, errors %s)%s",
                    name,
                    result.get("outcome") or ("ok" if result.get("ok") else "failed"),
                    elapsed,
                    result.get("new"),
                    result.get("updated"),
                    result.get("errors"),
                    f": {result.get('error')}" if result.get("error") else "",
                )
            self._reschedule_from_state(name)
        self._alerts_now()

    def _alerts_now(self) -> None:
        """A run committed (or the daemon started): match and send alerts now, off the loop."""
        job = self.scheduler.get_job(JOB_ID)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))

    def _interval(self, name: str) -> float | None:
        source = self.sources.get(name)
        return source.interval if source else None

    def _reschedule_from_state(self, name: str) -> None:
        state = self.store.source_states().get(name)
        if not state or name not in self.sources:
            return
        due = due_at(state)
        if due is not None:
            self._reschedule(name, due)

    def _reschedule(self, name: str, when: datetime) -> None:
        job = self.scheduler.get_job(name)
        if job is not None:
            job.modify(next_run_time=max(when, datetime.now(UTC)))

    # ------------------------------------------------------------------ main loop

    def _loop(self) -> None:
        last_beat = 0.0
        beat_every = min(HEARTBEAT_EVERY, self.opts.lock_stale_after / 3)
        while not self.stopping.is_set():
            # The heartbeat comes first: a daemon resumed after a pause (SIGSTOP, a suspended
            # VM) longer than the lock's staleness window must learn that it lost the lock
            # before it starts anything.
            if time.monotonic() - last_beat >= beat_every:
                if not self.store.daemon_heartbeat(self.pid, self.host):
                    self._lose_lock()
                    return
                last_beat = time.monotonic()
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            if self.cluster is not None:
                if not self.cluster.still_leader():
                    self._lose_lock()
                    return
                self.cluster.tick()
            self._reap()
            self._dispatch()
            if self.web is not None:
                self.web.poll()
            self.stopping.wait(self.opts.tick)

    def _lose_lock(self) -> None:
        """Another daemon took this database's lock while this one was not beating (its
        heartbeat updated no row): stop scheduling at once and stop the children now."""
        holder = self.store.daemon_info(self.opts.lock_stale_after, self.host)
        who = f"pid {holder['pid']} on {holder['host']}" if holder else "nobody now"
        log.error(
            "lost the lock on this database (held by %s): another daemon runs its sources; "
            "stopping at once",
            who,
        )
        self.lost_lock = True
        self.stopping.set()

    def _shutdown(self) -> None:
        """Take no new runs; let running ones finish within the grace period, then stop them."""
        self.scheduler.shutdown(wait=False)
        if self.web is not None:
            self.web.stop()
        deadline = time.monotonic() + (KILL_AFTER if self.lost_lock else self.opts.grace)
        for child in self.children:
            self._signal(child, signal.SIGTERM)
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        for child in self.children:
            child.outcome = "aborted"
            self._signal(child, signal.SIGKILL)
        while self.children:
            self._reap()
            time.sleep(0.05)
