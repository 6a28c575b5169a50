"""The library functions the CLI's corpus and status commands call, used without the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.analysis import scoring
from crawler.analysis.rescore import rescore
from crawler.config import Source, parse_config
from crawler.identity.recluster import recluster
from crawler.items import RawPage
from crawler.pipeline.process import process_page
from scheduler.daemon import FAILING_AFTER
from scheduler.status import gather_status
from storage.db import dispose_engines
from storage.store import Store
from storage.types import SourceInfo

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = FIXTURES / "extract" / "tribuna_seed_article.html"
OFF_TOPIC = """<html lang="es"><head><title>Yaquis vencen a Naranjeros</title></head><body>
<article><h1>Yaquis de Obregón vencen a Naranjeros en el clásico sonorense</h1>
<p>Los Yaquis de Obregón se impusieron 5-3 a los Naranjeros de Hermosillo en el Estadio Yaquis,
con dos jonrones en la séptima entrada y una gran actuación del abridor.</p></article></body></html>"""
TRIBUNA = Source(
    name="tribuna",
    kind="feed",
    url="https://tribuna.example/feed.xml",
    language="es",
    timezone="America/Hermosillo",
)
CONFIG = """
[[sources]]
name = "tribuna"
kind = "feed"
url = "https://tribuna.example/feed.xml"

[[sources]]
name = "quiet"
kind = "feed"
url = "https://quiet.example/feed.xml"
enabled = false
"""


@pytest.fixture()
def store(tmp_path):
    dispose_engines()
    store = Store(f"sqlite:///{tmp_path / 'news.sqlite'}")
    seed = SEED.read_text(encoding="utf-8").replace("{{BASE}}", "https://tribuna.example")
    pages = {
        "https://tribuna.example/2025/12/11/realizan-segunda-reunion/": seed,
        "https://tribuna.example/yaquis/": OFF_TOPIC,
    }
    store.store([process_page(_page(url, html), TRIBUNA) for url, html in pages.items()])
    yield store
    store.close()
    dispose_engines()


def _page(url: str, html: str) -> RawPage:
    return RawPage(
        source="tribuna",
        url=url,
        final_url=url,
        status=200,
        body=html.encode("utf-8"),
        headers={"content-type": "text/html; charset=utf-8"},
    )


def test_rescore_with_a_stricter_profile_flips_verdicts_in_batches(store, tmp_path):
    packaged = scoring.DEFAULT_PROFILE.read_text(encoding="utf-8")
    strict_path = tmp_path / "strict.toml"
    strict_path.write_text(
        packaged.replace("\nthreshold = ", "\nthreshold = 0.99 # ", 1).replace(
            "\nsaturation = ", "\nsaturation = 400 # ", 1
        ),
        encoding="utf-8",
    )
    strict, gazetteer = scoring.profile(strict_path), scoring.gazetteer()
    summary = rescore(store, strict, gazetteer, batch=1)
    assert summary == {
        "articles": 2,
        "relevant_before": 1,
        "relevant_after": 0,
        "changed": 1,
        "threshold": 0.99,
        "profile": strict.source,
    }
    again = rescore(store, scoring.profile(), gazetteer)
    assert (again["relevant_before"], again["relevant_after"], again["changed"]) == (0, 1, 1)


def test_recluster_returns_storage_summary_at_the_threshold(store):
    summary = recluster(store, 0.9)
    assert summary == {
        "articles": 2,
        "clusters": 2,
        "multi_member_clusters": 0,
        "threshold": 0.9,
    }


def test_gather_status_merges_configured_and_stored_sources(store):
    store.sync_sources(
        [
            SourceInfo(name=name, kind="feed", url=f"https://{name}.example/", title=name,
                       language="es", timezone="UTC")
            for name in ("tribuna", "gone")
        ]
    )  # fmt: skip
    for _ in range(FAILING_AFTER):
        store.record_source_result("gone", ok=False, error="HTTP 500")
    status = gather_status(parse_config(CONFIG), store.url)
    assert status["daemon"] is None
    assert status["database"]["backend"] == "sqlite"
    assert [s["name"] for s in status["sources"]] == ["gone", "quiet", "tribuna"]
    gone, quiet, tribuna = status["sources"]
    assert tribuna["configured"] and tribuna["enabled"] and tribuna["articles_total"] == 2
    assert not tribuna["failing"]
    assert quiet["configured"] and not quiet["enabled"] and "articles_total" not in quiet
    assert not gone["configured"] and not gone["enabled"] and gone["failing"]
