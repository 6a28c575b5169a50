"""The pages in a real browser (the system Chromium, headless) against a real server process
on a crawled corpus: results as you type, facets, the histogram, the story timeline, the
sources page, and a hostile title that must stay text. Any page dialog or console error (a
script that ran, a CSP violation) fails the test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.web_corpus import HOSTILE_TITLE, crawl_corpus

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"browser tests need the system Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(fixture_server, tmp_path_factory):
    """``newswatch serve`` as its own process on a free port, over a crawled corpus."""
    _need_chromium()
    fixture_server.reset_overrides()
    cfg, db = crawl_corpus(fixture_server, tmp_path_factory.mktemp("browser"))
    fixture_server.reset_overrides()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "serve", "--config", str(cfg), "--db", str(db),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/sources", timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"web server did not start: {proc.stderr.read()[-500:]}")
            time.sleep(0.2)
    yield base, db
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    """A fresh page that records every dialog, console error and uncaught exception."""
    context = browser.new_context(locale="es-MX", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.problems = []
    tab.on("dialog", lambda d: (tab.problems.append(f"dialog: {d.message}"), d.dismiss()))
    tab.on("console", lambda m: m.type == "error" and tab.problems.append(f"console: {m.text}"))
    tab.on("pageerror", lambda e: tab.problems.append(f"pageerror: {e}"))
    yield tab
    context.close()
    assert tab.problems == []


def count_text(page) -> str:
    return page.locator("#match-count").inner_text()


def test_typing_a_query_shows_the_seed_story_first(server, page, tmp_path):
    base, _ = server
    page.goto(base + "/")
    page.locator("#q").press_sequentially("mision cortafuegos", delay=20)
    page.wait_for_url(base + "/search?q=mision+cortafuegos", wait_until="commit")
    page.locator("#results li.hit").first.locator("mark").first.wait_for()
    assert "segunda reunión" in page.locator("#results li.hit h2").first.inner_text().lower()
    assert page.locator("#q").input_value() == "mision cortafuegos"
    assert page.locator("#results li.hit").first.locator("mark").count() >= 1
    assert "2 medios" in page.locator("#results li.hit").first.inner_text()
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    shot = os.environ.get("NEWSWATCH_SCREENSHOT_TO")
    if shot:
        shutil.copy(tmp_path / "search.png", shot)


def test_a_bad_query_typed_shows_the_one_line_message(server, page):
    base, _ = server
    page.goto(base + "/")
    page.locator("#q").press_sequentially('"misión', delay=20)
    error = page.locator("#results .error")
    error.wait_for(timeout=10_000)
    assert "Consulta no válida" in error.inner_text()
    # The browser reports the 400 answer itself as a console error; that one is expected.
    page.problems[:] = [p for p in page.problems if "status of 400" not in p]


def test_a_source_facet_narrows_the_count(server, page):
    base, _ = server
    page.goto(base + "/search?q=mision+cortafuegos&all=1")
    before = count_text(page)
    page.locator('[data-facet="source"] a', has_text="sitemapsite").click()
    page.wait_for_url("**source=sitemapsite**")
    assert count_text(page) != before
    assert page.locator('[data-facet="source"] a.on').inner_text() == "sitemapsite"
    assert [h.get_attribute("data-id") for h in page.locator("li.hit").all()]


def test_a_histogram_bar_narrows_the_range(server, page):
    base, _ = server
    page.goto(base + "/")
    bars = page.locator("svg a.bar")
    assert bars.count() > 1
    last = bars.last
    start, end = last.get_attribute("data-start"), last.get_attribute("data-end")
    last.locator("rect.hit").click()
    page.wait_for_url(f"**since={start}**")
    assert f"until={end}" in page.url
    assert page.locator('input[name="since"]').input_value() == start
    narrowed = page.locator("svg a.bar")
    assert narrowed.count() >= 1
    assert all(start <= b.get_attribute("data-start") < end for b in narrowed.all())


def test_the_story_timeline_credits_the_original(server, page, tmp_path):
    base, _ = server
    page.goto(base + "/search?q=mision+cortafuegos")
    page.locator("#results li.hit h2 a").first.click()
    page.wait_for_url("**/stories/**")
    timeline = page.locator(".timeline")
    assert "Fuente: Tribuna del Yaqui" in timeline.inner_text()
    outlets = [li.get_attribute("data-source") for li in timeline.locator("li.copy").all()]
    assert outlets == ["tribuna", "sitemapsite"]
    assert page.locator(".text mark").count() >= 1
    page.screenshot(path=str(tmp_path / "story.png"), full_page=True)


def test_the_sources_page_lists_the_failing_source_first(server, page, tmp_path):
    base, _ = server
    page.goto(base + "/sources?lang_ui=en")
    first = page.locator("table.sources tbody tr").first
    assert first.get_attribute("data-source") == "caida"
    assert "failing" in (first.get_attribute("class") or "")
    assert "Failing" in first.text_content()
    page.screenshot(path=str(tmp_path / "sources.png"), full_page=True)


def test_a_script_title_shows_as_text_and_runs_nothing(server, page, tmp_path):
    base, db = server
    import sqlite3

    with sqlite3.connect(db) as conn:
        (ident,) = conn.execute(
            "SELECT id FROM articles WHERE title = ?", (HOSTILE_TITLE,)
        ).fetchone()
    page.goto(f"{base}/articles/{ident}")
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    page.screenshot(path=str(tmp_path / "article.png"), full_page=True)
    page.goto(base + "/")
    assert page.locator("li.hit h2", has_text=HOSTILE_TITLE).count() == 1


def test_an_edited_article_shows_its_versions_and_a_folded_diff(server, page):
    """A real store update on the served database: the article page lists both versions and
    the substantive change's diff is open, styled by the stylesheet (no inline style)."""
    import dataclasses
    from datetime import timedelta

    from storage.store import Store
    from tests.test_clusters import T0, record

    base, db = server
    text = "Tres personas murieron en un ataque armado en Culiacán, informó la fiscalía."
    store = Store(f"sqlite:///{db}")
    try:
        (first,) = store.store([record("borderreport", "editada", text, T0, "Ataque en Culiacán")])
        edited = record("borderreport", "editada", text.replace("Tres", "Siete"), T0, "Ataque")
        store.store([dataclasses.replace(edited, fetched_at=T0 + timedelta(hours=4))])
    finally:
        store.close()
    page.goto(f"{base}/articles/{first.article_id}")
    versions = page.locator("#versions")
    assert "Versiones (2)" in versions.locator("h2").inner_text()
    change = versions.locator("details.change").first
    assert change.get_attribute("open") is not None
    body = change.locator('[data-field="text"]')
    assert body.locator(".diff-old del").inner_text() == "Tres"
    assert body.locator(".diff-new ins").inner_text() == "Siete"
    assert (
        change.locator('[data-field="title"] .diff-old del').inner_text().strip() == "en Culiacán"
    )
    struck = body.locator(".diff-old del").evaluate("e => getComputedStyle(e).textDecorationLine")
    assert struck == "line-through"
