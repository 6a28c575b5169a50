"""The daemon lock: at most one live ``newswatch daemon`` per database, found by its heartbeat."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from storage.db import write_connection
from storage.models import daemon_lock
from storage.records import utcnow
from storage.store.base import StoreBase, aware, insert


class DaemonLock(StoreBase):
    def acquire_daemon_lock(self, pid: int, host: str, stale_after: float) -> dict[str, Any] | None:
        """Become the database's one daemon: None on success, else the live holder.

        A holder whose heartbeat is older than ``stale_after`` seconds, or whose process is gone
        (same host), is taken over.
        """
        now = utcnow()
        with write_connection(self.engine) as conn:
            row = conn.execute(select(daemon_lock).where(daemon_lock.c.id == 1)).mappings().first()
            if row is not None and row["pid"] != pid and _holder_alive(row, now, stale_after, host):
                return _holder(row)
            values = {"pid": pid, "host": host, "started_at": now, "heartbeat_at": now}
            stmt = insert(conn, daemon_lock).values(id=1, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))
        return None

    def daemon_heartbeat(self, pid: int, host: str | None = None) -> bool:
        """Beat if ``pid`` (on ``host``) still holds the lock; False when it does not: another
        daemon took it over (this one paused past the staleness window) or it was released."""
        where = daemon_lock.c.pid == pid
        if host is not None:
            where &= daemon_lock.c.host == host
        with write_connection(self.engine) as conn:
            result = conn.execute(update(daemon_lock).where(where).values(heartbeat_at=utcnow()))
            return result.rowcount > 0

    def daemon_info(self, stale_after: float, host: str) -> dict[str, Any] | None:
        """The daemon registered on this database, with ``alive`` by the same rule the lock uses."""
        with self.engine.connect() as conn:
            row = conn.execute(select(daemon_lock).where(daemon_lock.c.id == 1)).mappings().first()
        if row is None:
            return None
        return {**_holder(row), "alive": _holder_alive(row, utcnow(), stale_after, host)}

    def release_daemon_lock(self, pid: int) -> None:
        """Drop the lock if ``pid`` holds it (a no-op otherwise)."""
        with write_connection(self.engine) as conn:
            conn.execute(daemon_lock.delete().where(daemon_lock.c.pid == pid))


def _holder(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "pid": row["pid"],
        "host": row["host"],
        "started_at": aware(row["started_at"]),
        "heartbeat_at": aware(row["heartbeat_at"]),
    }


def _holder_alive(row: Mapping[str, Any], now, stale_after: float, host: str) -> bool:
    """A daemon is alive while its heartbeat is fresh and, on this host, its process exists."""
    fresh = row["heartbeat_at"] >= now - timedelta(seconds=stale_after)
    return fresh and not (row["host"] == host and not _pid_alive(row["pid"]))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
