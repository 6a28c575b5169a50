"""Issue 17 §4–6, §8: the daemon against big summaries, broken configs, a pause that loses its
lock, and its own kill -9 — real daemon processes, real children, real signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.hostile import FAST_ENV, HostileServer
from tests.test_daemon import count, fast_config, query, runs, wait_until
from tests.test_process_faults import _processes_marked

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


class Daemon:
    def __init__(self, cfg: Path, db: Path, log: Path, *extra: str, env: dict | None = None):
        full = {**os.environ, **FAST_ENV, **(env or {})}
        full.pop("NEWSWATCH_DB", None)
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "daemon", "--config", str(cfg), "--db",
             str(db), "--grace", "5", "--log-level", "INFO", *extra],
            cwd=ROOT, env=full, stdout=subprocess.DEVNULL, stderr=log.open("ab"),
        )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


@pytest.fixture()
def daemons(tmp_path):
    started: list[Daemon] = []

    def start(cfg: Path, db: Path, *extra: str, env: dict | None = None) -> Daemon:
        d = Daemon(cfg, db, tmp_path / f"daemon{len(started)}.log", *extra, env=env)
        started.append(d)
        return d

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGCONT)
            d.proc.kill()
            d.proc.wait(10)


def _many_sources(path: Path, hostile: HostileServer, n: int) -> Path:
    feed = hostile.put(
        "/empty.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        "application/rss+xml",
    )
    lines = ["[defaults]", "delay = 0", 'interval = "8s"', ""]
    for i in range(n):
        lines += ["[[sources]]", f'name = "fuente-{i:03d}"', 'kind = "feed"',
                  f'url = "{feed}?{i}"', 'language = "es"', ""]  # fmt: skip
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_summary_bigger_than_the_pipe_buffer_is_read_and_every_source_recorded(tmp_path, daemons):
    n = 300
    with HostileServer(max_wait=10) as hostile:
        cfg = _many_sources(tmp_path / "s.toml", hostile, n)
        db = tmp_path / "d.sqlite"
        d = daemons(cfg, db, "--run-timeout", "150")
        sql = "select count(distinct source) from crawl_runs where outcome = 'ok'"
        wait_until(lambda: count(db, sql) == n, 120, step=1)
        assert d.stop() == 0
    bad = "select id, source, outcome, error from crawl_runs where outcome not in ('ok', 'aborted')"
    assert not query(db, bad), d.text()[-3000:]
    started = [line.count(",") + 1 for line in d.text().splitlines() if "run started:" in line]
    assert max(started) >= 200, "the test needs one batch whose summary exceeds 64 KiB"


def test_children_run_the_configuration_the_daemon_holds(fixture_server, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", fixture_server.base_url, "2s", ["tribuna"])
    d = daemons(cfg, db)
    ok = "select count(*) from crawl_runs where source = 'tribuna' and outcome = 'ok'"
    wait_until(lambda: count(db, ok) >= 1, 60)

    # Saved without SIGHUP: broken, and the daemon has not read it. Runs go on as before.
    good = cfg.read_text(encoding="utf-8")
    cfg.write_text(good + "\n[[sources]]\nname = 'roto'\nkind = \n", encoding="utf-8")
    seen = count(db, ok)
    wait_until(lambda: count(db, ok) >= seen + 2, 60)

    # SIGHUP with the broken file: the old configuration is kept, and the children keep it too.
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "keeping the old one" in d.text(), 20)
    assert f"{cfg}: line " in d.text()
    seen = count(db, ok)
    wait_until(lambda: count(db, ok) >= seen + 2, 60)
    assert not [r for r in runs(db, "tribuna") if r[1] != "ok" and r[1] != "running"]

    # A child that cannot read its configuration says why, and status shows that line.
    (snapshot,) = re.findall(r"configuration as loaded, from (\S+)", d.text())
    Path(snapshot).unlink()
    last_error = "select last_error from sources where name = 'tribuna'"
    wait_until(lambda: (query(db, last_error) or [(None,)])[0][0], 60)
    ((error,),) = query(db, last_error)
    assert error.startswith("config error: config file not found: "), error
    status = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "status", "--db", str(db), "--config", good_cfg(
            tmp_path, good), "--format", "json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert "config file not found" in status.stdout, status.stdout + status.stderr
    assert d.stop() == 0


def good_cfg(tmp_path: Path, text: str) -> str:
    path = tmp_path / "good.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_daemon_resumed_after_losing_its_lock_stops_at_once(fixture_server, tmp_path, daemons):
    db = tmp_path / "d.sqlite"
    cfg = fast_config(tmp_path / "s.toml", fixture_server.base_url, "2s", ["tribuna"])
    first = daemons(cfg, db, "--lock-stale-after", "3")
    wait_until(lambda: runs(db, "tribuna"), 60)
    wait_until(lambda: not query(db, "select id from crawl_runs where outcome = 'running'"), 60)
    first.proc.send_signal(signal.SIGSTOP)
    time.sleep(4)
    second = daemons(cfg, db, "--lock-stale-after", "3")
    wait_until(lambda: query(db, "select pid from daemon_lock") == [(second.proc.pid,)], 30)
    before = len(first.text())
    first.proc.send_signal(signal.SIGCONT)
    assert first.proc.wait(20) == 4
    after = first.text()[before:]
    assert "lost the lock" in after
    assert "run started" not in after
    assert second.proc.poll() is None
    assert query(db, "select pid from daemon_lock") == [(second.proc.pid,)]
    assert second.stop() == 0


def test_children_and_their_workers_die_soon_after_the_daemon_is_killed(tmp_path, daemons):
    mark = f"daemon-kill9-{os.getpid()}-{time.monotonic_ns()}"
    with HostileServer(max_wait=90) as hostile:
        cfg = tmp_path / "s.toml"
        cfg.write_text(
            '[defaults]\ndelay = 0\n\n[[sources]]\nname = "cuelga"\nkind = "feed"\n'
            f'url = "{hostile.url("/hang")}"\nlanguage = "es"\n',
            encoding="utf-8",
        )
        db = tmp_path / "d.sqlite"
        env = {"NEWSWATCH_DOWNLOAD_TIMEOUT": "60", "NEWSWATCH_TEST_MARK": mark}
        d = daemons(cfg, db, env=env)
        wait_until(lambda: hostile.hits("/hang") >= 1, 60)
        assert len(_processes_marked(mark)) >= 2  # the daemon and its crawl (and its workers)
        d.proc.kill()
        d.proc.wait(10)
        killed = time.monotonic()
        wait_until(lambda: not _processes_marked(mark), 15, step=0.2)
        assert time.monotonic() - killed < 8
