"""Alerts in one process, on real SQLite and real local channels (an HTTP receiver for Apprise's
json:// and form://, an aiosmtpd server for mailto://): exactly once per story, digests at their
time, quiet hours, max_per_hour, retries, health, and the rules' one-line config errors. The
clock is an argument: no test sleeps for a schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.alert_times import parse_quiet_hours, parse_schedule
from crawler.alerts import load_rules
from crawler.config import ConfigError, parse_config, parse_duration
from scheduler.alerts import run_alerts
from storage.store import Store
from storage.types import SourceInfo
from tests.support.copies import INDEPENDENT_REPORT, republished_copy
from tests.support.receiver import MailSink, Receiver
from tests.test_clusters import T0, copy_record, record, seed_record

NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)  # 11:00 in Hermosillo
SOURCES = """
[defaults]
timezone = "America/Hermosillo"
{defaults}
[[sources]]
name = "tribuna"
title = "Tribuna del Yaqui"
url = "https://tribuna.example/feed"
[[sources]]
name = "diario"
title = "El Diario Nacional"
url = "https://diario.example/feed"
[[sources]]
name = "otro"
title = "El Otro Medio"
url = "https://otro.example/feed"
"""


@pytest.fixture()
def receiver():
    rx = Receiver()
    yield rx
    rx.close()


@pytest.fixture()
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'alerts.sqlite'}")
    s.sync_sources(
        [
            SourceInfo("tribuna", "feed", "https://tribuna.example/feed", "Tribuna del Yaqui", "es", "America/Hermosillo"),
            SourceInfo("diario", "feed", "https://diario.example/feed", "El Diario Nacional", "es", "America/Mexico_City"),
            SourceInfo("otro", "feed", "https://otro.example/feed", "El Otro Medio", "es", "America/Mexico_City"),
        ]
    )  # fmt: skip
    yield s
    s.close()


def rules_of(rules: str, defaults: str = "", environ=None):
    config = parse_config(SOURCES.format(defaults=defaults) + rules, "sources.toml")
    return config, load_rules(config, environ or {})


def third_copy():
    text = republished_copy().replace("El Diario Nacional", "El Otro Medio")
    return record("otro", "reunion-grupo", text, T0 + timedelta(hours=3), "Segunda reunión")


def run(store, rules, now, **kw):
    return run_alerts(store, rules, now, failing_after=5, **kw)


# ---------------------------------------------------------------------------- times


def test_daily_schedule_follows_the_zone_across_dst():
    daily = parse_schedule("daily 07:30", parse_duration)
    # Mexico City still had DST in 2022: 07:30 was 13:30 UTC on April 2 and 12:30 UTC on April 3.
    before = datetime(2022, 4, 2, 12, 0, tzinfo=UTC)
    first = daily.next_after(before, "America/Mexico_City")
    assert first == datetime(2022, 4, 2, 13, 30, tzinfo=UTC)
    assert daily.next_after(first, "America/Mexico_City") == datetime(
        2022, 4, 3, 12, 30, tzinfo=UTC
    )
    # Since the end of DST in Mexico (Oct 2022) it is always UTC-6; Hermosillo is UTC-7 all year.
    assert daily.next_after(NOW, "America/Mexico_City") == datetime(2026, 3, 11, 13, 30, tzinfo=UTC)
    assert daily.next_after(NOW, "America/Hermosillo") == datetime(2026, 3, 11, 14, 30, tzinfo=UTC)
    # A wall time that a spring-forward skips fires an hour later that day, not never.
    gap = parse_schedule("daily 02:30", parse_duration)
    night = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST in New York, DST starts at 02:00
    assert gap.next_after(night, "America/New_York") == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_weekly_and_every_schedules():
    weekly = parse_schedule("weekly mon 08:00", parse_duration)
    # NOW is a Tuesday: the next Monday 08:00 in Hermosillo (UTC-7) is March 16, 15:00 UTC.
    assert weekly.next_after(NOW, "America/Hermosillo") == datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
    every = parse_schedule("every 4h", parse_duration)
    assert every.next_after(NOW, "UTC") == NOW + timedelta(hours=4)
    for bad in ("daily 25:00", "weekly xyz 08:00", "hourly", "every 5s"):
        with pytest.raises(ValueError):
            parse_schedule(bad, parse_duration)


def test_quiet_hours_across_midnight():
    quiet = parse_quiet_hours("22:00-07:00")
    zone = "America/Hermosillo"  # UTC-7
    at = lambda h, m=0: datetime(2026, 3, 10, h, m, tzinfo=UTC)  # noqa: E731
    assert quiet.contains(at(5), zone)  # 22:00 local
    assert quiet.contains(at(10), zone)  # 03:00 local
    assert not quiet.contains(at(14), zone)  # 07:00 local: the window has ended
    assert not quiet.contains(at(4, 59), zone)  # 21:59 local
    day = parse_quiet_hours("12:00-13:00")
    assert day.contains(at(19, 30), zone) and not day.contains(at(20, 0), zone)
    for bad in ("22-07", "07:00-07:00", "25:00-01:00"):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)


# ---------------------------------------------------------------------------- config errors


def test_bad_apprise_url_is_a_config_error_naming_the_rule_and_line():
    rule = '[[alerts]]\nname = "armas"\nquery = "armas"\nnotify = ["nosuchscheme://x"]\n'
    with pytest.raises(ConfigError) as err:
        rules_of(rule)
    message = str(err.value)
    assert message.startswith("sources.toml: line ")
    assert "rule armas" in message and "key 'notify'" in message and "Apprise cannot use" in message
    line = int(message.split("line ")[1].split(":")[0])
    text = (SOURCES.format(defaults="") + rule).splitlines()
    assert text[line - 1] == 'notify = ["nosuchscheme://x"]'
    # The sources file still loads: crawl and search are not blocked by a rule.
    parse_config(SOURCES.format(defaults="") + '[[alerts]]\nname = "armas"\nnotify = ["x"]\n')


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            'name = "a"\nquery = "x"\nnotify = ["json://h/"]\nmaxper_hour = 3',
            "did you mean 'max_per_hour'",
        ),
        (
            'name = "a"\nquery = "x"\nnotify = ["env:SLACK_ALERTS_URL"]',
            "SLACK_ALERTS_URL",
        ),
        ('name = "a"\nquery = "\\"unclosed"\nnotify = ["json://h/"]', "bad query"),
        ('name = "a"\nquery = "x"\nmode = "digest"\nnotify = ["json://h/"]', "needs a schedule"),
        (
            'name = "a"\nquery = "x"\nmode = "digets"\nnotify = ["json://h/"]',
            "did you mean 'digest'",
        ),
        (
            'name = "a"\nquery = "x"\nsources = ["tribna"]\nnotify = ["json://h/"]',
            "did you mean 'tribuna'",
        ),
        (
            'name = "a"\nquery = "x"\non = ["new", "gone"]\nnotify = ["json://h/"]',
            "unknown value 'gone'",
        ),
        ('name = "a"\nhealth = true\nsilent_after = "2x"\nnotify = ["json://h/"]', "bad duration"),
        ('name = "a"\nquery = "x"', "at least one Apprise URL"),
        ('name = "a"\nnotify = ["json://h/"]', "give a query or a filter"),
    ],
)
def test_rule_errors_are_one_line(rule, expected):
    with pytest.raises(ConfigError) as err:
        rules_of("[[alerts]]\n" + rule + "\n")
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_env_channel_is_read_from_the_environment(receiver):
    _, (rule,) = rules_of(
        '[[alerts]]\nname = "a"\nquery = "x"\nnotify = ["env:NW_HOOK"]\n',
        environ={"NW_HOOK": receiver.url()},
    )
    assert rule.notify == (receiver.url(),) and rule.channels == ("env:NW_HOOK",)


# ---------------------------------------------------------------------------- exactly once


def test_one_alert_for_a_story_published_by_three_outlets(store, receiver):
    config, rules = rules_of(
        f'[[alerts]]\nname = "cortafuegos"\nquery = "mision cortafuegos"\nnotify = ["{receiver.url()}", "{receiver.url("form", "form")}"]\n',
        defaults='web_url = "http://news.example:8000/"',
    )
    titles = {s.name: s.title for s in config.sources}
    run(store, rules, NOW)  # the rule starts now: nothing stored yet
    store.store([seed_record()])
    store.store([copy_record()])
    store.store([third_copy(), record("otro", "independiente", INDEPENDENT_REPORT, T0)])
    (report,) = run(store, rules, NOW + timedelta(minutes=1), titles=titles)
    assert report.matched == 2  # the story with three outlets, and the independent report
    json_hits = [r for r in receiver.received if r["path"] == "/hook"]
    form_hits = [r for r in receiver.received if r["path"] == "/form"]
    assert len(json_hits) == len(form_hits) == 2
    story = next(r for r in json_hits if "Realizan" in r["title"])
    assert "also in: El Diario Nacional, El Otro Medio" in story["message"]
    assert "Tribuna del Yaqui · 2025-12-11 16:00 (UTC)" in story["message"]
    assert "«Cortafuegos»" in story["message"]
    assert "http://news.example:8000/stories/" in story["message"]
    # A fourth copy and later passes never alert that story again.
    store.store([record("otro", "cuarta-copia", republished_copy(), T0, "Cuarta copia")])
    (again,) = run(store, rules, NOW + timedelta(minutes=2), titles=titles)
    assert again.matched == 0 and len(receiver.received) == 4
    assert [r["state"] for r in store.delivery_history("cortafuegos")] == ["sent", "sent"]


def test_new_rule_starts_now_renamed_rule_never_resends(store, receiver):
    store.store([seed_record()])
    _, rules = rules_of(
        f'[[alerts]]\nname = "a"\nquery = "cortafuegos"\nnotify = ["{receiver.url()}"]\n'
    )
    run(store, rules, NOW)
    assert receiver.received == []  # stored before the rule existed
    store.store([record("otro", "independiente", INDEPENDENT_REPORT, T0)])
    run(store, rules, NOW)
    assert len(receiver.received) == 1
    _, renamed = rules_of(
        f'[[alerts]]\nname = "b"\nquery = "cortafuegos"\nnotify = ["{receiver.url()}"]\n'
    )
    run(store, renamed, NOW)
    assert len(receiver.received) == 1
    store.alert_rule("c", NOW, backfill=True)  # newswatch alerts backfill c
    _, backfilled = rules_of(
        f'[[alerts]]\nname = "c"\nquery = "cortafuegos"\nnotify = ["{receiver.url()}"]\n'
    )
    run(store, backfilled, NOW)
    assert len(receiver.received) == 3


def test_channel_answering_500_is_retried_with_backoff_and_sent_once(store, receiver):
    _, rules = rules_of(
        f'[[alerts]]\nname = "a"\nquery = "cortafuegos"\nnotify = ["{receiver.url()}"]\n'
    )
    run(store, rules, NOW)
    store.store([seed_record()])
    receiver.fail_next = 1
    (first,) = run(store, rules, NOW)
    assert first.failed == 1 and receiver.received == []
    (row,) = store.delivery_history("a")
    assert row["state"] == "pending" and row["attempts"] == 1 and row["last_error"]
    assert store.delivery_counts()["a"]["failing"] == 1
    run(store, rules, NOW + timedelta(seconds=30))  # before the backoff ends: no attempt
    assert receiver.received == [] and store.delivery_history("a")[0]["attempts"] == 1
    run(store, rules, NOW + timedelta(seconds=61))
    run(store, rules, NOW + timedelta(seconds=600))
    assert len(receiver.received) == 1
    (row,) = store.delivery_history("a")
    assert row["state"] == "sent" and row["attempts"] == 2


def test_digest_at_its_scheduled_time_grouped_by_story(store, receiver):
    _, rules = rules_of(
        f'[[alerts]]\nname = "manana"\nquery = "cortafuegos OR reunion"\nmode = "digest"\n'
        f'schedule = "daily 07:30"\nnotify = ["{receiver.url()}"]\n'
    )
    start = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 13:00 in Hermosillo
    run(store, rules, start)
    store.store([seed_record(), record("otro", "independiente", INDEPENDENT_REPORT, T0)])
    run(store, rules, start + timedelta(hours=1))
    store.store([copy_record()])  # a later copy: no new entry, but the digest shows its outlet
    run(store, rules, datetime(2026, 3, 11, 14, 29, tzinfo=UTC))  # 07:29 local
    assert receiver.received == []
    run(store, rules, datetime(2026, 3, 11, 14, 30, tzinfo=UTC))  # 07:30 local
    (digest,) = receiver.received
    assert digest["title"] == "[manana] digest: 2 stories"
    assert "also in: diario" in digest["message"] and "(2 article(s))" in digest["message"]
    run(store, rules, datetime(2026, 3, 12, 14, 30, tzinfo=UTC))  # nothing new next morning
    assert len(receiver.received) == 1


def test_quiet_hours_hold_alerts_and_send_one_message_when_they_end(store, receiver):
    _, rules = rules_of(
        f'[[alerts]]\nname = "a"\nquery = "cortafuegos OR reunion"\nquiet_hours = "22:00-07:00"\n'
        f'notify = ["{receiver.url()}"]\n'
    )
    night = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # 23:00 in Hermosillo
    run(store, rules, night)
    store.store([seed_record(), record("otro", "independiente", INDEPENDENT_REPORT, T0)])
    run(store, rules, night + timedelta(minutes=5))
    run(store, rules, night + timedelta(hours=7))  # 06:00 local
    assert receiver.received == []
    run(store, rules, night + timedelta(hours=8))  # 07:00 local
    (message,) = receiver.received
    assert message["title"] == "[a] during quiet hours: 2 stories"


def test_max_per_hour_turns_a_flood_into_n_more_stories(store, receiver):
    _, rules = rules_of(
        f'[[alerts]]\nname = "a"\nquery = "detuvieron"\nmax_per_hour = 2\nnotify = ["{receiver.url()}"]\n'
    )
    from tests.support.copies import template_brief

    run(store, rules, NOW)
    briefs = [
        record("otro", f"detenido-{i}", template_brief(f"Persona {i} Apellido{i}", 20 + i, f"Colonia {i}", "Hermosillo", "robo"), T0)
        for i in range(5)
    ]  # fmt: skip
    store.store(briefs)
    run(store, rules, NOW)
    titles = [r["title"] for r in receiver.received]
    assert len(titles) == 2 and titles[1].endswith(" more stories")
    assert all(r["state"] == "sent" for r in store.delivery_history("a"))


def test_email_has_text_and_html_bodies(store):
    mail = MailSink()
    try:
        _, rules = rules_of(
            f'[[alerts]]\nname = "a"\nquery = "cortafuegos"\nnotify = ["{mail.url()}"]\n'
        )
        run(store, rules, NOW)
        store.store([seed_record()])
        run(store, rules, NOW)
        (message,) = mail.messages
        kinds = {part.get_content_type() for part in message.walk()}
        assert {"text/plain", "text/html"} <= kinds
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        assert "<mark>Cortafuegos</mark>" in html.get_payload(decode=True).decode()
    finally:
        mail.close()


def test_source_going_silent_failing_and_recovering(store, receiver):
    _, rules = rules_of(
        f'[[alerts]]\nname = "salud"\nhealth = true\nsilent_after = "2d"\nsources = ["tribuna", "diario"]\n'
        f'notify = ["{receiver.url()}"]\n'
    )
    store.store([seed_record(), copy_record()])
    now = datetime.now(UTC)
    run(store, rules, now)
    assert receiver.received == []  # the rule starts from the current states
    for _ in range(5):
        store.record_source_result("diario", False, "HTTP 503", interval=600)
    run(store, rules, now + timedelta(minutes=1))
    assert receiver.received[-1]["title"] == "[salud] source diario is failing"
    assert "HTTP 503" in receiver.received[-1]["message"]
    store.record_source_result("diario", True, None, interval=600)
    run(store, rules, now + timedelta(minutes=2))
    assert receiver.received[-1]["title"] == "[salud] source diario has recovered"
    run(store, rules, now + timedelta(days=2, minutes=3))
    assert sorted(r["title"] for r in receiver.received[2:]) == [
        "[salud] source diario has gone silent",
        "[salud] source tribuna has gone silent",
    ]
    run(store, rules, now + timedelta(days=2, minutes=4))
    assert len(receiver.received) == 4


# ---------------------------------------------------------------------------- CLI


def test_alerts_cli_list_history_test_and_status(store, receiver, tmp_path):
    import json

    from typer.testing import CliRunner

    from scheduler.cli import app

    rule = f'[[alerts]]\nname = "a"\nquery = "cortafuegos"\nnotify = ["{receiver.url()}"]\n'
    cfg = tmp_path / "sources.toml"
    cfg.write_text(SOURCES.format(defaults="") + rule, encoding="utf-8")
    _, rules = rules_of(rule)
    run(store, rules, NOW)
    store.store([seed_record()])
    receiver.fail_next = 1
    run(store, rules, NOW)
    cli = CliRunner()
    common = ["--config", str(cfg), "--db", store.url]
    listed = cli.invoke(app, ["alerts", "list", *common, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert (row["rule"], row["pending"], row["failing"], row["sent"]) == ("a", 1, 1, 0)
    assert row["channels"] == [receiver.url().rsplit(":", 1)[0]]  # no path or secret shown
    status = cli.invoke(app, ["status", *common])
    assert "alerts a: 1 pending, 1 failing" in status.output
    preview = cli.invoke(app, ["alerts", "test", "a", *common])
    assert preview.exit_code == 0 and "Realizan segunda reunión" in preview.output
    assert len(receiver.received) == 0  # test renders; nothing is sent without --send
    sent = cli.invoke(app, ["alerts", "test", "a", *common, "--send"])
    assert sent.exit_code == 0 and len(receiver.received) == 1
    history = cli.invoke(app, ["alerts", "history", "a", *common, "--format", "csv"])
    assert history.exit_code == 0 and "Realizan segunda reunión" in history.output
    unknown = cli.invoke(app, ["alerts", "test", "b", *common])
    assert unknown.exit_code == 2 and "unknown rule 'b'" in unknown.output
    bad = cli.invoke(app, ["alerts", "list", *common, "--format", "xml"])
    assert bad.exit_code == 2 and "--format must be one of" in bad.output
