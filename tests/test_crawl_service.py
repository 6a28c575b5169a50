"""The cluster worker's long-lived crawl process: batches in, results out, each with its time
limit; a hung batch does not hold the others, and a process that dies is replaced."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from scheduler.cluster.service import CrawlPool
from scheduler.cluster.tasks import WorkerSettings, run_in_service

pytestmark = pytest.mark.slow


def _config(path: Path, base: str) -> Path:
    lines = ["[defaults]", "delay = 0", ""]
    for name, feed in (("tribuna", "/tribuna/feed.xml"), ("lento", "/borderreport/atom.xml")):
        lines += ["[[sources]]", f'name = "{name}"', 'kind = "feed"', f'url = "{base}{feed}"',
                  'language = "es"', ""]  # fmt: skip
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _runs(db: Path) -> list[tuple]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            sql = "select source, outcome, pid, host, worker from crawl_runs order by id"
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture
def pool(site, tmp_path):
    cfg = _config(tmp_path / "s.toml", site.base_url)
    env = {"NEWSWATCH_ALLOW_PRIVATE": "1"}
    made = CrawlPool(1, str(cfg), f"sqlite:///{tmp_path / 'c.sqlite'}", "WARNING", env)
    yield made
    made.close(10)


def test_a_batch_is_crawled_and_its_runs_name_the_worker(pool, tmp_path):
    results, _ = pool.run(["tribuna"], 60)
    assert [(r["source"], r["outcome"]) for r in results] == [("tribuna", "ok")]
    assert results[0]["new"] > 0
    ((source, outcome, pid, host, worker),) = _runs(tmp_path / "c.sqlite")
    assert (source, outcome, worker) == ("tribuna", "ok", os.getpid())
    assert host and pid != os.getpid()


def test_a_hung_batch_ends_at_its_limit_and_the_process_serves_the_next(site, pool, tmp_path):
    site.override("/borderreport/atom.xml", None, delay=30)
    started = time.monotonic()
    results, _ = pool.run(["lento", "tribuna"], 3)
    assert time.monotonic() - started < 15
    assert {r["source"]: r["outcome"] for r in results} == {"lento": "timeout", "tribuna": "ok"}
    (process,) = pool.processes
    first_pid = process._proc.pid
    site.reset_overrides()
    again, _ = pool.run(["lento"], 30)
    assert [r["outcome"] for r in again] == ["ok"]
    assert process._proc.pid == first_pid, "the same process served the next batch"


def test_a_process_that_dies_mid_batch_closes_its_runs_and_is_replaced(site, pool, tmp_path):
    site.override("/borderreport/atom.xml", None, delay=30)
    (process,) = pool.processes
    pool.run(["tribuna"], 30)  # the process is up
    victim = process._proc.pid
    killer = _kill_soon(victim)
    settings = WorkerSettings(tmp_path / "s.toml", f"sqlite:///{tmp_path / 'c.sqlite'}", 30)
    job = run_in_service(pool, settings, ["lento"])
    killer.join()
    assert job["results"] == {"lento": None}
    lento = [r for r in _runs(tmp_path / "c.sqlite") if r[0] == "lento"]
    assert [r[1] for r in lento] == ["aborted"], "closed, not left running"
    site.reset_overrides()
    again, _ = pool.run(["lento"], 30)
    assert [r["outcome"] for r in again] == ["ok"]
    assert process._proc.pid != victim


def _kill_soon(pid: int):
    import threading

    def kill() -> None:
        time.sleep(1.5)
        os.kill(pid, signal.SIGKILL)

    thread = threading.Thread(target=kill)
    thread.start()
    return thread


def test_a_source_missing_from_the_worker_s_file_is_a_failure_status_can_show(pool, tmp_path):
    results, _ = pool.run(["tribuna", "desconocida"], 30)
    by_source = {r["source"]: r for r in results}
    assert by_source["tribuna"]["outcome"] == "ok"
    assert by_source["desconocida"]["outcome"] == "failed"
    assert by_source["desconocida"]["error"] == "not in this worker's sources file"
    engine = create_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    try:
        with engine.connect() as conn:
            sql = "select last_error from sources where name = 'desconocida'"
            assert conn.execute(text(sql)).scalar() == "not in this worker's sources file"
    finally:
        engine.dispose()
