"""Scoring in the pipeline, the keep policy, and the storage/search side of the analysis."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.analysis import scoring as analysis
from crawler.config import ConfigError, Source, parse_config
from crawler.items import RawPage
from crawler.pipeline.process import process_page
from storage.db import dispose_engines
from storage.records import decompress_html
from storage.search import Analysis, export, search, search_posts
from storage.store import Store
from tests.test_storage import BACKENDS, fresh_postgres

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = FIXTURES / "extract" / "tribuna_seed_article.html"
SEED_URL = "https://tribuna.example/2025/12/11/realizan-segunda-reunion/"
SEED_CANONICAL = (
    "https://tribuna.example/2025/12/11/grupo-implementacion-seguridad-mexico-estados-unidos/"
)
"""The seed page's own rel=canonical (same site): the ``url`` search and export show."""
OFF_TOPIC = """<html lang="es"><head><title>Yaquis vencen a Naranjeros</title></head><body>
<article><h1>Yaquis de Obregón vencen a Naranjeros en el clásico sonorense</h1>
<p>Los Yaquis de Obregón se impusieron 5-3 a los Naranjeros de Hermosillo en el Estadio Yaquis,
con dos jonrones en la séptima entrada y una gran actuación del abridor.</p>
<p>La serie continúa este fin de semana en Hermosillo, donde los Naranjeros buscarán la
revancha ante su afición en la Liga Mexicana del Pacífico.</p></article></body></html>"""


def _page(url: str, body: bytes | str) -> RawPage:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return RawPage(
        source="tribuna",
        url=url,
        final_url=url,
        status=200,
        body=data,
        headers={"content-type": "text/html; charset=utf-8"},
    )


def _source(keep: str = "all") -> Source:
    return Source(
        name="tribuna",
        kind="feed",
        url="https://tribuna.example/feed.xml",
        language="es",
        timezone="America/Hermosillo",
        keep=keep,
    )


@pytest.fixture()
def seed_html() -> str:
    return SEED.read_text(encoding="utf-8").replace("{{BASE}}", "https://tribuna.example")


@pytest.fixture()
def db(tmp_path):
    dispose_engines()
    yield f"sqlite:///{tmp_path / 'news.sqlite'}"
    dispose_engines()


def test_record_carries_scores_entities_and_posts(seed_html):
    record = process_page(_page(SEED_URL, seed_html), _source())
    assert record.relevant is True and record.relevance >= 0.5
    assert {"security_cooperation", "arms_trafficking"} <= set(record.topics)
    assert record.matched["arms_trafficking"]["Misión Cortafuegos"] == 1
    ids = [e["id"] for e in record.entities]
    assert {"sre", "ronald_johnson", "us_embassy_mx", "mision_cortafuegos"} <= set(ids)
    assert [p["handle"] for p in record.posts] == ["SRE_mx", "USAmbMex"]
    assert record.kept is True and record.text
    assert decompress_html(record.raw_html_z) == seed_html.encode("utf-8")


def test_profile_and_gazetteer_are_loaded_once_per_path(tmp_path, monkeypatch):
    assert analysis.profile() is analysis.profile()
    assert analysis.gazetteer() is analysis.gazetteer()
    user = tmp_path / "topics.toml"
    user.write_text(
        'threshold = 0.2\n[[topics]]\nname = "baseball"\n[topics.terms]\n"Yaquis" = 2\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NEWSWATCH_TOPICS", str(user))
    profile, _ = analysis.configured()
    assert profile is analysis.configured()[0]
    assert [t.name for t in profile.topics] == ["baseball"]
    result = analysis.analyze("Yaquis ganan", "Los Yaquis de Obregón ganaron.", profile)
    assert result.topics and "baseball" in result.topics


def test_text_is_repaired_once_and_not_again_in_build_record(seed_html):
    record = process_page(_page(SEED_URL, seed_html), _source())
    from crawler.articles.textrepair import repair_text
    from crawler.identity.hashing import content_hash

    assert repair_text(record.text) == record.text
    assert record.content_hash == content_hash(record.text)
    assert "uD83" not in record.text


def test_keep_relevant_drops_text_of_off_topic_articles_only(seed_html):
    off = process_page(_page("https://tribuna.example/yaquis/", OFF_TOPIC), _source("relevant"))
    assert off.relevant is False and off.kept is False
    assert off.text == "" and off.raw_html == b"" and off.raw_html_z is None and off.posts == []
    assert off.title.startswith("Yaquis") and off.content_hash
    on = process_page(_page(SEED_URL, seed_html), _source("relevant"))
    assert on.kept is True and on.text


def test_keep_is_validated_in_the_sources_file():
    base = '[[sources]]\nname = "a"\nurl = "https://a.example/feed"\n'
    assert parse_config(base).sources[0].keep == "all"
    assert parse_config(base + 'keep = "relevant"\n').sources[0].keep == "relevant"
    with pytest.raises(ConfigError, match=r"keep.*relevant"):
        parse_config(base + 'keep = "relevent"\n')


def _stored(db: str, seed_html: str, keep: str = "all") -> Store:
    store = Store(db)
    records = [
        process_page(_page(SEED_URL, seed_html), _source(keep)),
        process_page(_page("https://tribuna.example/yaquis/", OFF_TOPIC), _source(keep)),
    ]
    store.store(records)
    return store


def test_off_topic_skips_are_seen_but_never_searchable(db, seed_html):
    store = _stored(db, seed_html, keep="relevant")
    results = store.store(
        [process_page(_page("https://tribuna.example/yaquis/", OFF_TOPIC), _source("relevant"))]
    )
    assert results[0].outcome == "skipped"
    assert set(store.seen_urls(["https://tribuna.example/yaquis/", SEED_URL])) == {
        "https://tribuna.example/yaquis/",
        SEED_URL,
    }
    assert search(db, "Naranjeros") == []
    assert [r["url"] for r in export(db)] == [SEED_CANONICAL]
    assert store.analysis_summary() == {"articles": 1, "relevant": 1, "unscored": 0, "skipped": 1}
    kept_now = process_page(_page("https://tribuna.example/yaquis/", OFF_TOPIC), _source("all"))
    assert store.store([kept_now])[0].outcome == "new"
    assert store.analysis_summary()["skipped"] == 0


def test_analysis_filters_and_explain(db, seed_html):
    _stored(db, seed_html)
    relevant = search(db, None, analysis=Analysis(relevant=True))
    assert [r["url"] for r in relevant] == [SEED_CANONICAL]
    assert len(search(db, None, analysis=Analysis(min_score=0.0))) == 2
    arms = search(db, None, analysis=Analysis(topics=("arms_trafficking",)))
    assert [r["url"] for r in arms] == [SEED_CANONICAL]
    assert search(db, None, analysis=Analysis(topics=("no_such_topic",))) == []
    for name in ("sre", "Secretaria de relaciones exteriores", "RONALD JOHNSON"):
        rows = search(db, "reunion", analysis=Analysis(entities=(name,)))
        assert [r["url"] for r in rows] == [SEED_CANONICAL], name
    assert search(db, None, analysis=Analysis(entities=("sre", "nobody"))) == []
    (row,) = search(db, "cortafuegos", explain=True)
    assert row["matched"]["arms_trafficking"]["Misión Cortafuegos"] == 1
    assert "matched" not in search(db, "cortafuegos")[0]
    exported = list(export(db, analysis=Analysis(relevant=True)))
    assert [r["url"] for r in exported] == [SEED_CANONICAL]
    assert exported[0]["relevant"] is True and exported[0]["topics"] and exported[0]["entities"]


@pytest.fixture(params=BACKENDS)
def any_db(request, tmp_path):
    dispose_engines()
    yield f"sqlite:///{tmp_path / 'news.sqlite'}" if request.param == "sqlite" else fresh_postgres()
    dispose_engines()


def test_posts_are_searchable_on_their_own(any_db, seed_html):
    db = any_db
    _stored(db, seed_html)
    for query in ("SRE_mx", "@SRE_mx", "relaciones exteriores", "embajador"):
        rows = search_posts(db, query)
        assert rows and rows[0]["handle"] in ("SRE_mx", "USAmbMex"), query
        assert rows[0]["article_url"] == SEED_CANONICAL
    (embassy,) = search_posts(db, "soberanos")
    assert embassy["handle"] == "USAmbMex" and "«soberanos»" in embassy["snippet"]
    assert search_posts(db, "Naranjeros") == []
    assert search(db, "soberanos") == []


def test_iter_texts_and_update_analysis_rescore_without_refetch(db, seed_html, tmp_path):
    store = _stored(db, seed_html)
    packaged = analysis.DEFAULT_PROFILE.read_text(encoding="utf-8")
    path = tmp_path / "strict.toml"
    path.write_text(
        packaged.replace("\nthreshold = ", "\nthreshold = 0.99 # ", 1).replace(
            "\nsaturation = ", "\nsaturation = 400 # ", 1
        ),
        encoding="utf-8",
    )
    strict = analysis.profile(path)
    batches = list(store.iter_texts(batch=1))
    assert [len(b) for b in batches] == [1, 1]
    assert batches[0][0]["posts"] and batches[0][0]["relevant"] is True
    rows = []
    for batch in batches:
        for row in batch:
            result = analysis.analyze(row["title"], row["text"], strict)
            rows.append({"id": row["id"], **result.as_dict()})
    assert store.update_analysis(rows) == 2
    assert store.analysis_summary()["relevant"] == 0
    assert search(db, None, analysis=Analysis(relevant=True)) == []
