"""Story clusters in the store: copies join, hard negatives stay apart, representatives,
search/export fields and re-clustering (real SQLite files)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crawler.identity.credits import credited_source
from crawler.identity.fingerprint import fingerprint
from crawler.identity.hashing import content_hash
from storage.models import articles, lsh_bands
from storage.search import export, search, story
from storage.store import Store
from storage.types import ArticleRecord, SourceInfo
from tests.support.copies import (
    INDEPENDENT_REPORT,
    republished_copy,
    seed_text,
    template_brief,
)

T0 = datetime(2025, 12, 11, 16, 0, tzinfo=UTC)


def record(
    source: str, slug: str, text: str, published: datetime | None, title: str = ""
) -> ArticleRecord:
    return ArticleRecord(
        source=source,
        url=f"https://{source}.example/{slug}",
        canonical_url=f"https://{source}.example/{slug}",
        title=title or slug.replace("-", " "),
        text=text,
        content_hash=content_hash(text),
        fetched_at=T0 + timedelta(hours=3),
        published_at=published,
        language="es",
        minhash=fingerprint(text),
        credited_source=credited_source(text),
    )


@pytest.fixture()
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'clusters.sqlite'}"


@pytest.fixture()
def store(db_url):
    s = Store(db_url)
    s.sync_sources(
        [
            SourceInfo("tribuna", "feed", "https://tribuna.example/feed", "Tribuna del Yaqui", "es", "America/Hermosillo"),
            SourceInfo("diario", "sitemap", "https://diario.example/", "El Diario Nacional", "es", "America/Mexico_City"),
            SourceInfo("otro", "feed", "https://otro.example/feed", "El Otro Medio", "es", "America/Mexico_City"),
        ]
    )  # fmt: skip
    yield s
    s.close()


def clusters_of(store: Store) -> dict[str, tuple[int, bool]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(articles.c.url, articles.c.cluster_id, articles.c.cluster_rep))
        return {url.rsplit("/", 1)[1]: (cid, bool(rep)) for url, cid, rep in rows}


def seed_record(published=T0) -> ArticleRecord:
    return record(
        "tribuna", "grupo-implementacion", seed_text(), published, "Realizan segunda reunión"
    )


def copy_record(published=T0 + timedelta(hours=2)) -> ArticleRecord:
    return record(
        "diario",
        "mexico-y-eu-revisan",
        republished_copy(),
        published,
        "México y EU revisan avances",
    )


def test_republished_copy_joins_the_original_story(store):
    results = store.store([seed_record(), copy_record()])
    assert [r.outcome for r in results] == ["new", "new"]
    c = clusters_of(store)
    assert c["grupo-implementacion"][0] == c["mexico-y-eu-revisan"][0] == results[0].article_id
    assert c["grupo-implementacion"][1] and not c["mexico-y-eu-revisan"][1]


def test_independent_report_on_the_same_meeting_is_another_story(store):
    store.store([seed_record()])
    store.store([record("otro", "reunion-bilateral", INDEPENDENT_REPORT, T0 + timedelta(hours=1))])
    c = clusters_of(store)
    assert c["grupo-implementacion"][0] != c["reunion-bilateral"][0]
    assert c["reunion-bilateral"] == (results_id(store, "reunion-bilateral"), True)


def results_id(store: Store, slug: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            select(articles.c.id).where(articles.c.url.like(f"%/{slug}"))
        ).scalar_one()


def test_short_briefs_from_one_template_stay_apart(store):
    a = template_brief("Juan Pérez López", 34, "Centro", "Hermosillo", "robo con violencia")
    b = template_brief("Pedro Ruiz Soto", 22, "Las Quintas", "Cajeme", "homicidio calificado")
    store.store([record("otro", "brief-a", a, T0), record("otro", "brief-b", b, T0)])
    c = clusters_of(store)
    assert c["brief-a"][0] != c["brief-b"][0]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lsh_bands)).scalar_one() == 0


def test_long_template_briefs_of_one_source_need_more_than_the_threshold(store):
    """Two long bulletins sharing a template paragraph: similar, but not one story."""
    boiler = seed_text().split("\n")[1]  # a shared paragraph, as a template would repeat
    first = "\n".join([template_brief("Juan Pérez", 34, "Centro", "Hermosillo", "robo"), boiler])
    second = "\n".join([template_brief("Ana Gil", 41, "Sahuaro", "Guaymas", "extorsión"), boiler])
    store.store([record("otro", "b1", first, T0), record("otro", "b2", second, T0)])
    c = clusters_of(store)
    assert c["b1"][0] != c["b2"][0]


def test_representative_is_the_credited_original_even_when_the_copy_came_first(store):
    early_copy = copy_record(published=T0 - timedelta(hours=5))
    store.store([early_copy])
    store.store([seed_record(published=T0)])
    c = clusters_of(store)
    assert c["mexico-y-eu-revisan"][0] == c["grupo-implementacion"][0]
    assert c["grupo-implementacion"][1] is True
    assert c["mexico-y-eu-revisan"][1] is False


def test_without_a_credit_the_earliest_published_represents(store):
    uncredited = replace(copy_record(published=T0 - timedelta(hours=5)), credited_source=None)
    store.store([seed_record(published=T0), uncredited])
    c = clusters_of(store)
    assert c["mexico-y-eu-revisan"][1] is True and c["grupo-implementacion"][1] is False


def test_same_outlet_reposting_its_story_is_a_copy(store):
    repost = record(
        "tribuna",
        "grupo-implementacion-2",
        seed_text() + "\nActualización: sin cambios en la agenda.",
        T0 + timedelta(days=1),
    )
    store.store([seed_record(), repost])
    c = clusters_of(store)
    assert c["grupo-implementacion"][0] == c["grupo-implementacion-2"][0]


def test_search_collapses_copies_and_export_keeps_every_article(store, db_url):
    store.store([copy_record(), seed_record()])
    store.store([record("otro", "reunion-bilateral", INDEPENDENT_REPORT, T0)])
    rows = search(db_url, "cortafuegos")
    assert len(rows) == 2
    story_row = next(r for r in rows if r["copies"] == 2)
    assert story_row["source"] == "tribuna"
    assert story_row["outlets"] == ["tribuna", "diario"]
    assert story_row["snippet"]
    other = next(r for r in rows if r["copies"] == 1)
    assert other["outlets"] == ["otro"]
    assert len(search(db_url, "cortafuegos", all_copies=True)) == 3
    assert len(search(db_url, "cortafuegos", limit=1)) == 1
    assert search(db_url, "cortafuegos", limit=1, offset=1)[0]["id"] == rows[1]["id"]
    only_copy = search(db_url, "cortafuegos", sources=["diario"])
    assert [r["source"] for r in only_copy] == ["diario"]  # filters hold: the copy stands in
    exported = list(export(db_url))
    assert len(exported) == 3
    by_source = {r["source"]: r for r in exported}
    assert by_source["diario"]["credited_source"] == "Tribuna del Yaqui"
    assert by_source["diario"]["copies"] == by_source["tribuna"]["copies"] == 2
    assert by_source["diario"]["cluster_id"] == by_source["tribuna"]["cluster_id"]


def test_story_lists_copies_from_any_member_id(store, db_url):
    res = store.store([seed_record(), copy_record()])
    by_cluster = story(db_url, res[0].article_id)
    by_member = story(db_url, res[1].article_id)
    assert [r["id"] for r in by_cluster] == [r["id"] for r in by_member]
    assert [r["representative"] for r in by_cluster] == [True, False]
    assert story(db_url, 424242) == []


def test_changed_text_moves_an_article_to_its_new_story(store):
    store.store([seed_record(), record("otro", "nota", INDEPENDENT_REPORT, T0)])
    rewritten = record("otro", "nota", republished_copy() + "\nActualizada.", T0)
    assert store.store([rewritten])[0].outcome == "updated"
    c = clusters_of(store)
    assert c["nota"][0] == c["grupo-implementacion"][0]


def test_recluster_after_threshold_change(store, db_url):
    store.store([seed_record(), copy_record()])
    strict = store.recluster(threshold=0.99)
    assert strict["multi_member_clusters"] == 0 and strict["clusters"] == 2
    c = clusters_of(store)
    assert all(rep for _, rep in c.values())
    relaxed = store.recluster(threshold=0.8, signer=fingerprint, creditor=credited_source)
    assert relaxed == {"articles": 2, "clusters": 1, "multi_member_clusters": 1, "threshold": 0.8}
    c = clusters_of(store)
    assert c["grupo-implementacion"] == (c["mexico-y-eu-revisan"][0], True)
    assert search(db_url, "cortafuegos")[0]["copies"] == 2


def test_recluster_signs_articles_stored_without_signature(store):
    bare = [replace(seed_record(), minhash=None), replace(copy_record(), minhash=None)]
    store.store(bare)
    assert store.cluster_summary()["clusters"] == 2
    summary = store.recluster(signer=fingerprint, batch_size=1)
    assert summary["clusters"] == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lsh_bands)).scalar_one() == 64


def test_threshold_is_validated():
    with pytest.raises(ValueError):
        Store("sqlite://", near_dup_threshold=1.5)


def test_threshold_setting_reads_the_environment(monkeypatch):
    from crawler import settings

    monkeypatch.delenv(settings.ENV_NEAR_DUP_THRESHOLD, raising=False)
    assert settings.near_dup_threshold() == settings.NEAR_DUP_THRESHOLD == 0.8
    monkeypatch.setenv(settings.ENV_NEAR_DUP_THRESHOLD, "0.7")
    assert settings.near_dup_threshold() == 0.7
    assert settings.near_dup_threshold(0.9) == 0.9
    monkeypatch.setenv(settings.ENV_NEAR_DUP_THRESHOLD, "mucho")
    with pytest.raises(ValueError, match="NEWSWATCH_NEAR_DUP_THRESHOLD"):
        settings.near_dup_threshold()


def test_candidate_lookup_uses_the_band_index(store):
    store.store([seed_record()])
    with store.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT article_id FROM lsh_bands "
            "WHERE (band = 1 AND hash = 5) OR (band = 2 AND hash = 7)"
        ).all()
    assert any("ix_lsh_bands_band_hash" in str(row) for row in plan), plan


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, float("nan")])
def test_the_one_threshold_check_refuses_out_of_range_values(bad: float) -> None:
    from storage.neardup import valid_threshold

    with pytest.raises(ValueError, match="near-duplicate threshold"):
        valid_threshold(bad)
