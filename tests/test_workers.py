"""The extraction pool: workers do the extraction and do not re-import the parent's program."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MAIN = textwrap.dedent(
    """
    import os, sys
    if __name__ != "__main__":
        # Only a spawned worker imports this file under another name (__mp_main__).
        with open(os.environ["MARK"], "a") as fh:
            fh.write(__name__ + "\\n")
    else:
        sys.path.insert(0, sys.argv[1])
        import asyncio
        from crawler.config import parse_config
        from crawler.types import RawPage
        from crawler.workers import ExtractionPool

        source = parse_config(
            '[[sources]]\\nname = "t"\\nkind = "feed"\\nurl = "https://t.example/feed.xml"\\n'
            'language = "es"\\ntimezone = "America/Hermosillo"\\n'
        ).sources[0]
        text = "La Guardia Nacional reforzó la vigilancia en la garita de Nogales. " * 12
        html = f"<html><head><title>Garita</title></head><body><article><p>{text}</p>"
        page = RawPage(
            source="t", url="https://t.example/a", final_url="https://t.example/a", status=200,
            body=(html + "</article></body></html>").encode(),
            headers={"content-type": "text/html"},
        )
        pool = ExtractionPool(1)
        pool.inline_left = 0
        record = asyncio.run(pool.process(page, source))
        pool.shutdown()
        print(record.title, record.raw_html_z is not None)
    """
)


def test_worker_extracts_without_importing_the_parents_main_module(tmp_path: Path) -> None:
    script = tmp_path / "heavy_main.py"
    script.write_text(MAIN, encoding="utf-8")
    mark = tmp_path / "imports.txt"
    result = subprocess.run(
        [sys.executable, str(script), str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MARK": str(mark)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Garita", "True"]
    assert not mark.exists(), mark.read_text()


def test_pool_starts_early_for_a_big_run_and_never_for_a_small_one() -> None:
    from crawler.workers import ExtractionPool

    pool = ExtractionPool(1)
    pool.inline_left = 12
    pool.expect(5)
    pool.expect(7)
    assert pool._executor is None and pool.inline_left == 12
    pool.expect(1)
    try:
        assert pool._executor is not None and pool.inline_left == 0
    finally:
        pool.shutdown()
