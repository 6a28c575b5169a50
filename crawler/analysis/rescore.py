"""Rescoring the stored corpus: the same analysis the crawl runs, applied to text already kept.

A profile or gazetteer change should not need a refetch. Articles are read and written a batch
at a time (each its own short transaction), so a rescore of a large archive neither holds one
snapshot open nor starves a crawl writing at the same time.
"""

from __future__ import annotations

from typing import Any

from crawler.analysis.entities import Gazetteer
from crawler.analysis.relevance import Profile
from crawler.analysis.scoring import analyze
from storage.store import Store


def rescore(
    store: Store, profile: Profile, gazetteer: Gazetteer, batch: int = 500
) -> dict[str, Any]:
    """Re-analyze every stored article and write the results; returns what changed.

    The summary holds ``articles``, ``relevant_before``, ``relevant_after``, ``changed`` (how many
    articles' relevant verdict flipped), and the profile's ``threshold`` and ``profile`` (its path).
    """
    before = store.analysis_summary()
    changed = 0
    for rows in store.iter_texts(batch):
        results = []
        for row in rows:
            result = analyze(row["title"], row["text"], profile, gazetteer, row["posts"])
            changed += result.relevant != row["relevant"]
            results.append({"id": row["id"], **result.as_dict()})
        store.update_analysis(results)
    after = store.analysis_summary()
    return {
        "articles": after["articles"],
        "relevant_before": before["relevant"],
        "relevant_after": after["relevant"],
        "changed": changed,
        "threshold": profile.threshold,
        "profile": profile.source,
    }
