"""The fixture server behaves like a small real site: substitution, 404, 304, overrides, a log."""

from __future__ import annotations

import http.client
import tomllib
from urllib.parse import urlsplit

import pytest

from tests.support import FixtureServer, write_sources_toml

SEED = (
    "/tribuna/2025/12/11/"
    "realizan-segunda-reunion-del-grupo-de-implementacion-de-seguridad-mexico-estados-unidos/"
)


def get(
    server: FixtureServer, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """A raw request (no redirect following, no path normalisation) to the fixture server."""
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_binds_loopback_on_an_ephemeral_port(site):
    parts = urlsplit(site.base_url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port and parts.port > 0


def test_feed_served_with_base_substituted_and_feed_content_type(site):
    status, headers, body = get(site, "/tribuna/feed.xml")
    assert status == 200
    assert headers["content-type"].startswith("application/rss+xml")
    assert b"{{BASE}}" not in body
    assert f"{site.base_url}/tribuna/".encode() in body
    assert int(headers["content-length"]) == len(body)


def test_atom_feed_content_type(site):
    status, headers, _ = get(site, "/borderreport/atom.xml")
    assert status == 200
    assert headers["content-type"].startswith("application/atom+xml")


def test_directory_serves_index_html_and_bare_directory_redirects(site):
    status, headers, body = get(site, SEED)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "Misión Cortafuegos".encode() in body
    assert f'<link rel="canonical" href="{site.base_url}{SEED}">'.encode() in body
    status, headers, _ = get(site, SEED.rstrip("/"))
    assert status == 301
    assert headers["location"] == site.base_url + SEED


def test_root_robots_txt_is_plain_text(site):
    status, headers, body = get(site, "/robots.txt")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert b"Disallow: /tribuna/wp-admin/" in body


@pytest.mark.parametrize("path", ["/tribuna/no-existe/", "/nothing.xml", "/../conftest.py"])
def test_missing_or_outside_paths_are_404(site, path):
    status, _, _ = get(site, path)
    assert status == 404


def test_if_none_match_gives_304_without_body(site):
    status, headers, _ = get(site, "/tribuna/feed.xml")
    etag = headers["etag"]
    status, headers, body = get(site, "/tribuna/feed.xml", {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers["etag"] == etag
    status, _, _ = get(site, "/tribuna/feed.xml", {"If-None-Match": '"stale"'})
    assert status == 200


def test_if_modified_since_gives_304_only_when_not_newer(site):
    _, headers, _ = get(site, "/borderreport/atom.xml")
    last_modified = headers["last-modified"]
    status, _, _ = get(site, "/borderreport/atom.xml", {"If-Modified-Since": last_modified})
    assert status == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    status, _, _ = get(site, "/borderreport/atom.xml", {"If-Modified-Since": old})
    assert status == 200


def test_override_changes_body_etag_and_is_reset(site):
    _, before, original = get(site, "/tribuna/feed.xml")
    site.override("/tribuna/feed.xml", "<rss><channel><link>{{BASE}}/x</link></channel></rss>")
    status, headers, body = get(site, "/tribuna/feed.xml?cache=1")
    assert status == 200
    assert body == f"<rss><channel><link>{site.base_url}/x</link></channel></rss>".encode()
    assert headers["etag"] != before["etag"]
    assert site.fetch("/tribuna/feed.xml") == body
    site.reset_overrides()
    assert get(site, "/tribuna/feed.xml")[2] == original


def test_override_status_and_headers(site):
    site.override("/tribuna/feed.xml", status=503, headers={"Retry-After": "120"})
    status, headers, body = get(site, "/tribuna/feed.xml")
    assert (status, body) == (503, b"")
    assert headers["retry-after"] == "120"
    site.override("/tribuna/new/", b"moved", status=301, headers={"Location": "/tribuna/"})
    status, headers, _ = get(site, "/tribuna/new/")
    assert status == 301 and headers["location"] == "/tribuna/"


def test_head_has_headers_but_no_body(site):
    status, headers, body = get(site, "/tribuna/feed.xml", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) > 1000


def test_log_records_requests_and_can_be_cleared(site):
    get(site, "/tribuna/feed.xml", {"User-Agent": "newswatch-test"})
    get(site, "/borderreport/missing.xml")
    log = site.requests
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/tribuna/feed.xml", 200),
        ("GET", "/borderreport/missing.xml", 404),
    ]
    assert log[0].headers["User-Agent"] == "newswatch-test"
    assert log[0].time <= log[1].time
    assert [r.path for r in site.requests_for("/borderreport/")] == ["/borderreport/missing.xml"]
    site.clear_log()
    assert site.requests == []


def test_standalone_server_starts_and_stops(tmp_path):
    (tmp_path / "hello.txt").write_text("base={{BASE}}", encoding="utf-8")
    with FixtureServer(tmp_path) as server:
        status, _, body = get(server, "/hello.txt")
        assert (status, body) == (200, f"base={server.base_url}".encode())
    with pytest.raises(OSError):
        get(server, "/hello.txt")


def test_write_sources_toml_points_at_the_fixture_feeds(site, tmp_path):
    path = write_sources_toml(tmp_path / "sources.toml", site.base_url)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["defaults"] == {"delay": 0, "concurrency": 8}
    by_name = {s["name"]: s for s in data["sources"]}
    assert list(by_name) == ["tribuna", "borderreport"]
    assert by_name["tribuna"]["timezone"] == "America/Hermosillo"
    assert by_name["borderreport"]["language"] == "en"
    for source in data["sources"]:
        status, _, _ = get(site, urlsplit(source["url"]).path)
        assert status == 200
    only = tomllib.loads(
        write_sources_toml(tmp_path / "one.toml", site.base_url, ["borderreport"]).read_text()
    )
    assert [s["name"] for s in only["sources"]] == ["borderreport"]
