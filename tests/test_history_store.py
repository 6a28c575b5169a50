"""Article versions in storage: what a changed fetch keeps, the minor flag, withdrawal, revisit
scheduling and the storage cost, on SQLite and (with NEWSWATCH_TEST_PG_URL) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.models import article_versions, articles
from storage.store import Store
from storage.versions import changed_since, history, plain_diff, word_diff
from tests.test_storage import db_url, make_record  # noqa: F401  (fixture)

TOLL_1 = (
    "CIUDAD DE MÉXICO (AP) — Tres personas murieron en un ataque armado en Culiacán, "
    "informó la fiscalía de Sinaloa.\nPor Ana Pérez"
)
TOLL_2 = TOLL_1.replace("Tres personas", "Siete personas")


@pytest.fixture
def store(db_url):  # noqa: F811
    return Store(db_url)


def _put(store: Store, **changes) -> str:
    return store.store([make_record(**changes)])[0].outcome


def _only_id(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(articles.c.id)).scalar_one()


def test_a_changed_toll_keeps_the_previous_version(store):
    assert _put(store, text=TOLL_1, content_hash="h1") == "new"
    assert _put(store, text=TOLL_2, content_hash="h2") == "updated"
    versions = history(store.engine, _only_id(store))
    assert [v["version"] for v in versions] == [1, 2]
    old, new = versions
    assert old["text"] == TOLL_1 and new["text"] == TOLL_2 and new["current"]
    assert old["changed"] == ["text"] and old["minor"] is False
    assert old["content_hash"] == "h1"
    assert (old["chars_added"], old["chars_removed"]) == (len("Siete"), len("Tres"))
    assert "[-Tres-]{+Siete+}" in plain_diff(word_diff(old["text"], new["text"]))


def test_a_headline_edit_with_the_same_body_is_a_version(store):
    _put(store, title="Detienen a presunto sicario en Sonora")
    assert _put(store, title="Detienen a sicario en Sonora") == "updated"
    old, new = history(store.engine, _only_id(store))
    assert old["changed"] == ["title"] and not old["minor"]
    assert old["title"] == "Detienen a presunto sicario en Sonora"
    assert new["title"] == "Detienen a sicario en Sonora"


def test_a_credit_line_change_is_minor(store):
    _put(store, text=TOLL_1, content_hash="h1")
    _put(
        store, text=TOLL_1.replace("Por Ana Pérez", "Por Ana Pérez y Luis Gómez"), content_hash="h2"
    )
    old, _ = history(store.engine, _only_id(store))
    assert old["changed"] == ["text"] and old["minor"] is True
    assert changed_since(store.engine, datetime(2000, 1, 1, tzinfo=UTC)) == []
    assert len(changed_since(store.engine, datetime(2000, 1, 1), substantive=False)) == 1


def test_an_identical_fetch_makes_no_version(store):
    _put(store)
    assert _put(store) == "duplicate"
    assert len(history(store.engine, _only_id(store))) == 1


def test_three_versions_decode_back_through_the_chain(store):
    texts = [TOLL_1, TOLL_2, TOLL_2 + "\nLa SRE pidió información a Estados Unidos."]
    for i, text in enumerate(texts):
        _put(store, text=text, content_hash=f"h{i}")
    versions = history(store.engine, _only_id(store))
    assert [v["text"] for v in versions] == texts
    assert changed_since(store.engine, datetime(2000, 1, 1, tzinfo=UTC))[0]["version"] == 1


def test_withdrawn_is_a_version_and_never_a_delete(store):
    _put(store, text=TOLL_1, content_hash="h1")
    ident = _only_id(store)
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert store.withdraw(ident, now) is True
    assert store.withdraw(ident, now) is False
    old, current = history(store.engine, ident)
    assert old["changed"] == ["withdrawn"] and old["text"] == TOLL_1
    assert current["withdrawn_at"] == "2026-12-04T12:00:00+00:00"
    assert store.due_revisits("elimparcial", now + timedelta(days=30), 10) == []
    assert _put(store, text=TOLL_1, content_hash="h1") == "updated"  # the page is back
    versions = history(store.engine, ident)
    assert [v["changed"] for v in versions[:-1]] == [["withdrawn"], ["restored"]]
    assert versions[-1]["withdrawn_at"] is None and versions[-1]["text"] == TOLL_1


def test_a_version_costs_less_than_the_raw_text(store):
    body = "\n".join(
        f"Párrafo {i}: la Guardia Nacional informó de un operativo." for i in range(60)
    )
    _put(store, text=body, content_hash="h1")
    _put(store, text=body.replace("Párrafo 30", "Párrafo treinta"), content_hash="h2")
    with store.engine.connect() as conn:
        blob = conn.execute(select(article_versions.c.text_z)).scalar_one()
    assert len(blob) < len(body.encode()) / 10


def test_revisits_follow_the_schedule_and_keep_validators(store):
    _put(store, etag='"v1"', last_modified="Thu, 04 Dec 2026 10:00:00 GMT")
    ident = _only_id(store)
    with store.engine.connect() as conn:
        first = conn.execute(select(articles.c.first_seen_at)).scalar_one().replace(tzinfo=UTC)
    assert store.due_revisits("elimparcial", first + timedelta(minutes=29), 10) == []
    due = store.due_revisits("elimparcial", first + timedelta(minutes=30), 10)
    assert [d["id"] for d in due] == [ident]
    checked = first + timedelta(hours=5)
    nxt = store.schedule_revisit(ident, checked)
    assert nxt == checked + timedelta(hours=1)
    (row,) = store.due_revisits("elimparcial", nxt, 10)
    assert (row["etag"], row["last_modified"]) == ('"v1"', "Thu, 04 Dec 2026 10:00:00 GMT")
    _put(store, etag='"v2"')  # same text: the validators still follow the page
    (row,) = store.due_revisits("elimparcial", nxt, 10)
    assert (row["etag"], row["last_modified"]) == ('"v2"', "Thu, 04 Dec 2026 10:00:00 GMT")
    assert store.schedule_revisit(ident, first + timedelta(days=6, hours=20)) is None
