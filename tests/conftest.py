"""Suite-wide fixtures: one fixture HTTP server per session, reset before each test that uses it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from storage import tuning
from tests.support import FixtureServer
from tests.support.shared_corpus import pytest_runtest_makereport  # noqa: F401  (CI hook)

os.environ["NEWSWATCH_ALLOW_PRIVATE"] = "1"
os.environ.setdefault("NEWSWATCH_RETRY_BACKOFF", "0.2")  # tests of the backoff set their own


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[FixtureServer]:
    with FixtureServer() as server:
        yield server


@pytest.fixture()
def site(fixture_server: FixtureServer) -> Iterator[FixtureServer]:
    """The shared server with no overrides and an empty request log."""
    fixture_server.reset_overrides()
    fixture_server.clear_log()
    yield fixture_server
    fixture_server.reset_overrides()


@pytest.fixture(autouse=True)
def _storage_tuning_restored() -> Iterator[None]:
    """A test that configures storage (directly or through ``check_environment``) leaves the
    next test the defaults, as a new process would have."""
    before = tuning.current()
    yield
    tuning._current = before
