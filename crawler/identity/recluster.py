"""Reclustering the stored corpus with the crawler's identity rules.

Storage does the batched re-signing and re-assignment but cannot import the crawler, so the
rules that decide a story's identity on ingest (fingerprint, shingle count, credited source) are
handed to it here; a recluster therefore groups articles exactly as a fresh crawl would.
"""

from __future__ import annotations

from typing import Any

from crawler.identity.credits import credited_source
from crawler.identity.fingerprint import fingerprint, shingle_count
from storage.store import Store


def recluster(store: Store, threshold: float) -> dict[str, Any]:
    """Re-sign, re-credit and re-cluster every stored article at ``threshold``.

    Returns storage's summary: ``articles``, ``clusters``, ``multi_member_clusters`` and
    ``threshold``.
    """
    return store.recluster(
        threshold, signer=fingerprint, creditor=credited_source, counter=shingle_count
    )
