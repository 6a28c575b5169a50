"""The HTML pages through the app (no browser): each page renders from a real crawled corpus,
hostile stored content stays text, every filter round-trips through the URL, and a bad query
is a 400 page with the CLI's one-line message."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from scheduler.web import WebSettings, create_app, i18n, render
from storage.search.activity import daily_counts
from tests.support.web_corpus import HOSTILE_TITLE, crawl_corpus

SEED_QUERY = "mision cortafuegos"


@pytest.fixture(scope="module")
def corpus(fixture_server, tmp_path_factory):
    fixture_server.reset_overrides()
    cfg, db = crawl_corpus(fixture_server, tmp_path_factory.mktemp("webpages"))
    fixture_server.reset_overrides()
    return cfg, db


@pytest.fixture(scope="module")
def client(corpus):
    cfg, db = corpus
    return TestClient(create_app(WebSettings(db_url=f"sqlite:///{db}", config_path=cfg)))


def ids(db, where: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute(f"SELECT id FROM articles WHERE {where} ORDER BY id")]


def assert_csp_clean(html: str) -> None:
    """Nothing the page's CSP would block: no inline script, style or event handler."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_every_page_renders_in_spanish_by_default(client, corpus):
    _, db = corpus
    (seed,) = ids(db, "source = 'tribuna' AND title LIKE '%segunda reuni%'")
    for path in (
        "/",
        f"/search?q={SEED_QUERY}",
        f"/stories/{seed}",
        f"/articles/{seed}",
        "/sources",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert '<html lang="es">' in page.text and "Búsqueda" in page.text
        assert_csp_clean(page.text)
        assert "script-src 'self'" in page.headers["content-security-policy"]
    english = client.get("/sources", headers={"Accept-Language": "en-US,en;q=0.9,es;q=0.5"})
    assert '<html lang="en">' in english.text and "Source health" in english.text
    assert (
        '<html lang="es">'
        in client.get("/sources?lang_ui=es", headers={"Accept-Language": "en"}).text
    )


def test_search_finds_the_seed_story_first_with_both_outlets(client):
    page = client.get("/search", params={"q": SEED_QUERY}).text
    first = page.split('<li class="hit"', 2)[1]
    assert "segunda reunión" in first.lower()
    assert "2 medios" in first and "<mark>" in first
    assert 'class="bar"' in page and "<svg" in page


def test_htmx_request_gets_only_the_results_fragment(client):
    page = client.get("/search", params={"q": SEED_QUERY}, headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert page.text.lstrip().startswith('<div id="results"') and "<html" not in page.text


def test_filters_round_trip_through_the_url(client):
    params = {"q": SEED_QUERY, "source": "tribuna", "lang": "es", "since": "2025-12-01",
              "until": "2026-01-01", "all": "1"}  # fmt: skip
    page = client.get("/search", params=params).text
    for key, value in params.items():
        if key != "q":
            assert f'name="{key}" value="{value}"' in page, key
    assert 'value="mision cortafuegos"' in page
    on = re.search(r'<a href="([^"]+)" class="on"', page).group(1).replace("&amp;", "&")
    assert "source=tribuna" not in on and "lang=es" in on and "since=2025-12-01" in on
    url = render.search_url({"q": "a", "source": ["x"], "page": "3"}, toggle=("source", "y"))
    assert url == "/search?q=a&source=x&source=y"


def test_a_bad_query_or_filter_is_a_400_page_with_one_line(client):
    bad = client.get("/search", params={"q": '"misión'})
    assert bad.status_code == 400 and "Consulta no válida" in bad.text
    assert "Traceback" not in bad.text
    assert client.get("/search", params={"q": "x", "page": "0"}).status_code == 400
    since = client.get("/search", params={"q": "x", "since": "ayer"})
    assert since.status_code == 400 and "cannot read" in since.text
    assert client.get("/stories/999999").status_code == 404


def test_hostile_title_is_text_everywhere(client, corpus):
    _, db = corpus
    (ident,) = ids(db, f"title = '{HOSTILE_TITLE}'")
    for path in ("/", f"/articles/{ident}", f"/stories/{ident}"):
        page = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert HOSTILE_TITLE not in page, path


def test_article_page_shows_the_terms_behind_its_topics(client, corpus):
    _, db = corpus
    (seed,) = ids(db, "source = 'tribuna' AND title LIKE '%segunda reuni%'")
    page = client.get(f"/articles/{seed}").text
    assert '<span class="term">Grupo de Implementación de Seguridad (2)</span>' in page
    assert f'href="/api/v1/articles/{seed}/raw"' in page and f'href="/stories/{seed}' in page
    assert "Visto por primera vez" in page and "(−07:00)" in page


def test_story_page_shows_the_credited_copy_on_a_timeline(client, corpus):
    _, db = corpus
    (copy,) = ids(db, "source = 'sitemapsite' AND credited_source IS NOT NULL")
    page = client.get(f"/stories/{copy}", params={"q": "cortafuegos"}).text
    assert "Fuente: Tribuna del Yaqui" in page
    outlets = re.findall(r'<li class="copy[^"]*" data-source="([^"]+)"', page)
    assert outlets == ["tribuna", "sitemapsite"]
    assert "(−07:00)" in page and 'rel="noopener noreferrer nofollow"' in page
    assert "<mark>Cortafuegos</mark>" in page
    posts = re.findall(r'<blockquote class="post">\s*<p>(.{0,60})', page)
    assert posts and len(posts) == len(set(posts))  # both copies embed the same posts: shown once


def test_sources_page_lists_the_failing_source_first(client):
    page = client.get("/sources").text
    names = re.findall(r'<tr class="(failing|ok)" data-source="([^"]+)"', page)
    assert names[0] == ("failing", "caida")
    assert [n for _, n in names[1:]] == sorted(n for _, n in names[1:])
    assert "HTTP 500" in page and "<polyline" in page


def test_snippet_marks_are_made_after_escaping():
    marked = render.mark_snippet("a «<b>» y » «sin cierre")
    assert str(marked) == "a <mark>&lt;b&gt;</mark> y » <mark>sin cierre</mark>"


def test_language_choice_and_dates():
    assert i18n.pick_language(None, None) == "es"
    assert i18n.pick_language(None, "en-GB,en;q=0.8") == "en"
    assert i18n.pick_language(None, "fr,en;q=0.2,es;q=0.9") == "es"
    assert i18n.pick_language("en", "es") == "en"
    assert i18n.format_datetime("es", "2025-12-11T09:15:00-07:00") == "11 dic 2025 09:15 (−07:00)"
    assert i18n.format_datetime("en", "2025-12-11T09:15:00+05:30") == "11 Dec 2025 09:15 (+05:30)"
    assert all(len(pair) == 2 and all(pair) for pair in i18n.STRINGS.values())


def test_daily_counts_per_source(corpus):
    _, db = corpus
    with sqlite3.connect(db) as conn:
        (seen,) = conn.execute("SELECT max(first_seen_at) FROM articles").fetchone()
        per = dict(conn.execute("SELECT source, count(*) FROM articles GROUP BY source").fetchall())
    today = datetime.fromisoformat(seen).date()
    counts = daily_counts(f"sqlite:///{db}", 30, today=today)
    assert {k: sum(v) for k, v in counts.items()} == per
    assert all(len(v) == 30 and v[-1] == per[k] for k, v in counts.items())
    assert daily_counts(f"sqlite:///{db}", 3, today=date(2000, 1, 1)) == {}
