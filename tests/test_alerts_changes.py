"""Alerts on changed stories (``on = ["new", "changed"]``), in one process on real SQLite and real
local channels: an edit of an alerted story sends one message with its diff, once per version;
minor edits, stories never alerted and rules without "changed" send nothing; quiet hours,
max_per_hour and digests treat a change like a story. The clock is an argument."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from storage.models import articles
from storage.store import Store
from storage.types import SourceInfo
from tests.support.receiver import MailSink, Receiver
from tests.test_alerts import SOURCES, rules_of, store  # noqa: F401  (fixture)
from tests.test_alerts import run as run_rules
from tests.test_clusters import T0, record
from tests.test_storage import db_url  # noqa: F401  (fixture: SQLite, and PostgreSQL when set)

NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)  # 11:00 in Hermosillo
BODY = (
    "CULIACÁN, Sin. (AP) — Tres personas murieron este martes en un ataque armado contra un "
    "taller mecánico de la colonia Las Quintas, informó la Fiscalía General del Estado.\n"
    "Según la fiscalía, los agresores huyeron en una camioneta blanca y no hay detenidos. "
    "Vecinos de la zona dijeron que escucharon más de veinte disparos poco antes del mediodía.\n"
    "Por Ana Pérez"
)
TOLL_7 = BODY.replace("Tres personas", "Siete personas")
CREDIT_ONLY = BODY.replace("Por Ana Pérez", "Por Ana Pérez y Luis Gómez")
TITLE = "Ataque armado en un taller de Culiacán"


TITLES = {"tribuna": "Tribuna del Yaqui", "diario": "El Diario Nacional", "otro": "El Otro Medio"}


def run(store, rules, now, **kw):  # noqa: F811
    return run_rules(store, rules, now, titles=TITLES, **kw)


@pytest.fixture()
def receiver():
    rx = Receiver()
    yield rx
    rx.close()


def attack(text: str = BODY, title: str = TITLE, source: str = "tribuna", slug: str = "ataque"):
    return record(source, slug, text, T0, title)


def rule(url: str, extra: str = "", on: str = '["new", "changed"]'):
    _, rules = rules_of(
        f'[[alerts]]\nname = "culiacan"\nquery = "ataque culiacan"\non = {on}\n{extra}'
        f'notify = ["{url}"]\n'
    )
    return rules


def alerted(store, rules, now=NOW):  # noqa: F811
    """The rule starts, the story is stored and its "new story" message is sent."""
    run(store, rules, now)
    store.store([attack()])
    run(store, rules, now + timedelta(minutes=1))


def test_an_edited_toll_sends_one_message_with_the_diff(store, receiver):  # noqa: F811
    rules = rule(receiver.url())
    alerted(store, rules)
    assert [r["title"] for r in receiver.received] == [f"[culiacan] {TITLE}"]
    assert store.store([attack(TOLL_7)])[0].outcome == "updated"
    (report,) = run(store, rules, NOW + timedelta(minutes=2))
    assert (report.matched, report.sent) == (1, 1)
    change = receiver.received[1]
    assert change["title"] == f"[culiacan] changed: {TITLE}"
    message = change["message"]
    assert "text: CULIACÁN, Sin. (AP) — [-Tres-]{+Siete+} personas murieron" in message
    assert "Tribuna del Yaqui · version 2" in message
    assert "5 character(s) added, 4 removed" in message
    assert "https://tribuna.example/ataque" in message
    assert "veinte disparos" not in message  # a short diff: the unchanged rest is cut
    # The same pass again, and later ones, send nothing more.
    for minutes in (3, 60):
        (again,) = run(store, rules, NOW + timedelta(minutes=minutes))
        assert again.matched == 0
    assert len(receiver.received) == 2
    rows = store.delivery_history("culiacan")
    assert [(r["key"].split(":")[0], r["state"]) for r in rows] == [
        ("change", "sent"),
        ("story", "sent"),
    ]
    assert rows[0]["story_id"] == rows[1]["story_id"]


@pytest.fixture()
def any_store(db_url):  # noqa: F811
    backend = Store(db_url)
    backend.sync_sources(
        [
            SourceInfo(
                "tribuna",
                "feed",
                "https://tribuna.example/feed",
                "Tribuna del Yaqui",
                "es",
                "America/Hermosillo",
            )
        ]
    )
    yield backend
    backend.close()


def test_a_change_is_sent_once_on_every_backend(any_store, receiver):
    rules = rule(receiver.url())
    alerted(any_store, rules)
    any_store.store([attack(TOLL_7)])
    for minutes in (2, 3):
        run(any_store, rules, NOW + timedelta(minutes=minutes))
    assert [r["title"] for r in receiver.received] == [
        f"[culiacan] {TITLE}",
        f"[culiacan] changed: {TITLE}",
    ]
    assert "[-Tres-]{+Siete+}" in receiver.received[1]["message"]


def test_a_headline_edit_and_a_second_edit_are_one_message_each(store, receiver):  # noqa: F811
    rules = rule(receiver.url())
    alerted(store, rules)
    store.store([attack(title="Ataque armado en un taller de Culiacán deja siete muertos")])
    store.store([attack(TOLL_7, title="Ataque armado en un taller de Culiacán deja siete muertos")])
    (report,) = run(store, rules, NOW + timedelta(minutes=2))
    assert report.sent == 2
    headline, toll = receiver.received[1:]
    assert (
        "title: Ataque armado en un taller de Culiacán{+ deja siete muertos+}"
        in (headline["message"])
    )
    assert "text:" not in headline["message"] and "version 2" in headline["message"]
    assert "[-Tres-]{+Siete+}" in toll["message"] and "version 3" in toll["message"]


def test_a_credit_line_only_edit_sends_nothing(store, receiver):  # noqa: F811
    rules = rule(receiver.url())
    alerted(store, rules)
    assert store.store([attack(CREDIT_ONLY)])[0].outcome == "updated"
    (report,) = run(store, rules, NOW + timedelta(minutes=2))
    assert report.matched == 0 and len(receiver.received) == 1


def test_a_change_of_a_story_never_alerted_never_alerts(store, receiver):  # noqa: F811
    store.store([attack()])  # stored before the rule started: never alerted
    rules = rule(receiver.url())
    run(store, rules, NOW)
    store.store([attack(TOLL_7)])
    (report,) = run(store, rules, NOW + timedelta(minutes=1))
    assert report.matched == 0 and receiver.received == []


def test_a_rule_without_changed_never_sends_change_messages(store, receiver):  # noqa: F811
    rules = rule(receiver.url(), on='["new"]')
    alerted(store, rules)
    store.store([attack(TOLL_7)])
    run(store, rules, NOW + timedelta(minutes=2))
    assert len(receiver.received) == 1
    # Adding "changed" later starts from then: the edit it did not watch is not sent.
    run(store, rule(receiver.url()), NOW + timedelta(minutes=3))
    assert len(receiver.received) == 1


def test_a_crash_between_match_and_send_sends_once_after(store, receiver):  # noqa: F811
    rules = rule(receiver.url())
    alerted(store, rules)
    store.store([attack(TOLL_7)])
    (matched,) = run(store, rules, NOW + timedelta(minutes=2), send=False)  # then the crash
    assert matched.matched == 1 and len(receiver.received) == 1
    (pending,) = store.pending_deliveries("culiacan", ("instant",))
    assert pending["payload"]["event"] == "changed"
    # The restarted daemon matches again (nothing new) and sends the pending change, once.
    for minutes in (5, 6):
        run(store, rules, NOW + timedelta(minutes=minutes))
    assert [r["title"] for r in receiver.received][1:] == [f"[culiacan] changed: {TITLE}"]


def test_a_withdrawn_story_is_a_change(store, receiver):  # noqa: F811
    rules = rule(receiver.url())
    alerted(store, rules)
    with store.engine.connect() as conn:
        ident = conn.execute(select(articles.c.id)).scalar_one()
    assert store.withdraw(ident, NOW + timedelta(minutes=2))
    run(store, rules, NOW + timedelta(minutes=3))
    assert "withdrawn: the page is gone (404/410)" in receiver.received[-1]["message"]


def test_quiet_hours_and_max_per_hour_apply_to_changes(store, receiver):  # noqa: F811
    rules = rule(receiver.url(), 'quiet_hours = "22:00-07:00"\nmax_per_hour = 2\n')
    alerted(store, rules)  # 11:00 local
    night = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # 23:00 in Hermosillo
    store.store([attack(TOLL_7)])
    run(store, rules, night)
    assert len(receiver.received) == 1  # held
    run(store, rules, night + timedelta(hours=8))  # 07:00 local
    held = receiver.received[-1]
    assert held["title"] == "[culiacan] during quiet hours: 1 changed story"
    assert "changed (1):" in held["message"] and "[-Tres-]{+Siete+}" in held["message"]
    # Three more edits at once, allowance 2 an hour: one message, then "2 more stories".
    day = night + timedelta(hours=10)
    for word in ("treinta", "cuarenta", "cincuenta"):
        store.store([attack(TOLL_7.replace("veinte", word))])
    run(store, rules, day)
    run(store, rules, day + timedelta(minutes=1))
    assert len(receiver.received) == 4
    assert "[-veinte-]{+treinta+}" in receiver.received[2]["message"]
    overflow = receiver.received[3]
    assert overflow["title"] == "[culiacan] 2 more stories"
    assert overflow["message"].count("changed: ") == 2


def test_a_digest_lists_changed_stories_in_their_own_group(store, receiver):  # noqa: F811
    rules = rule(receiver.url(), 'mode = "digest"\nschedule = "daily 07:30"\n')
    start = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 13:00 in Hermosillo
    run(store, rules, start)
    store.store([attack()])
    run(store, rules, datetime(2026, 3, 11, 14, 30, tzinfo=UTC))  # 07:30 local
    assert receiver.received[-1]["title"] == "[culiacan] digest: 1 story"
    store.store([attack(TOLL_7)])
    store.store([attack(BODY.replace("Culiacán", "Navolato"), source="otro", slug="otro")])
    run(store, rules, datetime(2026, 3, 11, 20, 0, tzinfo=UTC))
    run(store, rules, datetime(2026, 3, 12, 14, 30, tzinfo=UTC))
    digest = receiver.received[-1]
    assert digest["title"] == "[culiacan] digest: 1 story, 1 changed"
    text = digest["message"]
    assert text.index("El Otro Medio") < text.index("changed (1):") < text.index("[-Tres-]")


def test_change_email_has_escaped_html_diff(store):  # noqa: F811
    mail = MailSink()
    try:
        rules = rule(mail.url())
        alerted(store, rules)
        store.store([attack(BODY.replace("Tres personas", "<script>x</script> personas"))])
        run(store, rules, NOW + timedelta(minutes=2))
        message = mail.messages[-1]
        subject = str(make_header(decode_header(message["Subject"])))
        assert subject == f"[culiacan] changed: {TITLE}"
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        body = html.get_payload(decode=True).decode()
        assert "<del>Tres</del><ins>&lt;script&gt;x&lt;/script&gt;</ins>" in body
        assert "<script>" not in body
    finally:
        mail.close()


def test_cli_history_names_the_change(store, receiver, tmp_path):  # noqa: F811
    import json

    from typer.testing import CliRunner

    from scheduler.cli import app

    rules = rule(receiver.url())
    alerted(store, rules)
    store.store([attack(TOLL_7)])
    run(store, rules, NOW + timedelta(minutes=2))
    cfg = tmp_path / "sources.toml"
    cfg.write_text(SOURCES.format(defaults=""), encoding="utf-8")
    out = CliRunner().invoke(
        app, ["alerts", "history", "--config", str(cfg), "--db", store.url, "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    assert [r["what"] for r in json.loads(out.output)] == [f"changed (v2): {TITLE}", TITLE]


def test_migration_0011_starts_existing_rules_from_the_newest_version(store):  # noqa: F811
    """A rule that existed before the upgrade never alerts on edits recorded before it."""
    from alembic import command
    from sqlalchemy import text

    from storage.db import _alembic_config

    store.alert_rule("old", NOW)
    store.store([attack()])
    store.store([attack(TOLL_7)])
    config = _alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    with store.engine.connect() as conn:
        columns = [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(alert_rules)")]
    assert "last_version_id" not in columns
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT last_version_id FROM alert_rules")).scalar_one() == 1
