"""The write side of storage: one :class:`Store` per database, for every process that writes.

``Store`` is one class for its callers but is put together from parts, one per kind of record:
articles (:mod:`.articles`), relevance scores (:mod:`.analysis`), story clusters
(:mod:`.clustering`), source state (:mod:`.sources`), the crawl-run log (:mod:`.runs`), the daemon
lock (:mod:`.daemon_lock`), the robots.txt cache (:mod:`.robots`) and alert state (:mod:`.alerts`). They share only the engine
and the helpers in :mod:`.base`. When a source is due and how long it backs off is decided in
:mod:`storage.schedule`.
"""

from __future__ import annotations

from storage.store.alerts import AlertState
from storage.store.analysis import Analysis
from storage.store.articles import ArticleWrites
from storage.store.clustering import Clustering
from storage.store.daemon_lock import DaemonLock
from storage.store.revisits import Revisits
from storage.store.robots import RobotsCache
from storage.store.runs import RunLog
from storage.store.sources import SourceState

__all__ = ["Store"]


class Store(
    ArticleWrites,
    Analysis,
    Clustering,
    SourceState,
    RunLog,
    DaemonLock,
    RobotsCache,
    AlertState,
    Revisits,
):
    """Storage handle for one database URL; cheap to create (engines are cached per URL)."""
