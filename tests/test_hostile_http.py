"""Issue 7 §1: every broken HTTP answer, thrown at the real ``newswatch crawl`` in ONE run.

Each hostile case is its own source next to a good source (the fixture Tribuna feed); the run
must store the good source's articles, record a one-line reason per bad source in ``crawl_runs``
and ``status --format json``, exit 1, and leave the database intact.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.hostile import (
    HostileServer,
    cli,
    integrity,
    last_runs,
    stored_urls,
    write_sources,
)

pytestmark = pytest.mark.slow

CASES: dict[str, tuple[str, str]] = {
    # name: (path on the hostile server, expected fragment of the recorded reason)
    "s404": ("/status/404", "HTTP 404"),
    "s410": ("/status/410", "HTTP 410"),
    "s429": ("/status/429?retry_after=3600", "HTTP 429"),
    "s500": ("/flaky/b?fail=9&code=500&then=/doc/good.xml", "HTTP 500"),
    "reset": ("/reset", "connection lost"),
    "hang": ("/hang", "timed out"),
    "trickle": ("/trickle", "timed out"),
    "loop": ("/loop/a", "too many redirects"),
    "chain20": ("/chain/20", "too many redirects"),
    "metadata": ("/redirect?to=http://169.254.169.254/latest/meta-data/", "link-local"),
    "bomb": ("/bomb", "too large when decompressed"),
    "huge": ("/huge", "too large"),
    "huge_unannounced": ("/huge?length=0", "too large"),
    "liar": ("/liar", "cut short"),
    "empty": ("/empty", "empty response body"),
    "html200": ("/doc/error_page.html?ctype=application/rss+xml", "looks like an HTML page"),
}
GOOD_CASES = {
    "s503_then_ok": "/flaky/a?fail=2&code=503&then=/doc/good.xml",
    "feed_as_html": "/doc/good.xml?ctype=text/html",
    "no_ctype": "/doc/good.xml?ctype=none",
    "other_host": "/redirect?to={{OTHER}}/doc/good.xml",
}


@pytest.fixture(scope="module")
def run(fixture_server, tmp_path_factory):
    fixture_server.reset_overrides()
    base = tmp_path_factory.mktemp("hostile_http")
    with HostileServer(max_wait=20) as hostile:
        other = hostile.base_url.replace("127.0.0.1", "localhost")
        sources = {"good": ("feed", fixture_server.base_url + "/tribuna/feed.xml")}
        sources |= {n: ("feed", hostile.url(p)) for n, (p, _) in CASES.items()}
        sources |= {
            n: ("feed", hostile.url(p.replace("{{OTHER}}", other))) for n, p in GOOD_CASES.items()
        }
        sources["articles"] = ("feed", hostile.url("/doc/http_articles.xml"))
        cfg = write_sources(base / "sources.toml", sources)
        db = base / "news.sqlite"
        started = time.monotonic()
        result = cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
        elapsed = time.monotonic() - started
        status = cli("status", "--config", str(cfg), "--db", str(db), "--format", "json")
        yield {
            "result": result,
            "elapsed": elapsed,
            "db": db,
            "runs": last_runs(db),
            "status": {s["name"]: s for s in json.loads(status.stdout)["sources"]},
            "hostile": hostile,
        }


def test_crawl_exits_1_and_good_source_is_stored(run):
    assert run["result"].returncode == 1, run["result"].stderr[-2000:]
    assert "Traceback" not in run["result"].stderr
    assert run["runs"]["good"]["outcome"] == "ok", run["runs"]["good"]["error"]
    assert len(stored_urls(run["db"], "good")) >= 3
    assert integrity(run["db"]) == "ok"


def test_hostile_run_is_bounded_in_time(run):
    assert run["elapsed"] < 60


@pytest.mark.parametrize("name", list(CASES))
def test_bad_answer_fails_its_source_with_one_line_reason(run, name):
    expected = CASES[name][1]
    row = run["runs"][name]
    assert row["outcome"] == "failed"
    assert expected in row["error"], row["error"]
    assert "\n" not in row["error"] and len(row["error"]) < 500
    assert run["status"][name]["last_error"] == row["error"]
    assert run["status"][name]["consecutive_failures"] == 1
    assert stored_urls(run["db"], name) == []


@pytest.mark.parametrize("name", list(GOOD_CASES))
def test_recoverable_answer_still_stores_articles(run, name):
    row = run["runs"][name]
    assert row["outcome"] == "ok", row["error"]
    assert len(stored_urls(run["db"], name)) == 3 or row["counts"]["duplicates"] >= 1


def test_429_retry_after_backs_the_source_off(run):
    backoff = run["status"]["s429"]["backoff_until"]
    assert backoff is not None
    when = datetime.fromisoformat(backoff)
    assert when >= datetime.now(UTC) + timedelta(seconds=3000)
    assert run["hostile"].hits("/status/429") == 1


def test_5xx_is_retried_but_4xx_is_not(run):
    assert run["hostile"].hits("/flaky/a") == 3
    assert run["hostile"].hits("/flaky/b") == 3
    assert run["hostile"].hits("/status/404") == 1
    assert run["hostile"].hits("/status/410") == 2  # the feed, and one article link


def test_metadata_address_is_never_contacted(run):
    assert "refused" in run["runs"]["metadata"]["error"]


def test_article_level_failures_are_counted_and_explained(run):
    row = run["runs"]["articles"]
    assert row["outcome"] == "ok"
    assert stored_urls(run["db"], "articles") == [run["hostile"].url("/article/http-ok")]
    assert row["counts"]["errors"] == 5
    reasons = " | ".join(row["counts"]["warnings"])
    assert "HTTP 410" in reasons
    assert "too large" in reasons
    assert len(row["counts"]["warnings"]) <= 5


def test_retries_of_a_busy_server_are_spaced_out(tmp_path):
    """Two 503s then the feed: the retries wait the backoff, then twice as long (not at once)."""
    with HostileServer() as hostile:
        cfg = write_sources(
            tmp_path / "sources.toml",
            {"busy": ("feed", hostile.url("/flaky/busy?fail=2&code=503&then=/doc/good.xml"))},
        )
        result = cli(
            "crawl", "--config", str(cfg), "--db", str(tmp_path / "news.sqlite"),
            env={"NEWSWATCH_RETRY_BACKOFF": "0.6"},
        )  # fmt: skip
        times = hostile.times["/flaky/busy"]
    assert result.returncode == 0, result.stderr
    assert len(times) == 3
    assert times[1] - times[0] >= 0.6
    assert times[2] - times[1] >= 1.2
