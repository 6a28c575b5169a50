"""Story clusters over the whole corpus: recompute them from stored text, and count them.

Ingest assigns each new article to a cluster as it arrives (:mod:`storage.store.articles` calls
:func:`storage.clusters.assign`); this part redoes that for every stored article, e.g. after the
near-duplicate threshold changed, without fetching anything again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, Row, func, select, update

from storage import clusters
from storage.db import write_connection
from storage.models import articles
from storage.neardup import estimate_shingles, pack_signature, unpack_signature, valid_threshold
from storage.records import clean_optional
from storage.store.base import StoreBase

Signer = Callable[[str], list[int] | None]


class Clustering(StoreBase):
    def recluster(
        self,
        threshold: float | None = None,
        signer: Signer | None = None,
        creditor: Callable[[str], str | None] | None = None,
        batch_size: int = 500,
        counter: Callable[[str], int | None] | None = None,
    ) -> dict[str, Any]:
        """Recompute story clusters from stored text, e.g. after a threshold change; no refetch.

        ``signer`` (the crawler's fingerprint function; storage cannot import it) re-signs every
        article and rewrites its LSH bands; without it the stored signatures are reused.
        ``creditor`` likewise re-reads ``credited_source``. Shingle counts (for containment) are
        recomputed with ``counter`` (the crawler's ``shingle_count``) when given, else estimated
        from the text for re-signed articles and for stored ones that have none. Articles are then
        re-assigned in id (arrival) order, each joining the best already re-assigned
        near-duplicate, as on ingest. Every step works in batches of ``batch_size`` in short write
        transactions.
        """
        if threshold is not None:
            self.near_dup_threshold = valid_threshold(threshold)
        self._refresh_signatures(signer, creditor, counter, batch_size)
        self._reassign_clusters(batch_size)
        return self.cluster_summary() | {"threshold": self.near_dup_threshold}

    def _refresh_signatures(
        self,
        signer: Signer | None,
        creditor: Callable[[str], str | None] | None,
        counter: Callable[[str], int | None] | None,
        batch_size: int,
    ) -> None:
        """Rewrite the signatures, bands, credited sources and shingle counts that changed."""
        a = articles.c
        for batch in self._batches(select(a.id, a.text, a.minhash, a.shingles), batch_size):
            changes = [
                item
                for row in batch
                if len(item := _signature_change(row, signer, creditor, counter)) > 1
            ]
            if not changes:
                continue
            with write_connection(self.engine) as conn:
                for item in changes:
                    values: dict[str, Any] = {}
                    if "sig" in item:
                        values["minhash"] = pack_signature(item["sig"])
                        clusters.write_bands(conn, item["id"], item["sig"])
                    if "credited_source" in item:
                        values["credited_source"] = clean_optional(item["credited_source"])
                    if "shingles" in item:
                        values["shingles"] = item["shingles"]
                    conn.execute(update(articles).where(a.id == item["id"]).values(**values))

    def _reassign_clusters(self, batch_size: int) -> None:
        """Forget every cluster, then assign the articles again in arrival order."""
        a = articles.c
        with write_connection(self.engine) as conn:
            conn.execute(update(articles).values(cluster_id=None, cluster_rep=False))
        for batch in self._batches(select(a.id, a.source, a.minhash, a.shingles), batch_size):
            with write_connection(self.engine) as conn:
                for row in batch:
                    clusters.assign(
                        conn,
                        row.id,
                        unpack_signature(row.minhash),
                        row.source,
                        self.near_dup_threshold,
                        bands=False,
                        shingles=row.shingles,
                    )

    def cluster_summary(self) -> dict[str, int]:
        """``articles``, ``clusters`` and ``multi_member_clusters`` (stories with copies)."""
        a = articles.c
        sizes = select(a.cluster_id, func.count().label("n")).group_by(a.cluster_id).subquery()
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(articles)).scalar_one()
            n_clusters, multi = conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum((sizes.c.n > 1).cast(Integer)), 0),
                ).select_from(sizes)
            ).one()
        return {"articles": total, "clusters": n_clusters, "multi_member_clusters": int(multi)}


def _signature_change(
    row: Row,
    signer: Signer | None,
    creditor: Callable[[str], str | None] | None,
    counter: Callable[[str], int | None] | None,
) -> dict[str, Any]:
    """``{"id"}`` plus whichever of ``sig``, ``credited_source`` and ``shingles`` to rewrite."""
    text = row.text or ""
    item: dict[str, Any] = {"id": row.id}
    signed = row.minhash is not None
    if signer is not None:
        item["sig"] = signer(text)
        signed = bool(item["sig"])
    if creditor is not None:
        item["credited_source"] = creditor(text)
    if not signed:
        if row.shingles is not None:
            item["shingles"] = None
    elif counter is not None:
        item["shingles"] = counter(text)
    elif signer is not None or row.shingles is None:
        item["shingles"] = estimate_shingles(text)
    return item
