"""Issue 7 §4: process faults — kill -9 mid-crawl, a database locked by another writer, readers
next to a writing crawl, a disk that fills up."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.hostile import FAST_ENV, HostileServer, cli, integrity, write_sources
from tests.test_storage import HEAD_REVISION

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _article_feed(hostile: HostileServer, prefix: str, count: int, hang_every: int = 0) -> str:
    items = []
    for i in range(count):
        path = (
            "/hang" if hang_every and i % hang_every == hang_every - 1 else f"/article/{prefix}-{i}"
        )
        items.append(
            f"<item><title>{prefix} {i}</title><link>{{{{BASE}}}}{path}?{i}</link><guid>{prefix}{i}</guid></item>"
        )
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + "".join(items)
        + "</channel></rss>"
    )
    return hostile.put(f"/{prefix}.xml", body, "application/rss+xml")


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def _processes_marked(mark: str) -> list[int]:
    """Live processes whose environment carries ``mark`` (this test's crawl and its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if f"NEWSWATCH_TEST_MARK={mark}".encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


def test_kill_9_mid_crawl_leaves_db_intact_and_restart_duplicates_nothing(tmp_path):
    with HostileServer(max_wait=15) as hostile:
        url = _article_feed(hostile, "kill", 40, hang_every=4)
        cfg = write_sources(tmp_path / "s.toml", {"k": ("feed", url)})
        db = tmp_path / "db.sqlite"
        mark = f"kill9-{os.getpid()}-{time.monotonic_ns()}"
        env = {
            **os.environ,
            **FAST_ENV,
            "NEWSWATCH_DOWNLOAD_TIMEOUT": "10",
            "NEWSWATCH_INLINE_FIRST": "0",
            "NEWSWATCH_TEST_MARK": mark,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "crawl", "--config", str(cfg), "--db", str(db)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if db.exists():
                try:
                    if _count(db) > 0:
                        break
                except sqlite3.OperationalError:
                    pass
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # Extraction workers die with their crawl: nothing carrying the mark survives it.
        time.sleep(1)
        assert not _processes_marked(mark)
        before = _count(db)
        assert 0 < before < 40
        assert integrity(db) == "ok"
        result = cli(
            "crawl",
            "--config",
            str(cfg),
            "--db",
            str(db),
            "--format",
            "json",
            env={"NEWSWATCH_DOWNLOAD_TIMEOUT": "1", "NEWSWATCH_RETRY_TIMES": "0"},
        )
        assert result.returncode == 0, result.stderr[-2000:]
        with sqlite3.connect(db) as conn:
            urls = [r[0] for r in conn.execute("SELECT url FROM articles")]
        assert len(urls) == len(set(urls)) >= before
        assert integrity(db) == "ok"


def test_db_locked_longer_than_busy_timeout_is_a_clear_failure(fixture_server, tmp_path):
    db = tmp_path / "db.sqlite"
    assert cli("status", "--db", str(db)).returncode in (0, 2)
    cfg = write_sources(
        tmp_path / "s.toml", {"good": ("feed", fixture_server.base_url + "/tribuna/feed.xml")}
    )
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE IF NOT EXISTS held (x)")
    try:
        result = cli(
            "crawl",
            "--config",
            str(cfg),
            "--db",
            str(db),
            env={"NEWSWATCH_BUSY_TIMEOUT": "1"},
            timeout=120,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines and "database is locked" in lines[-1] and "Traceback" not in result.stderr
    assert integrity(db) == "ok"
    again = cli("crawl", "--config", str(cfg), "--db", str(db))
    assert again.returncode == 0, again.stderr[-2000:]
    assert _count(db) >= 3


def test_readers_never_see_database_is_locked_during_a_crawl(tmp_path):
    with HostileServer(max_wait=15) as hostile:
        url = _article_feed(hostile, "read", 60)
        cfg = write_sources(tmp_path / "s.toml", {"r": ("feed", url)})
        db = tmp_path / "db.sqlite"
        assert cli("db", "init", "--db", str(db)).returncode == 0  # reading commands create none
        errors: list[str] = []
        done = threading.Event()

        def reader(args: list[str]) -> None:
            while not done.is_set():
                r = cli(*args, "--db", str(db), env={"NEWSWATCH_BUSY_TIMEOUT": "30"})
                if r.returncode != 0 or "locked" in r.stderr:
                    errors.append(r.stderr[-500:])

        threads = [
            threading.Thread(target=reader, args=(a,))
            for a in (
                ["search", "seguridad", "--format", "json"],
                ["export", "--format", "jsonl"],
                ["status"],
            )
        ]
        for t in threads:
            t.start()
        try:
            result = cli("crawl", "--config", str(cfg), "--db", str(db))
        finally:
            done.set()
            for t in threads:
                t.join(60)
        assert result.returncode == 0, result.stderr[-2000:]
        assert errors == []
        assert _count(db) == 60


def _can_mount_tmpfs(target: Path) -> bool:
    if os.geteuid() != 0:
        return False
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(target)], capture_output=True
    )
    return r.returncode == 0


def test_disk_full_mid_run_is_a_clear_error_without_corruption(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if not _can_mount_tmpfs(mnt):
        pytest.skip("cannot mount a small tmpfs here")
    try:
        with HostileServer(max_wait=15) as hostile:
            url = _article_feed(hostile, "full", 200)
            cfg = write_sources(tmp_path / "s.toml", {"f": ("feed", url)})
            db = mnt / "db.sqlite"
            result = cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
            assert result.returncode in (1, 2), result.stderr[-2000:]
            text = result.stdout + result.stderr
            assert "full" in text.lower(), text[-2000:]
            assert integrity(db) == "ok"
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


KILL_MID_MIGRATION = r"""
import os, signal, sys
from alembic.operations import Operations
from storage.db import get_engine

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

Operations.create_index = die  # 0004 adds a column, then creates indexes: killed in between
get_engine(sys.argv[1])
"""


def test_kill_9_during_a_migration_step_leaves_the_old_schema_and_the_next_open_upgrades(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from storage.db import _alembic_config, current_revision, dispose_engines, get_engine

    db = tmp_path / "old.sqlite"
    url = f"sqlite:///{db}"
    cfg = _alembic_config()
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0003")
    proc = subprocess.run(
        [sys.executable, "-c", KILL_MID_MIGRATION, url], cwd=ROOT, capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("pragma integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("select version_num from alembic_version").scalar() == "0003"
    assert "shingles" not in {c["name"] for c in inspect(engine).get_columns("articles")}
    engine.dispose()
    dispose_engines()
    upgraded = get_engine(url)
    assert current_revision(upgraded) == HEAD_REVISION
    assert "shingles" in {c["name"] for c in inspect(upgraded).get_columns("articles")}
