"""Which SQLite library storage uses (pysqlite3 where its wheel is installed, else the standard
library's), that one process uses only that one, and that files move between the two."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HAVE_PYSQLITE3 = importlib.util.find_spec("pysqlite3") is not None

SETTINGS = "from crawler.settings import check_environment; check_environment()\n"
"""How a program hands the NEWSWATCH_* variables to storage (the CLI does it at start)."""

PROBE = """
import json, sys
from storage.db import get_engine, sqlite_dbapi
engine = get_engine(sys.argv[1])
with engine.connect() as conn:
    version = conn.exec_driver_sql("select sqlite_version()").scalar()
print(json.dumps({"module": sqlite_dbapi().__name__, "engine": engine.dialect.dbapi.__name__,
                  "version": version, "lib": sqlite_dbapi().sqlite_version}))
"""

STORE = """
import sys
from datetime import UTC, datetime
from storage.store import Store
from storage.types import ArticleRecord
store = Store(sys.argv[1])
store.store([ArticleRecord(
    source="tribuna", url=f"https://t.example/{i}", canonical_url=f"https://t.example/{i}",
    title=f"Misión Cortafuegos {i}", text="Segunda reunión del Grupo de Implementación de Seguridad.",
    content_hash=f"h{i}", fetched_at=datetime(2025, 12, 11, tzinfo=UTC)) for i in range(5)])
store.close()
"""

SEARCH = """
import json, sys
from storage.search import search
print(json.dumps([h["title"] for h in search(sys.argv[1], "mision cortafuegos", all_copies=True)]))
"""


def run(code: str, *args: str, driver: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_SQLITE_DRIVER"}
    if driver is not None:
        env["NEWSWATCH_SQLITE_DRIVER"] = driver
    return subprocess.run(
        [sys.executable, "-c", SETTINGS + code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_default_driver_is_pysqlite3_when_installed(tmp_path):
    done = run(PROBE, f"sqlite:///{tmp_path / 'a.sqlite'}")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    want = "pysqlite3.dbapi2" if HAVE_PYSQLITE3 else "sqlite3"
    assert got["module"] == want and got["engine"] == want
    assert got["version"] == got["lib"]  # the engine's connections run that module's library


def test_stdlib_driver_on_request(tmp_path):
    done = run(PROBE, f"sqlite:///{tmp_path / 'a.sqlite'}", driver="stdlib")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["module"] == "sqlite3"


def test_unknown_driver_is_a_clear_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "status", "--db", str(tmp_path / "a.sqlite")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NEWSWATCH_SQLITE_DRIVER": "sqlite4"},
    )  # fmt: skip
    assert done.returncode == 2
    assert "NEWSWATCH_SQLITE_DRIVER='sqlite4'" in done.stderr and "pysqlite3, stdlib" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not HAVE_PYSQLITE3, reason="pysqlite3-binary has wheels for Linux x86-64 only")
@pytest.mark.parametrize(("writer", "reader"), [("pysqlite3", "stdlib"), ("stdlib", "pysqlite3")])
def test_a_database_moves_between_the_two_libraries(tmp_path, writer, reader):
    url = f"sqlite:///{tmp_path / 'moved.sqlite'}"
    done = run(STORE, url, driver=writer)
    assert done.returncode == 0, done.stderr
    done = run(SEARCH, url, driver=reader)
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)) == [f"Misión Cortafuegos {i}" for i in range(5)]
    done = run(STORE.replace("range(5)", "range(5, 7)"), url, driver=reader)
    assert done.returncode == 0, done.stderr
    done = run(SEARCH, url, driver=writer)
    assert len(json.loads(done.stdout)) == 7
