"""Alerts through the real daemon process against the fixture sites, with a local receiver:
one message per story across outlets, ``kill -9`` between match and send (sent exactly once
after the restart), and a rule with a bad Apprise URL stopping the start with a clear error."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.receiver import Receiver
from tests.test_daemon import count, daemons, fast_config, wait_until  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture()
def receiver():
    rx = Receiver()
    yield rx
    rx.close()


def with_rule(cfg: Path, rule: str) -> Path:
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[[alerts]]\n" + rule, encoding="utf-8")
    return cfg


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args], capture_output=True, text=True, timeout=120
    )


def backfilled(cfg: Path, db: Path, rule: str) -> None:
    """Start the rule from an empty database before the daemon's first crawl, so the first
    run's stories are new to it whichever of the daemon's threads looks first."""
    assert cli("db", "init", "--db", str(db)).returncode == 0
    result = cli("alerts", "backfill", rule, "--config", str(cfg), "--db", str(db))
    assert result.returncode == 0, result.stderr


def test_daemon_sends_one_alert_per_story_across_outlets(site, tmp_path, daemons, receiver):  # noqa: F811
    db = tmp_path / "e2e.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "1h", ["tribuna", "sitemapsite"])
    with_rule(
        cfg, f'name = "cortafuegos"\nquery = "mision cortafuegos"\nnotify = ["{receiver.url()}"]\n'
    )
    backfilled(cfg, db, "cortafuegos")
    d = daemons(cfg, db)
    wait_until(lambda: count(db, "select count(distinct source) from articles") >= 2, 90)
    wait_until(lambda: receiver.received, 60)
    wait_until(lambda: count(db, "select count(*) from crawl_runs where outcome = 'ok'") >= 2, 60)
    wait_until(lambda: count(db, "select count(*) from alert_deliveries where state = 'sent'"), 30)
    d.stop()
    (message,) = receiver.received
    assert message["title"].startswith("[cortafuegos] ")
    assert "Cortafuegos" in message["message"]
    listing = cli("alerts", "list", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert listing.returncode == 0, listing.stderr
    assert '"sent": 1' in listing.stdout and '"pending": 0' in listing.stdout


def test_kill_9_between_match_and_send_sends_exactly_once(site, tmp_path, daemons, receiver):  # noqa: F811
    db = tmp_path / "k.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "1h", ["tribuna"])
    base = cfg.read_text(encoding="utf-8")
    # Quiet hours around the present hold the matched stories in the database, unsent: the
    # deterministic window between "matched" and "sent" that kill -9 lands in.
    now = datetime.now(UTC)
    quiet = f"{(now - timedelta(hours=1)):%H:00}-{(now + timedelta(hours=2)):%H:00}"
    rule = f'name = "armas"\nquery = "armas OR cortafuegos"\ntimezone = "UTC"\nnotify = ["{receiver.url()}"]\n'
    with_rule(cfg, rule + f'quiet_hours = "{quiet}"\n')
    backfilled(cfg, db, "armas")
    d = daemons(cfg, db)
    pending = "select count(*) from alert_deliveries where state = 'pending'"
    wait_until(lambda: count(db, pending), 90)
    d.stop(signal.SIGKILL)
    held = count(db, pending)
    assert receiver.received == [] and held >= 1
    cfg.write_text(base, encoding="utf-8")
    with_rule(cfg, rule)  # the same rule, now without quiet hours
    d2 = daemons(cfg, db)
    wait_until(
        lambda: count(db, "select count(*) from alert_deliveries where state = 'sent'") >= held, 60
    )
    sent_titles = [r["title"] for r in receiver.received]
    d2.stop()
    assert len(sent_titles) == len(set(sent_titles)) >= 1
    assert count(db, "select count(*) from alert_deliveries where state = 'sent'") == count(
        db, "select count(*) from alert_deliveries"
    )
    assert len(receiver.received) == len(sent_titles)


def test_bad_apprise_url_stops_the_daemon_with_a_clear_error(site, tmp_path, daemons):  # noqa: F811
    db = tmp_path / "b.sqlite"
    cfg = fast_config(tmp_path / "s.toml", site.base_url, "1h", ["tribuna"])
    with_rule(cfg, 'name = "armas"\nquery = "armas"\nnotify = ["nosuchscheme://x"]\n')
    d = daemons(cfg, db)
    assert d.proc.wait(60) == 2
    error = d.logtext().strip().splitlines()[-1]
    assert "config error" in error and "rule armas" in error and "key 'notify'" in error
    assert "Traceback" not in d.logtext()
    # Nothing else is blocked: a crawl with the same file still runs.
    crawl = cli("crawl", "tribuna", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert crawl.returncode in (0, 1) and "config error" not in crawl.stderr
