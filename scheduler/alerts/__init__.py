"""Alerts: match rules against what each crawl run stored (:mod:`.evaluate`), render messages
(:mod:`.render`) and send them through Apprise, each delivery row marked as it succeeds
(:mod:`.send`). The daemon calls :func:`run_alerts` after every run and on a periodic job."""

from scheduler.alerts.evaluate import RuleReport, match_rule, run_alerts

__all__ = ["RuleReport", "match_rule", "run_alerts"]
