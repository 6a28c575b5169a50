"""The state of a monitoring setup: is a daemon running, which database, and how each source does.

``newswatch status`` prints this; it is a function returning plain data so that anything else
(a notebook, a health check) reads the same facts by the same rules the daemon uses for its lock
and for calling a source failing.
"""

from __future__ import annotations

import socket
from typing import Any

from crawler.config import Config
from scheduler.daemon import FAILING_AFTER, LOCK_STALE_AFTER
from storage.db import database_info
from storage.search import ranking_threads
from storage.store import Store


def gather_status(cfg: Config, url: str) -> dict[str, Any]:
    """``daemon`` (None, or its holder with ``alive``), ``database``, ``sources`` and ``alerts``
    (per rule: pending, failing and sent deliveries, last sent, last error).

    ``sources`` is one dict per source either configured or known to the database, sorted by
    name, with ``configured``, ``enabled`` and ``failing`` added to the stored state and counts.
    """
    store = Store(url)
    try:
        rows = {r["name"]: r for r in store.source_status()}
        daemon = store.daemon_info(LOCK_STALE_AFTER, socket.gethostname())
        alerts = store.delivery_counts()
        database = {
            **database_info(store.engine),
            "search_threads": ranking_threads(store.engine),
        }
    finally:
        store.close()
    configured = {s.name for s in cfg.sources}
    for s in cfg.sources:
        rows.setdefault(s.name, {"name": s.name, "title": s.title, "kind": s.kind})
    for name, r in rows.items():
        r["configured"] = name in configured
        r["enabled"] = next((s.enabled for s in cfg.sources if s.name == name), False)
        r["failing"] = (r.get("consecutive_failures") or 0) >= FAILING_AFTER
    from scheduler.cluster.state import cluster_status

    return {
        "daemon": daemon,
        "database": database,
        "sources": [rows[k] for k in sorted(rows)],
        "alerts": {k: alerts[k] for k in sorted(alerts)},
        "cluster": cluster_status(url),
    }
