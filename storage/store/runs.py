"""The crawl-run log: one row per source per crawl, from ``running`` to its outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from storage.db import write_connection
from storage.models import RUN_OUTCOMES, crawl_runs
from storage.records import clean_json, clean_optional, utcnow
from storage.store.base import StoreBase, aware, insert


class RunLog(StoreBase):
    def start_run(
        self, source: str, pid: int, host: str | None = None, worker: int | None = None
    ) -> int:
        """A new ``running`` run; ``host`` and ``worker`` name the cluster worker running it."""
        with write_connection(self.engine) as conn:
            stmt = (
                insert(conn, crawl_runs)
                .values(
                    source=source,
                    started_at=utcnow(),
                    outcome="running",
                    pid=pid,
                    host=host,
                    worker=worker,
                )
                .returning(crawl_runs.c.id)
            )
            return conn.execute(stmt).scalar_one()

    def finish_run(
        self, run_id: int, outcome: str, counts: Mapping[str, Any], error: str | None
    ) -> None:
        _check_outcome(outcome)
        with write_connection(self.engine) as conn:
            conn.execute(
                update(crawl_runs)
                .where(crawl_runs.c.id == run_id)
                .values(
                    finished_at=utcnow(),
                    outcome=outcome,
                    counts=clean_json(dict(counts)),
                    error=clean_optional(error),
                )
            )

    def close_open_runs(self, source: str, pid: int, outcome: str, error: str | None) -> int:
        """Finish the runs a (dead) crawl process left ``running`` for ``source``; returns how many."""
        return self._close_runs(
            outcome, error, (crawl_runs.c.source == source) & (crawl_runs.c.pid == pid)
        )

    def abort_running_runs(self, error: str) -> int:
        """Mark every run still ``running`` as ``aborted`` (a daemon start: nobody owns them)."""
        return self._close_runs("aborted", error)

    def _close_runs(self, outcome: str, error: str | None, *where) -> int:
        _check_outcome(outcome)
        with write_connection(self.engine) as conn:
            result = conn.execute(
                update(crawl_runs)
                .where(crawl_runs.c.outcome == "running", *where)
                .values(finished_at=utcnow(), outcome=outcome, error=clean_optional(error))
            )
            return result.rowcount

    def recent_runs(self, limit: int = 20, source: str | None = None) -> list[dict[str, Any]]:
        """Latest runs first, times as aware UTC datetimes."""
        stmt = select(crawl_runs).order_by(crawl_runs.c.id.desc()).limit(limit)
        if source is not None:
            stmt = stmt.where(crawl_runs.c.source == source)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [
            {
                **row,
                "started_at": aware(row["started_at"]),
                "finished_at": aware(row["finished_at"]),
            }
            for row in rows
        ]


def _check_outcome(outcome: str) -> None:
    if outcome not in RUN_OUTCOMES:
        raise ValueError(f"unknown run outcome {outcome!r}; expected one of {RUN_OUTCOMES}")
