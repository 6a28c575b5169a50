"""The JSON API (scheduler.web.api) and its guard (scheduler.web.security) through FastAPI's
TestClient, on a corpus made by a real crawl of the fixture sites (SQLite; PostgreSQL too when
NEWSWATCH_TEST_PG_URL is set)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient

from scheduler.web import WebSettings, create_app
from scheduler.web.security import COOKIE, CSP, session_value
from storage.db import dispose_engines
from tests.support import write_sources_toml
from tests.test_e2e_cli import run_cli
from tests.test_storage import BACKENDS, fresh_postgres

pytestmark = pytest.mark.slow
TOKEN = "s3cret-token"


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request, fixture_server, tmp_path_factory):
    """The seed story from tribuna and its copy on the sitemap site (credited "Fuente: Tribuna
    del Yaqui"), plus Border Report in English: crawled for real, one source after the other."""
    fixture_server.reset_overrides()
    base = tmp_path_factory.mktemp("web")
    cfg = write_sources_toml(
        base / "sources.toml", fixture_server.base_url, ["tribuna", "sitemapsite", "borderreport"]
    )
    dispose_engines()
    db = f"sqlite:///{base / 'news.sqlite'}" if request.param == "sqlite" else fresh_postgres()
    for source in ("tribuna", "sitemapsite", "borderreport"):
        result = run_cli("crawl", source, "--config", str(cfg), "--db", db, "--format", "json")
        assert result.returncode == 0, result.stderr
    yield cfg, db
    dispose_engines()


@pytest.fixture()
def client(corpus):
    cfg, db = corpus
    return TestClient(create_app(WebSettings(db, cfg)), raise_server_exceptions=False)


@pytest.fixture()
def guarded(corpus):
    cfg, db = corpus
    app = create_app(WebSettings(db, cfg, token=TOKEN))
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


def seed(client) -> dict:
    body = client.get("/api/v1/search", params={"q": "mision cortafuegos"}).json()
    return body["results"][0]


def test_search_finds_the_seed_story_once_with_facets(client):
    response = client.get("/api/v1/search", params={"q": "mision cortafuegos"})
    assert response.status_code == 200
    body = response.json()
    top = body["results"][0]
    assert top["source"] == "tribuna" and "«Misión» «Cortafuegos»" in top["snippet"]
    assert top["copies"] == 2 and sorted(top["outlets"]) == ["sitemapsite", "tribuna"]
    assert top["text"] is None and "snippet" in top and "canonical_url" in top
    facets = body["facets"]
    assert facets["articles"] == 2 and facets["stories"] == len(body["results"]) == 1
    assert {f["value"] for f in facets["sources"]} == {"tribuna", "sitemapsite"}
    assert sum(b["stories"] for b in facets["histogram"]["bars"]) == 1
    assert set(facets["relevant"]) == {"true", "false", "unknown"}


def test_search_filters_paging_and_no_facets(client):
    all_of = client.get("/api/v1/search", params={"q": "mision OR border", "limit": 100}).json()
    assert len(all_of["results"]) >= 2
    english = client.get(
        "/api/v1/search", params={"q": "mision OR border", "lang": "en", "facets": "false"}
    ).json()
    assert "facets" not in english
    assert {r["language"][:2] for r in english["results"]} == {"en"}
    one = client.get("/api/v1/search", params={"q": "mision OR border", "limit": 1, "page": 2})
    assert one.json()["offset"] == 1 and one.json()["results"][0] == all_of["results"][1]
    copies = client.get(
        "/api/v1/search", params={"q": "mision cortafuegos", "all_copies": "true"}
    ).json()
    credits = {r["source"]: r["credited_source"] for r in copies["results"]}
    assert credits["sitemapsite"] == "Tribuna del Yaqui"
    source = client.get(
        "/api/v1/search", params={"q": "mision cortafuegos", "source": "sitemapsite"}
    ).json()
    assert source["facets"]["articles"] == 1


def test_story_and_article(client):
    top = seed(client)
    story = client.get(f"/api/v1/stories/{top['id']}").json()
    assert story["cluster_id"] == top["cluster_id"]
    sources = {c["source"]: c for c in story["copies"]}
    assert sources["sitemapsite"]["credited_source"] == "Tribuna del Yaqui"
    assert [c["source"] for c in story["copies"] if c["representative"]] == ["tribuna"]
    article = client.get(f"/api/v1/articles/{top['id']}").json()
    assert article["id"] == top["id"] and "Misión Cortafuegos" in article["text"]


def test_raw_page_is_sandboxed_plain_text(client):
    top = seed(client)
    raw = client.get(f"/api/v1/articles/{top['id']}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert "<html" in raw.text.lower()


def test_sources_and_status(client):
    rows = client.get("/api/v1/sources").json()
    by_name = {r["name"]: r for r in rows}
    assert {"tribuna", "sitemapsite", "borderreport"} <= set(by_name)
    assert by_name["tribuna"]["articles_total"] >= 1
    assert {"articles_24h", "articles_7d", "failing"} <= set(by_name["tribuna"])
    status = client.get("/api/v1/status").json()
    assert set(status) == {"daemon", "database", "sources", "alerts", "cluster"}


def test_export_streams_jsonl_and_csv_with_the_filters(client):
    jsonl = client.get("/api/v1/export", params={"q": "mision cortafuegos", "format": "jsonl"})
    assert jsonl.status_code == 200
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert sorted(r["source"] for r in records) == ["sitemapsite", "tribuna"]
    assert "text" in records[0] and records[0]["text"]
    everything = client.get("/api/v1/export", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(everything.text)))
    assert everything.headers["content-type"].startswith("text/csv")
    assert len(rows) > len(records) and "canonical_url" in rows[0]
    assert everything.text.count("id,url,") == 1
    english = client.get("/api/v1/export", params={"lang": "en", "format": "jsonl"})
    assert {json.loads(x)["language"][:2] for x in english.text.splitlines()} == {"en"}


HOSTILE = [
    ({"q": "a" * 60_000}, "too long"),
    ({"q": "mision\x00cortafuegos"}, "control characters"),
    ({"q": '"mision'}, "unbalanced quote"),
    ({"q": "*"}, ""),
    ({"q": ""}, "give a query"),
    ({"q": "x", "page": "-1"}, "page"),
    ({"q": "x", "limit": "0"}, "limit"),
    ({"q": "x", "page": str(2**70)}, "too deep"),
    ({"q": "x", "offset": "10001"}, "too deep"),
    ({"q": "x", "limit": "abc"}, "limit"),
    ({"q": "x", "since": "yesterday-ish"}, "since"),
    ({"q": "x", "source": "nope"}, "unknown source"),
    ({"q": "x", "source": "tri\x00buna"}, "control characters"),
    ({"q": "x", "lang": "spanish"}, "did you mean 'es'"),
    ({"q": "x", "min_score": "2"}, "min_score"),
]


@pytest.mark.parametrize(("params", "message"), HOSTILE, ids=[repr(p)[:40] for p, _ in HOSTILE])
def test_bad_input_is_a_one_line_400(client, params, message):
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "\n" not in error and message in error


@pytest.mark.parametrize("query", ["NEAR(a b)", "title:mision", "mision AND", '" OR "', "-x ^y"])
def test_fts_syntax_is_plain_text_never_a_500(client, query):
    response = client.get("/api/v1/search", params={"q": query})
    assert response.status_code in (200, 400), response.text
    assert "error" in response.json() or "results" in response.json()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/stories/999999", f"/api/v1/stories/{2**70}", "/api/v1/articles/0",
     f"/api/v1/articles/{2**70}", "/api/v1/articles/-5", "/api/v1/articles/999999/raw"],
)  # fmt: skip
def test_unknown_ids_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "no " in response.json()["error"]


def test_a_non_numeric_id_is_a_400(client):
    response = client.get("/api/v1/stories/abc")
    assert response.status_code == 400 and "ident" in response.json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/search?q=x", "/static/htmx.min.js", "/api/docs"])
def test_security_headers_everywhere(client, path):
    response = client.get(path)
    assert response.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


def test_docs_use_packaged_files_and_no_inline_script(client):
    page = client.get("/api/docs").text
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all('src="/static/' in tag for tag in scripts)
    assert "http" not in page
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        assert client.get(asset).status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/search" in spec["paths"] and "/api/v1/export" in spec["paths"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_read_only(client, method):
    response = client.request(method, "/api/v1/search?q=x")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


def test_token_required_for_api_and_pages(guarded):
    assert guarded.get("/api/v1/status").status_code == 401
    wrong = guarded.get("/api/v1/status", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "token" in wrong.json()["error"]
    ok = guarded.get("/api/v1/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    page = guarded.get("/")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert guarded.get("/static/htmx.min.js").status_code == 200
    assert guarded.get("/login").status_code == 200
    assert guarded.get("/api/openapi.json").status_code == 401


def test_login_sets_an_hmac_cookie_not_the_token(guarded):
    bad = guarded.post("/login", data={"token": "nope"})
    assert bad.status_code == 401 and COOKIE not in bad.cookies
    good = guarded.post("/login", data={"token": TOKEN})
    assert good.status_code == 303
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    value = good.cookies[COOKIE]
    assert value == session_value(TOKEN) and TOKEN not in value
    guarded.cookies.clear()
    assert guarded.get("/api/v1/status", headers={"Cookie": f"{COOKIE}={value}"}).status_code == 200
    forged = {"Cookie": f"{COOKIE}={session_value('other')}"}
    assert guarded.get("/api/v1/status", headers=forged).status_code == 401
    assert guarded.get("/api/v1/status", headers={"Cookie": f"{COOKIE}={TOKEN}"}).status_code == 401
