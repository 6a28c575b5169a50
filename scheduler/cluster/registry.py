"""Each worker's own row in ``cluster_workers``: host, pid, heartbeat and the job it runs.

procrastinate's worker table holds only an id and a heartbeat; an operator needs to know which
machine and process that is and what it is crawling, so every worker keeps this row fresh.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from storage.db import get_engine
from storage.models import cluster_workers
from storage.records import utcnow

log = logging.getLogger("newswatch.worker")


class WorkerRegistry:
    def __init__(self, db_url: str, every: float) -> None:
        self.engine = get_engine(db_url)
        self.every = every
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.name = f"{self.host}:{self.pid}"
        self.running: dict[int, list[str]] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat_forever, daemon=True)

    def start(self) -> None:
        now = utcnow()
        values = {"host": self.host, "pid": self.pid, "started_at": now, "heartbeat_at": now}
        with self.engine.begin() as conn:
            stmt = insert(cluster_workers).values(name=self.name, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))
        self.thread.start()

    def job_started(self, job_id: int, sources: list[str]) -> None:
        with self.lock:
            self.running[job_id] = sources
        self.beat()

    def job_finished(self, job_id: int) -> None:
        with self.lock:
            self.running.pop(job_id, None)
        self.beat()

    def beat(self) -> None:
        with self.lock:
            current: Any = [{"job": j, "sources": s} for j, s in sorted(self.running.items())]
        with self.engine.begin() as conn:
            conn.execute(
                cluster_workers.update()
                .where(cluster_workers.c.name == self.name)
                .values(
                    heartbeat_at=utcnow(),
                    job_id=min(self.running, default=None),
                    current=current or None,
                )
            )

    def _beat_forever(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                self.beat()
            except Exception as exc:  # the database may blink; the next beat retries
                log.warning("worker heartbeat failed: %s", exc)

    def stop(self) -> None:
        self.stopped.set()
        with self.engine.begin() as conn:
            conn.execute(cluster_workers.delete().where(cluster_workers.c.name == self.name))
