"""How this process's storage is tuned: SQLite library, writer lock wait, search threads.

Storage imports nothing of ours, so it does not read the environment itself: the one table of
environment variables (``crawler.settings.ENVIRONMENT``) reads and checks them and hands the values
over with :func:`configure` when a command starts. Code that uses storage directly (a notebook, a
test) gets the defaults below unless it calls :func:`configure` or
``crawler.settings.check_environment()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

SQLITE_DRIVERS = ("pysqlite3", "stdlib")


@dataclass(frozen=True)
class Tuning:
    busy_timeout: float = 30.0
    """Seconds a writer waits for another writer's lock before the write fails."""
    sqlite_driver: str = "pysqlite3"
    """``pysqlite3`` (a recent SQLite with lookaside memory, where installed) or ``stdlib``."""
    search_threads: int | None = None
    """Threads one SQLite search ranks with; None: one per core, up to four."""

    def ranking_threads(self) -> int:
        if self.search_threads is not None:
            return self.search_threads
        return min(os.cpu_count() or 1, 4)


_current = Tuning()


def current() -> Tuning:
    return _current


def configure(**changes: Any) -> Tuning:
    """Set some of :class:`Tuning`'s values for this process (checked by the caller's table)."""
    global _current
    _current = replace(_current, **changes)
    return _current
