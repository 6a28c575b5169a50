"""The CI hook: a skip for a missing ``../shared`` corpus fails when ``CI`` is set, and only then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.shared_corpus import shared_skip_reason

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = """
import pytest

def test_needs_corpus():
    pytest.skip({reason!r})

def test_needs_postgres():
    pytest.skip("needs PostgreSQL")

@pytest.mark.skip(reason={reason!r})
def test_marked_skip():
    pass

@pytest.mark.xfail(reason="known gap in ../shared handling")
def test_expected_failure():
    assert False
"""


def run_sample(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    sample = tmp_path / "test_sample.py"
    sample.write_text(SAMPLE.format(reason=shared_skip_reason("../shared/corpus/x")))
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
         "-p", "tests.support.shared_corpus", str(sample)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_shared_skips_fail_under_ci(tmp_path: Path) -> None:
    result = run_sample(tmp_path, ci="1")
    assert result.returncode == 1, result.stdout
    # A skip marker acts during setup, so there the failure is reported as an error.
    assert "1 failed, 1 skipped, 1 xfailed, 1 error" in result.stdout
    assert "FAILED test_sample.py::test_needs_corpus" in result.stdout
    assert "ERROR test_sample.py::test_marked_skip" in result.stdout
    assert "skipped under CI, where ../shared must exist" in result.stdout


def test_shared_skips_stay_skips_outside_ci(tmp_path: Path) -> None:
    result = run_sample(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout
    assert "3 skipped, 1 xfailed" in result.stdout


@pytest.mark.parametrize(
    "module", ["test_feeds.py", "test_extraction_benchmark.py", "test_relevance.py"]
)
def test_tests_that_read_shared_say_so_when_they_skip(module: str) -> None:
    source = (Path(__file__).parent / module).read_text(encoding="utf-8")
    assert '"shared"' in source and "shared_skip_reason(" in source
