"""Issue 7 §2: bad documents (feeds, sitemaps, pages) in ONE real ``newswatch crawl``."""

from __future__ import annotations

import sqlite3

import pytest

from crawler import settings
from tests.support.hostile import (
    HostileServer,
    article_html,
    cli,
    integrity,
    last_runs,
    stored_urls,
    write_sources,
)

pytestmark = pytest.mark.slow

MARKER = "XXE-MARKER-5f1c0e9a"
FEEDS = [
    "unclosed",
    "bad_entities",
    "bom",
    "declared_latin1_utf8",
    "cp1252",
    "mixed_encodings",
    "billion_laughs",
    "links",
    "dates",
    "dup_guids",
    "doc_articles",
]


def _xxe_feed(secret_path: str) -> str:
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret_path}">]>\n'
        '<rss version="2.0"><channel><title>XXE &xxe;</title><link>{{BASE}}/</link>'
        "<description>&xxe;</description><item><title>Robo &xxe;</title>"
        "<link>{{BASE}}/article/xxe-1</link><description>&xxe;</description>"
        "<guid>xxe-1</guid></item></channel></rss>"
    )


def _big_feed(count: int) -> str:
    items = "".join(
        f"<item><title>Nota {i}</title><link>{{{{BASE}}}}/status/404/{i}</link><guid>g{i}</guid></item>"
        for i in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Grande</title>{items}</channel></rss>'


def _script_page() -> str:
    script = "<script>var x = '" + "a" * (5 * 1024 * 1024) + "';</script>"
    return article_html("script-5mb").replace("</head>", script + "</head>")


@pytest.fixture(scope="module")
def run(fixture_server, tmp_path_factory):
    fixture_server.reset_overrides()
    base = tmp_path_factory.mktemp("hostile_docs")
    secret = base / "secret.txt"
    secret.write_text(MARKER, encoding="utf-8")
    with HostileServer(max_wait=20) as hostile:
        hostile.put("/xxe.xml", _xxe_feed(str(secret)), "application/rss+xml")
        hostile.put("/big.xml", _big_feed(20_000), "application/rss+xml")
        hostile.put("/script5mb.html", _script_page(), "text/html; charset=utf-8")
        sources = {"good": ("feed", fixture_server.base_url + "/tribuna/feed.xml")}
        sources |= {name: ("feed", hostile.url(f"/doc/{name}.xml")) for name in FEEDS}
        sources["xxe"] = ("feed", hostile.url("/xxe.xml"))
        sources["big"] = ("feed", hostile.url("/big.xml"))
        sources["sitemap_self"] = ("sitemap", hostile.url("/doc/sitemap_self.xml"))
        cfg = write_sources(base / "sources.toml", sources)
        db = base / "news.sqlite"
        result = cli(
            "crawl",
            *("--config", str(cfg), "--db", str(db), "--format", "json"),
            env={"NEWSWATCH_MAX_PAGE_BYTES": str(8 * 1024 * 1024)},
        )
        yield {"result": result, "db": db, "runs": last_runs(db), "hostile": hostile}


def _texts(db, source: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT title, text FROM articles WHERE source = ? ORDER BY url", (source,)
        ).fetchall()


def test_run_survives_and_db_is_intact(run):
    assert run["result"].returncode in (0, 1), run["result"].stderr[-2000:]
    assert "Traceback" not in run["result"].stderr
    assert run["runs"]["good"]["outcome"] == "ok"
    assert len(stored_urls(run["db"], "good")) >= 3
    assert integrity(run["db"]) == "ok"


@pytest.mark.parametrize(
    "name", ["unclosed", "bad_entities", "bom", "declared_latin1_utf8", "cp1252", "mixed_encodings"]
)
def test_malformed_feed_is_recovered_and_its_articles_stored(run, name):
    row = run["runs"][name]
    assert row["outcome"] == "ok", row["error"]
    assert stored_urls(run["db"], name), row


def test_billion_laughs_is_not_expanded(run):
    row = run["runs"]["billion_laughs"]
    assert row["error"] is None or len(row["error"]) < 500
    with sqlite3.connect(run["db"]) as conn:
        longest = conn.execute("SELECT max(length(title)) FROM articles").fetchone()[0]
    assert longest < 1000


def test_xxe_never_reads_the_local_file(run):
    with sqlite3.connect(run["db"]) as conn:
        dump = "\n".join(conn.iterdump())
    assert MARKER not in dump
    assert MARKER not in run["result"].stdout + run["result"].stderr


def test_20000_entry_feed_is_capped(run):
    row = run["runs"]["big"]
    assert row["counts"]["entries"] == settings.MAX_FEED_ENTRIES
    assert run["hostile"].hits("/status/404/") <= settings.MAX_ARTICLES_PER_RUN
    reasons = " ".join(row["counts"]["warnings"])
    assert "truncated to 5000 of 20000 entries" in reasons
    assert f"only {settings.MAX_ARTICLES_PER_RUN} article pages per run" in reasons


def test_unusable_links_are_skipped_and_relative_ones_resolved(run):
    row = run["runs"]["links"]
    hostile = run["hostile"]
    assert row["outcome"] == "ok"
    assert row["counts"]["skipped"] == 2
    other = hostile.base_url.replace("127.0.0.1", "localhost")
    assert stored_urls(run["db"], "links") == sorted(
        [hostile.url("/article/relative-1"), other + "/article/other-domain-1"]
    )


def test_entries_with_any_date_or_none_are_all_stored(run):
    assert run["runs"]["dates"]["outcome"] == "ok"
    assert len(stored_urls(run["db"], "dates")) == 8


def test_duplicate_guid_with_different_content_is_one_edited_article(run):
    """The guid is the article's identity (a story whose URL changes keeps it), so a second
    entry with the same guid is recorded as an edit of the first, never as a crash or a
    half-written row."""
    row = run["runs"]["dup_guids"]
    assert row["outcome"] == "ok"
    assert (row["counts"]["new"], row["counts"]["updated"]) == (1, 1)
    assert len(stored_urls(run["db"], "dup_guids")) == 1


def test_sitemap_index_pointing_at_itself_is_read_once(run):
    row = run["runs"]["sitemap_self"]
    assert row["outcome"] == "ok", row["error"]
    assert stored_urls(run["db"], "sitemap_self") == [run["hostile"].url("/article/sitemap-1")]
    assert run["hostile"].hits("/doc/sitemap_self.xml") == 1


def test_page_without_article_is_an_explained_error(run):
    row = run["runs"]["doc_articles"]
    assert row["counts"]["errors"] >= 1
    assert any("noarticle.html" in w for w in row["counts"]["warnings"]), row["counts"]


def test_latin1_and_lying_charset_pages_keep_their_accents(run):
    texts = dict(_texts(run["db"], "doc_articles"))
    titles = " ".join(texts)
    assert "Méxíco" in titles
    assert "Cooperación en Michoacán" in titles
    assert "Ã" not in titles + " ".join(texts.values())


def test_page_with_5mb_inline_script_is_extracted(run):
    titles = [t for t, _ in _texts(run["db"], "doc_articles")]
    assert any("script-5mb" in t for t in titles)
    with sqlite3.connect(run["db"]) as conn:
        longest = conn.execute("SELECT max(length(text)) FROM articles").fetchone()[0]
    assert longest < 100_000


def test_nul_bytes_and_lone_surrogates_are_stripped_end_to_end(run):
    rows = [r for r in _texts(run["db"], "doc_articles") if "NUL" in r[0]]
    assert rows
    for title, text in rows:
        assert "\x00" not in title + text
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in title + text)
    assert "Sonora" in rows[0][1]
