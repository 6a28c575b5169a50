"""The daemon's side of alerts: load the rules with the config, and run one pass after each crawl
run finishes and on a periodic job (digests, the end of quiet hours, retries), off the daemon's
main loop so a slow channel never delays a heartbeat."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from crawler.alerts import AlertRule, load_rules
from crawler.config import Config
from scheduler.alerts.evaluate import run_alerts
from storage.store import Store

log = logging.getLogger("newswatch.alerts")

ALERTS_EVERY = 30.0
"""Seconds between the periodic passes: digest times and quiet-hour ends are met this closely."""
JOB_ID = "alerts:check"
"""The periodic job's id: a colon keeps it apart from every source name."""


class DaemonAlerts:
    """The rules of the loaded config and a lock so two passes never overlap."""

    def __init__(self, store: Store, failing_after: int) -> None:
        self.store = store
        self.failing_after = failing_after
        self.rules: tuple[AlertRule, ...] = ()
        self.titles: dict[str, str] = {}
        self.sources: list[str] = []
        self.lock = threading.Lock()

    def load(self, config: Config) -> None:
        """Validate the rules (a ConfigError naming the rule stops the start or the reload)."""
        rules = load_rules(config)
        self.rules = rules
        self.titles = {s.name: s.title for s in config.sources}
        self.sources = [s.name for s in config.sources if s.enabled]
        if rules:
            log.info("alerts: %d rule(s): %s", len(rules), ", ".join(r.name for r in rules))

    def run(self) -> None:
        """One pass (APScheduler job); errors are logged, never raised into the scheduler."""
        if not self.rules or not self.lock.acquire(blocking=False):
            return
        try:
            run_alerts(
                self.store,
                self.rules,
                datetime.now(UTC),
                failing_after=self.failing_after,
                titles=self.titles,
                sources=self.sources,
            )
        except Exception:
            log.exception("alerts: pass failed")
        finally:
            self.lock.release()
