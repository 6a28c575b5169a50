"""Containment dedupe: a copy with its ending cut joins the original's story even below the
Jaccard threshold; a short text quoting a long one does not; shingle counts are stored and
recomputed by recluster (real SQLite files)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from crawler.identity.credits import credited_source
from crawler.identity.fingerprint import fingerprint, jaccard_estimate, shingle_count, sign
from crawler.identity.hashing import content_hash
from storage.models import articles
from storage.neardup import (
    CONTAINMENT_THRESHOLD,
    MIN_SIZE_RATIO,
    containment_estimate,
    estimate_shingles,
    is_near_duplicate,
)
from storage.store import Store
from storage.types import ArticleRecord
from tests.support.copies import seed_paragraphs, seed_text

T0 = datetime(2025, 12, 11, 16, 0, tzinfo=UTC)


def record(source: str, slug: str, text: str, minutes: int = 0, *, counted=True) -> ArticleRecord:
    signature, count = sign(text)
    return ArticleRecord(
        source=source,
        url=f"https://{source}.example/{slug}",
        canonical_url=f"https://{source}.example/{slug}",
        title=slug,
        text=text,
        content_hash=content_hash(text),
        fetched_at=T0,
        published_at=T0 + timedelta(minutes=minutes),
        language="es",
        minhash=signature,
        shingle_count=count if counted else None,
        credited_source=credited_source(text),
    )


@pytest.fixture()
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'containment.sqlite'}")
    yield s
    s.close()


def cluster_of(store: Store, slug: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            select(articles.c.cluster_id).where(articles.c.url.like(f"%/{slug}"))
        ).scalar_one()


def cut_copy() -> str:
    """The seed with its last three paragraphs cut and a credit added: about 70 % of the
    original's shingles, all of them inside it."""
    return "\n".join([*seed_paragraphs()[:-3], "Fuente: Tribuna del Yaqui"])


def quoting_brief() -> str:
    """A short note that quotes the seed's first two paragraphs and adds a line of its own."""
    return "\n".join([*seed_paragraphs()[:2], "Más información en las próximas horas."])


def test_estimates_follow_set_algebra():
    # A ⊂ B with |A| = 60, |B| = 100: J = 0.6, so |A∩B| = 0.6 · 160 / 1.6 = 60 → containment 1
    assert containment_estimate(0.6, 60, 100) == pytest.approx(1.0)
    # |A| = |B| = 100 sharing 50: J = 50/150, containment 0.5
    assert containment_estimate(50 / 150, 100, 100) == pytest.approx(0.5)
    assert containment_estimate(0.6, None, 100) == 0.0
    assert is_near_duplicate(0.85, None, None, 0.8)
    assert is_near_duplicate(0.6, 60, 100, 0.8)
    small = int(MIN_SIZE_RATIO * 100) - 1
    assert not is_near_duplicate(small / 100, small, 100, 0.8)  # fully contained, but too small
    assert is_near_duplicate(0.58, 60, 100, 0.8)  # containment ≈ 0.98
    assert not is_near_duplicate(0.58, 60, 100, 0.99)  # its bar is never lower than J's
    assert not is_near_duplicate(0.5, 80, 100, 0.8)  # 0.5·180/1.5/80 = 0.75 < 0.9
    assert CONTAINMENT_THRESHOLD == 0.9


def test_shingle_count_matches_signature_input():
    text = seed_text()
    signature, count = sign(text)
    assert signature == fingerprint(text)
    assert count == shingle_count(text) == 524
    assert sign("demasiado corto") == (None, None)
    assert abs(estimate_shingles(text) - count) / count < 0.1


def test_copy_with_its_ending_cut_joins_the_story_by_containment(store):
    original, copy = seed_text(), cut_copy()
    assert jaccard_estimate(fingerprint(original), fingerprint(copy)) < store.near_dup_threshold
    store.store([record("tribuna", "original", original)])
    store.store([record("diario", "recortada", copy, minutes=90)])
    assert cluster_of(store, "recortada") == cluster_of(store, "original")


def test_containment_works_without_the_crawlers_count(store):
    """Records built without ``shingle_count`` get an estimate from their text."""
    store.store([record("tribuna", "original", seed_text(), counted=False)])
    store.store([record("diario", "recortada", cut_copy(), minutes=90, counted=False)])
    assert cluster_of(store, "recortada") == cluster_of(store, "original")


def test_brief_quoting_a_long_article_is_another_story(store):
    brief = quoting_brief()
    (sig_brief, n_brief), (sig_seed, n_seed) = sign(brief), sign(seed_text())
    assert sig_brief is not None  # long enough to be judged at all
    similarity = jaccard_estimate(sig_brief, sig_seed)
    assert containment_estimate(similarity, n_brief, n_seed) >= CONTAINMENT_THRESHOLD
    assert n_brief < MIN_SIZE_RATIO * n_seed  # so only the size guard keeps them apart
    store.store([record("tribuna", "original", seed_text())])
    store.store([record("diario", "breve", brief, minutes=30)])
    assert cluster_of(store, "breve") != cluster_of(store, "original")


def test_a_long_original_arriving_after_its_cut_copy_still_joins(store):
    store.store([record("diario", "recortada", cut_copy())])
    store.store([record("tribuna", "original", seed_text(), minutes=-60)])
    assert cluster_of(store, "recortada") == cluster_of(store, "original")


def test_recluster_recomputes_shingle_counts(store):
    store.store([record("tribuna", "original", seed_text()), record("diario", "corto", "Nota.")])
    with store.engine.begin() as conn:
        conn.execute(update(articles).values(shingles=None))
    store.recluster(signer=fingerprint, counter=shingle_count)
    with store.engine.connect() as conn:
        counts = dict(conn.execute(select(articles.c.title, articles.c.shingles)).all())
    assert counts == {"original": 524, "corto": None}
    with store.engine.begin() as conn:
        conn.execute(update(articles).values(shingles=None))
    summary = store.recluster()  # no counter: estimated from the stored text
    with store.engine.connect() as conn:
        counts = dict(conn.execute(select(articles.c.title, articles.c.shingles)).all())
    assert counts["corto"] is None and abs(counts["original"] - 524) < 52
    assert summary["clusters"] == 2


def test_recluster_joins_a_cut_copy_stored_before_counts_existed(store):
    original = replace(record("tribuna", "original", seed_text()), shingle_count=None)
    copy = replace(record("diario", "recortada", cut_copy(), minutes=90), shingle_count=None)
    store.store([original, copy])
    with store.engine.begin() as conn:  # as rows from before migration 0004 look
        conn.execute(update(articles).values(shingles=None))
    store.recluster(threshold=0.8)
    assert cluster_of(store, "recortada") == cluster_of(store, "original")
