"""Which due sources the daemon starts now: never two runs on one site at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scheduler.daemon import Child, Daemon, DaemonOptions

SOURCES = {
    "sre": "https://www.gob.mx/sre/archivo/prensa",
    "sspc": "https://www.gob.mx/sspc/archivo/prensa",
    "embajada": "https://mx.usembassy.gov/feed/",
}


@pytest.fixture()
def daemon(tmp_path: Path, monkeypatch):
    cfg = tmp_path / "sources.toml"
    cfg.write_text(
        "".join(f'[[sources]]\nname = "{n}"\nkind = "feed"\nurl = "{u}"\n\n' for n, u in SOURCES.items()),
        encoding="utf-8",
    )  # fmt: skip
    d = Daemon(DaemonOptions(config_path=cfg, db_url=f"sqlite:///{tmp_path / 'd.sqlite'}"))
    d.load()
    started: list[list[str]] = []

    def start(names: list[str]) -> None:
        started.append(names)
        d.children.append(Child(None, names, 0.0, float("inf")))  # type: ignore[arg-type]

    monkeypatch.setattr(d, "_start_child", start)
    d.started = started  # type: ignore[attr-defined]
    yield d
    d.store.close()


def test_a_source_waits_while_another_run_crawls_its_site(daemon) -> None:
    daemon.children.append(Child(None, ["sre"], 0.0, float("inf")))  # type: ignore[arg-type]
    daemon.enqueue("sspc")
    daemon.enqueue("embajada")
    daemon._dispatch()
    assert daemon.started == [["embajada"]]
    assert daemon.queue == ["sspc"]
    daemon._dispatch()
    assert daemon.started == [["embajada"]]  # www.gob.mx is still busy
    daemon.children = [c for c in daemon.children if c.sources != ["sre"]]
    daemon._dispatch()
    assert daemon.started == [["embajada"], ["sspc"]]
    assert daemon.queue == []


def test_sources_of_one_site_due_together_share_one_run(daemon) -> None:
    for name in SOURCES:
        daemon.enqueue(name)
    daemon._dispatch()
    assert daemon.started == [list(SOURCES)]


def test_a_failing_source_does_not_run_beside_a_run_of_its_site(daemon, tmp_path: Path) -> None:
    """A failing source runs alone (its own child), but not while its site is being crawled."""
    daemon.store.record_source_result("sspc", False, "HTTP 500", interval=60)
    with sqlite3.connect(tmp_path / "d.sqlite") as conn:  # its backoff is over
        conn.execute("UPDATE sources SET backoff_until = NULL WHERE name = 'sspc'")
    for name in SOURCES:
        daemon.enqueue(name)
    daemon._dispatch()
    assert daemon.started == [["sre", "embajada"]]
    assert daemon.queue == ["sspc"]
    daemon.children = [c for c in daemon.children if "sre" not in c.sources]
    daemon._dispatch()
    assert daemon.started == [["sre", "embajada"], ["sspc"]]


def test_a_sibling_due_on_every_tick_cannot_starve_a_waiting_source(daemon, tmp_path) -> None:
    """sspc failed once, so it runs alone, after the batch of healthy sources; sre is due again
    each time its run ends. Whoever waited goes first, so the two take turns on www.gob.mx."""
    daemon.store.record_source_result("sspc", False, "run aborted", interval=60)
    with sqlite3.connect(tmp_path / "d.sqlite") as conn:
        conn.execute("UPDATE sources SET backoff_until = NULL WHERE name = 'sspc'")
    turns = []
    for _ in range(4):
        daemon.enqueue("sre")
        daemon.enqueue("sspc")
        daemon._dispatch()
        (child,) = daemon.children
        turns.append(child.sources)
        daemon.children = []
    assert turns == [["sre"], ["sspc"], ["sre"], ["sspc"]]


def test_a_reload_the_database_refuses_keeps_the_old_configuration(daemon, caplog) -> None:
    """A reload whose database write fails (locked past the busy timeout) used to end the daemon;
    it must log one line and keep scheduling the sources it had, snapshot included."""
    before = daemon.snapshot.read_text(encoding="utf-8")
    cfg = daemon.opts.config_path
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('name = "sre"', 'name = "sre2"'))

    def locked(_infos) -> None:
        raise sqlite3.OperationalError("database is locked")

    daemon.store.sync_sources = locked
    daemon.reload()
    assert set(daemon.sources) == set(SOURCES)
    assert daemon.snapshot.read_text(encoding="utf-8") == before
    assert any(
        "not reloaded" in r.getMessage() and "locked" in r.getMessage() for r in caplog.records
    )
