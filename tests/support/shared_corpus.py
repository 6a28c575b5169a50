"""CI must not pass by skipping: a skip caused by a missing ``../shared`` corpus fails under CI.

Tests that read the read-only corpus next to the repository (``../shared/``) skip on a developer
machine that lacks it, and say ``../shared`` in the skip reason. When the ``CI`` environment
variable is set (``.ci/run`` sets it), such a skip is turned into a failure, because there the
corpus is part of the environment and a skip would hide a broken setup. Loaded by
``tests/conftest.py``; a pytest plugin module so it can be tested with ``-p``.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

SHARED_MARK = "../shared"


def shared_skip_reason(path: object) -> str:
    """The skip reason for a missing corpus path; it always names ``../shared``."""
    return f"needs the {SHARED_MARK} corpus: {path} not found"


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not os.environ.get("CI") or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if SHARED_MARK in reason:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where {SHARED_MARK} must exist: {reason}"
