"""Relevance analysis of stored articles: read their text in batches, write the scores back.

A rescore (``newswatch rescore``) goes through here; scoring itself lives in the crawler.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import Integer, func, select, update

from storage.db import write_connection
from storage.models import articles, skipped
from storage.records import clean_json
from storage.store.base import StoreBase


class Analysis(StoreBase):
    def iter_texts(self, batch: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Stored articles as ``{"id", "title", "text", "posts", "relevant"}``, ``batch`` at a time.

        Each batch is read in its own short transaction, so a rescore never holds a read
        snapshot open across the whole corpus and writers are not starved.
        """
        a = articles.c
        stmt = select(a.id, a.title, a.text, a.posts, a.relevant)
        for rows in self._batches(stmt, batch):
            yield [
                {
                    "id": r.id,
                    "title": r.title or "",
                    "text": r.text or "",
                    "posts": list(r.posts or []),
                    "relevant": None if r.relevant is None else bool(r.relevant),
                }
                for r in rows
            ]

    def update_analysis(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write ``relevance, relevant, topics, matched, entities`` of articles by ``id``.

        One write transaction for the given rows (pass one batch at a time); returns how many
        articles were updated. Text is untouched, so the full-text index is not rewritten.
        """
        count = 0
        with write_connection(self.engine) as conn:
            for row in rows:
                values = {
                    "relevance": row.get("relevance"),
                    "relevant": row.get("relevant"),
                    "topics": clean_json(dict(row.get("topics") or {})),
                    "matched": clean_json(dict(row.get("matched") or {})),
                    "entities": clean_json(list(row.get("entities") or [])),
                }
                result = conn.execute(
                    update(articles).where(articles.c.id == row["id"]).values(**values)
                )
                count += result.rowcount
        return count

    def analysis_summary(self) -> dict[str, int]:
        """``articles``, ``relevant``, ``unscored`` (kept articles) and ``skipped`` (not kept)."""
        a = articles.c
        with self.engine.connect() as conn:
            total, relevant, unscored = conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(a.relevant.cast(Integer)), 0),
                    func.coalesce(func.sum(a.relevance.is_(None).cast(Integer)), 0),
                )
            ).one()
            n_skipped = conn.execute(select(func.count()).select_from(skipped)).scalar_one()
        return {
            "articles": int(total),
            "relevant": int(relevant),
            "unscored": int(unscored),
            "skipped": int(n_skipped),
        }
