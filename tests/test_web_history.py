"""The web app's view of edit history and alert health: an article's versions with side-by-side
diffs (hostile edited text stays text), a withdrawn banner, the "edited" mark on a story, the
versions API, and failing alert deliveries on the sources page.

The corpus is written through the real store: a story stored, one copy then edited twice (a
substantive edit carrying a script tag, then a credit-line-only edit), the original withdrawn.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from scheduler.alerts import run_alerts
from scheduler.web import WebSettings, create_app
from scheduler.web.render import diff_columns
from storage.store import Store
from storage.versions import word_diff
from tests.support.copies import INDEPENDENT_REPORT, republished_copy
from tests.support.receiver import Receiver
from tests.test_alerts import SOURCES, rules_of
from tests.test_clusters import T0, copy_record, record, seed_record
from tests.test_web_pages import assert_csp_clean

HOSTILE = '<script>alert("x")</script>'
HOSTILE_TITLE = "México y EU revisan avances <img src=x>"
EDITED = republished_copy().replace("segunda sesión ordinaria", "tercera sesión ordinaria") + (
    f"\nLa cancillería difundió un video. {HOSTILE}"
)
CREDITED = EDITED + "\nFoto: Cuartoscuro"
WITHDRAWN_AT = datetime(2025, 12, 12, 9, 30, tzinfo=UTC)


def _edit(text: str, title: str, hours: int):
    base = record("diario", "mexico-y-eu-revisan", text, T0 + timedelta(hours=2), title)
    return dataclasses.replace(base, fetched_at=T0 + timedelta(hours=hours))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    db = tmp_path_factory.mktemp("webhistory") / "news.sqlite"
    store = Store(f"sqlite:///{db}")
    try:
        seed, copy = (r.article_id for r in store.store([seed_record(), copy_record()]))
        (other,) = (
            r.article_id for r in store.store([record("otro", "x", INDEPENDENT_REPORT, T0)])
        )
        assert store.store([_edit(EDITED, HOSTILE_TITLE, 5)])[0].outcome == "updated"
        assert store.store([_edit(CREDITED, HOSTILE_TITLE, 7)])[0].outcome == "updated"
        assert store.withdraw(seed, WITHDRAWN_AT)
    finally:
        store.close()
    return db, {"seed": seed, "copy": copy, "other": other}


@pytest.fixture(scope="module")
def client(corpus):
    db, _ = corpus
    return TestClient(create_app(WebSettings(db_url=f"sqlite:///{db}", config_path=None)))


def _section(html: str, marker: str) -> str:
    return html[html.index(marker) :]


def test_article_page_shows_versions_with_escaped_side_by_side_diffs(client, corpus):
    _, ids = corpus
    page = client.get(f"/articles/{ids['copy']}")
    assert page.status_code == 200
    html = page.text
    assert_csp_clean(html)
    versions = _section(html, 'id="versions"')
    assert "Versiones (3)" in versions
    assert [int(n) for n in re.findall(r'data-version="(\d+)"', versions)] == [1, 2, 3]
    # The substantive edit is open, the credit-line edit folded (a closed <details>).
    substantive = re.search(r'<details class="change" id="change-1"[^>]*>', versions)
    minor = re.search(r'<details class="change minor" id="change-2"[^>]*>', versions)
    assert substantive and " open" in substantive.group(0)
    assert minor and " open" not in minor.group(0)
    change = versions[substantive.start() : minor.start()]
    assert "<del>segunda</del>" in change and "<ins>tercera</ins>" in change
    assert 'class="diff-old"' in change and 'class="diff-new"' in change
    # Hostile text, in the body and in the title, is escaped inside the markup.
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in change
    assert "&lt;img src=x&gt;</ins>" in change
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'class="elided"' in change  # long unchanged runs are cut
    assert "texto" in change and "título" in change
    assert "Cambio menor" in versions[minor.start() :] and "Foto: Cuartoscuro" in versions
    english = client.get(f"/articles/{ids['copy']}?lang_ui=en").text
    assert "Versions (3)" in english and "Before" in english and "After" in english
    assert "minor" in english and "Minor change (whitespace" in english


def test_withdrawn_article_shows_a_banner_with_the_time(client, corpus):
    _, ids = corpus
    html = client.get(f"/articles/{ids['seed']}").text
    banner = re.search(r'<p class="banner withdrawn"[^>]*>(.*?)</p>', html, re.S)
    assert (
        banner and "RETIRADO" in banner.group(1) and "12 dic 2025 09:30 (+00:00)" in banner.group(1)
    )
    assert "retirado" in _section(html, 'id="versions"')
    english = client.get(f"/articles/{ids['seed']}?lang_ui=en").text
    assert "WITHDRAWN" in english and "12 Dec 2025 09:30 (+00:00)" in english
    assert "withdrawn" not in client.get(f"/articles/{ids['copy']}").text.split("<main")[1][:2000]


def test_an_unchanged_article_has_no_versions_section(client, corpus):
    _, ids = corpus
    html = client.get(f"/articles/{ids['other']}").text
    assert 'id="versions"' not in html and "banner withdrawn" not in html


def test_story_page_marks_the_edited_copy_and_links_to_its_versions(client, corpus):
    _, ids = corpus
    html = client.get(f"/stories/{ids['seed']}").text
    assert_csp_clean(html)
    copy = re.search(r'<li class="copy[^"]*" data-source="diario">(.*?)</li>', html, re.S)
    assert copy
    link = re.search(r'<a class="edited"[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', copy.group(1))
    assert link and link.group(1) == f"/articles/{ids['copy']}?lang_ui=es#versions"
    assert link.group(2).strip() == "editado 2 veces"
    seed = re.search(r'<li class="copy[^"]*" data-source="tribuna">(.*?)</li>', html, re.S)
    assert seed and 'class="edited' not in seed.group(1)  # a withdrawal is not an edit
    badge = re.search(r'<a class="badge withdrawn" href="([^"]+)"[^>]*>retirado</a>', seed.group(1))
    assert badge and badge.group(1) == f"/articles/{ids['seed']}?lang_ui=es#versions"
    english = client.get(f"/stories/{ids['seed']}?lang_ui=en").text
    assert "edited 2 times" in english and ">withdrawn<" in english


def test_versions_api_lists_every_version_and_one_diff(client, corpus):
    _, ids = corpus
    body = client.get(f"/api/v1/articles/{ids['copy']}/versions").json()
    assert body["id"] == ids["copy"] and body["source"] == "diario"
    assert body["withdrawn_at"] is None
    versions = body["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["minor"] for v in versions] == [False, True, False]
    assert versions[0]["changed"] == ["title", "text"] and versions[-1]["current"] is True
    assert versions[-1]["text"] == CREDITED and HOSTILE in versions[1]["text"]
    assert {"fetched_at", "replaced_at", "chars_added", "chars_removed", "content_hash"} <= set(
        versions[0]
    )
    diff = client.get(f"/api/v1/articles/{ids['copy']}/versions", params={"diff": 1}).json()
    assert (diff["from"], diff["to"], diff["minor"]) == (1, 2, False)
    assert "[-segunda-]{+tercera+}" in diff["diff"]["text"]
    assert ["-", "segunda"] in diff["pieces"]["text"] and ["+", "tercera"] in diff["pieces"]["text"]
    gone = client.get(f"/api/v1/articles/{ids['seed']}/versions").json()
    assert gone["withdrawn_at"] == "2025-12-12T09:30:00+00:00"
    assert gone["versions"][0]["changed"] == ["withdrawn"]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/articles/999999/versions", 404, "no article with id 999999"),
        ("/api/v1/articles/0/versions", 404, "no article"),
        (f"/api/v1/articles/{2**70}/versions", 404, "no article"),
        ("/api/v1/articles/{copy}/versions?diff=3", 400, "diff 3: the article has 3 version(s), so N is 1 to 2"),
        ("/api/v1/articles/{copy}/versions?diff=0", 400, "diff"),
        ("/api/v1/articles/{copy}/versions?diff=abc", 400, "diff"),
        ("/api/v1/articles/{other}/versions?diff=1", 400, "diff 1: the article has one version, nothing changed yet"),
    ],
)  # fmt: skip
def test_versions_api_errors_are_one_line(client, corpus, path, status, message):
    _, ids = corpus
    answer = client.get(path.format(**ids))
    assert answer.status_code == status
    error = answer.json()["error"]
    assert message in error and "\n" not in error


def test_diff_columns_escape_every_piece_and_keep_both_sides():
    old, new = diff_columns(word_diff("a <b>uno</b> & c", "a <b>dos</b> & c"))
    assert str(old) == "a <del>&lt;b&gt;uno&lt;/b&gt;</del> &amp; c"
    assert str(new) == "a <ins>&lt;b&gt;dos&lt;/b&gt;</ins> &amp; c"
    long = " ".join(f"palabra{i}" for i in range(200))
    old, new = diff_columns(word_diff(long + " tres", long + " siete"), context=40)
    assert str(old).startswith('<span class="elided">…</span>') and str(old).endswith(
        "<del>tres</del>"
    )
    assert len(str(new)) < 120


@pytest.fixture()
def receiver():
    rx = Receiver()
    yield rx
    rx.close()


def test_sources_page_lists_alert_rules_with_failing_deliveries(tmp_path, receiver):
    rule = f'[[alerts]]\nname = "cortafuegos"\nquery = "mision cortafuegos"\nnotify = ["{receiver.url()}"]\n'
    cfg = tmp_path / "sources.toml"
    cfg.write_text(SOURCES.format(defaults="") + rule, encoding="utf-8")
    _, rules = rules_of(rule)
    url = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    now = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    store = Store(url)
    try:
        run_alerts(store, rules, now, failing_after=5)  # the rule starts now
        store.store([seed_record()])
        receiver.fail_next = 1  # the channel answers 500 once
        (report,) = run_alerts(store, rules, now, failing_after=5)
        assert report.failed == 1
    finally:
        store.close()
    client = TestClient(create_app(WebSettings(db_url=url, config_path=cfg)))
    html = client.get("/sources").text
    assert_csp_clean(html)
    section = _section(html, 'id="alerts"')
    assert "Alertas con entregas pendientes o fallidas" in section
    row = re.search(r'<tr class="failing" data-rule="cortafuegos">(.*?)</tr>', section, re.S)
    assert row and "Fallando" in row.group(1) and "500" in row.group(1)
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row.group(1))] == [1, 1]
    assert "Alerts with pending or failing deliveries" in client.get("/sources?lang_ui=en").text
    # Once the retry goes through, nothing is waiting and the section is gone.
    store = Store(url)
    try:
        run_alerts(store, rules, now + timedelta(minutes=5), failing_after=5)
    finally:
        store.close()
    assert len(receiver.received) == 1
    assert 'id="alerts"' not in client.get("/sources").text


def test_sources_page_without_alert_trouble_has_no_alert_section(client):
    assert 'id="alerts"' not in client.get("/sources").text
