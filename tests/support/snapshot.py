"""A crawl -> search -> export snapshot of the fixture sites, for comparing two versions of the code.

A refactor that claims "behaviour unchanged" is checked by running the real CLI of each checkout
against the same fixture server and diffing the normalised outputs::

    python -m tests.support.snapshot OUT_BEFORE --code /path/to/old/checkout
    python -m tests.support.snapshot OUT_AFTER
    diff -r OUT_BEFORE OUT_AFTER

``--code`` puts that checkout first on the CLI's ``PYTHONPATH``; the fixture server and sources file
always come from this checkout, so both runs crawl the very same pages. What differs from run to run
whatever the code (the server's port, ``fetched_at``, run timings, database ids) is normalised:
URLs get a placeholder host, ids are renumbered by URL order, times of the run are blanked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.support import FIXTURE_SOURCES, FixtureServer, write_sources_toml

QUERIES = (
    "Misión Cortafuegos",
    "mision cortafuegos",
    "fentanilo OR fentanyl",
    '"tráfico de armas"',
)
VOLATILE = {"fetched_at", "started", "finished", "duration_s", "elapsed_s", "last_attempt"}


def _cli(code: Path | None, *args: str) -> str:
    env = {**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1"}
    env.pop("NEWSWATCH_DB", None)
    if code is not None:
        env["PYTHONPATH"] = f"{code}{os.pathsep}{env.get('PYTHONPATH', '')}"
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=code,
    )
    if done.returncode != 0:
        raise SystemExit(f"newswatch {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def _normalise(rows: list[dict[str, Any]], base_url: str, ids: dict[Any, int]) -> list[dict]:
    def fix(value: Any, key: str = "") -> Any:
        if key in VOLATILE:
            return "<time>"
        if key in {"id", "cluster_id"} and value is not None:
            return ids.setdefault(("id", value), len(ids))
        if isinstance(value, str):
            return value.replace(base_url, "http://fixture")
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v, k) for k, v in value.items()}
        return value

    return [fix(row) for row in rows]


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def snapshot(out: Path, code: Path | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with FixtureServer() as server, tempfile.TemporaryDirectory() as work:
        db = Path(work) / "news.sqlite"
        cfg = write_sources_toml(
            Path(work) / "sources.toml", server.base_url, list(FIXTURE_SOURCES)
        )
        common = ("--config", str(cfg), "--db", str(db))
        for name in FIXTURE_SOURCES:  # one at a time: which outlet stores a shared page first
            _cli(code, "crawl", name, *common, "--format", "json")  # must not be a race
        exported = _jsonl(_cli(code, "export", *common, "--format", "jsonl"))
        exported.sort(key=lambda r: r["url"])
        ids: dict[Any, int] = {}
        for row in exported:
            ids.setdefault(("id", row["id"]), len(ids))
        files = {"export.json": _normalise(exported, server.base_url, ids)}
        for n, query in enumerate(QUERIES):
            for extra in ((), ("--all-copies",)):
                rows = _jsonl(_cli(code, "search", query, *common, "--format", "jsonl", *extra))
                name = f"search-{n}{'-all' if extra else ''}.json"
                files[name] = _normalise(rows, server.base_url, ids)
    for name, rows in files.items():
        text = json.dumps(rows, ensure_ascii=False, indent=1, sort_keys=True)
        (out / name).write_text(re.sub(r"127\.0\.0\.1:\d+", "fixture", text) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--code", type=Path, help="checkout whose CLI runs (default: this one)")
    args = parser.parse_args()
    snapshot(args.out, args.code.resolve() if args.code else None)


if __name__ == "__main__":
    main()
