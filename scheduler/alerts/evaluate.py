"""Matching rules against what was stored, and deciding what to send now.

A rule reads the articles stored since its watermark (an article id, so the crawl's clock and the
test's clock never disagree) with the search language and filters of ``newswatch search``; a
story is new to the rule when its first article was stored after the rule started. Each match is
a delivery row, unique per (rule, story): a later copy of an alerted story never alerts again.
A rule with ``on = ["new", "changed"]`` also reads the versions recorded since its other
watermark and queues the substantive edits of stories it alerted (:mod:`.changes`).
Time is the ``now`` argument everywhere, so tests move the clock instead of sleeping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crawler.alerts import AlertRule
from scheduler.alerts.changes import match_changes, story_id_of
from scheduler.alerts.render import health_message, overflow_message, stories_message
from scheduler.alerts.send import deliver
from storage import clusters
from storage.search import Analysis, search
from storage.store import Store

log = logging.getLogger("newswatch.alerts")
PAGE = 200


@dataclass
class RuleReport:
    """What one pass did for one rule: stories matched, messages sent or failed."""

    rule: str
    matched: int = 0
    sent: int = 0
    failed: int = 0
    messages: list[tuple[str, str, str]] = field(default_factory=list)


def run_alerts(
    store: Store,
    rules: tuple[AlertRule, ...],
    now: datetime,
    *,
    failing_after: int,
    titles: dict[str, str] | None = None,
    sources: list[str] | None = None,
    send: bool = True,
) -> list[RuleReport]:
    """One pass over every rule: match what is new, then send what is due."""
    titles = titles or {}
    reports = []
    for rule in rules:
        report = RuleReport(rule.name)
        try:
            if rule.health:
                report.matched = check_health(store, rule, now, failing_after, sources or [])
            else:
                report.matched = match_rule(store, rule, now) + match_changes(store, rule, now)
            if send:
                send_due(store, rule, now, titles, report)
        except Exception:  # one broken rule or channel must not stop the others or the daemon
            log.exception("alert %s: evaluation failed", rule.name)
        reports.append(report)
    return reports


def match_rule(store: Store, rule: AlertRule, now: datetime, backfill: bool = False) -> int:
    """Queue a delivery for every story new to ``rule`` among the articles stored since its
    watermark; returns how many were queued."""
    state = store.alert_rule(rule.name, now, backfill)
    upto = store.max_article_id()
    if upto <= state["last_id"]:
        store.queue_deliveries(rule.name, [], now)
        return 0
    stories = matching_stories(store, rule, (state["last_id"], upto))
    firsts = store.story_first_ids([s["story_id"] for s in stories])
    kind = "digest" if rule.mode == "digest" else "instant"
    items = [
        {"key": f"story:{s['story_id']}", "story_id": s["story_id"], "kind": kind, "payload": s}
        for s in stories
        if firsts.get(s["story_id"], s["id"]) > state["start_id"]
    ]
    return store.queue_deliveries(rule.name, items, now, last_id=upto)


def matching_stories(
    store: Store, rule: AlertRule, id_range: tuple[int, int]
) -> list[dict[str, Any]]:
    analysis = Analysis(
        topics=rule.topics,
        entities=rule.entities,
        min_score=rule.min_relevance,
        relevant=rule.relevant,
    )
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = search(
            store.url,
            rule.query,
            sources=list(rule.sources) or None,
            languages=list(rule.languages) or None,
            analysis=analysis,
            id_range=id_range,
            limit=PAGE,
            offset=offset,
            with_text=False,
        )
        out += [summary(record) for record in page]
        if len(page) < PAGE:
            return out
        offset += PAGE


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """What a delivery keeps of the matched article: enough to render without the text."""
    keys = ("id", "url", "source", "title", "published_at", "language", "snippet", "copies")
    item = {k: record.get(k) for k in keys}
    item["outlets"] = list(record.get("outlets") or [])
    item["story_id"] = story_id_of(record.get("cluster_id"), record["id"])
    return item


def refresh_stories(store: Store, stories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stories' current outlets and copies: a digest shows copies stored after the match."""
    with store.engine.connect() as conn:
        info = clusters.cluster_info(conn, [s["story_id"] for s in stories])
    for story in stories:
        item = info.get(story["story_id"])
        if item:
            story["outlets"], story["copies"] = list(item["outlets"]), item["copies"]
    return stories


def send_due(
    store: Store, rule: AlertRule, now: datetime, titles: dict[str, str], report: RuleReport
) -> None:
    if rule.health:
        for row in store.pending_deliveries(rule.name, ("health",), now):
            _deliver(
                store, rule, [row], health_message(rule.name, row["payload"], titles), now, report
            )
    elif rule.mode == "digest":
        _send_digest(store, rule, now, titles, report)
    else:
        _send_instant(store, rule, now, titles, report)


def _deliver(store, rule, rows, message, now, report: RuleReport) -> None:
    ok = deliver(store, rule, rows, message, now)
    report.sent += ok
    report.failed += not ok
    report.messages.append(message)


def _send_instant(store, rule: AlertRule, now, titles, report: RuleReport) -> None:
    """One message per story; stories held in quiet hours as one message when they end;
    past ``max_per_hour``, the rest as one "N more stories" message."""
    quiet = rule.quiet_hours
    if quiet is not None and quiet.contains(now, rule.timezone):
        return
    rows = store.pending_deliveries(rule.name, ("instant",), now)
    held = [r for r in rows if quiet is not None and quiet.contains(r["matched_at"], rule.timezone)]
    rest = [r for r in rows if r not in held]
    if held:
        stories = refresh_stories(store, [r["payload"] for r in held])
        message = stories_message(rule.name, stories, titles, rule.web_url, "during quiet hours")
        _deliver(store, rule, held, message, now, report)
    budget = len(rest)
    if rule.max_per_hour is not None:
        budget = rule.max_per_hour - store.sent_since(rule.name, now - timedelta(hours=1))
        if budget <= 0:
            return  # the hour's allowance is spent: they wait, still pending
        if len(rest) > budget:
            budget -= 1  # the last message of the hour says "N more stories"
    for row in rest[:budget]:
        stories = refresh_stories(store, [row["payload"]])
        _deliver(
            store,
            rule,
            [row],
            stories_message(rule.name, stories, titles, rule.web_url),
            now,
            report,
        )
    overflow = rest[budget:]
    if overflow:
        message = overflow_message(rule.name, [r["payload"] for r in overflow], titles)
        _deliver(store, rule, overflow, message, now, report)


def digest_due(store: Store, rule: AlertRule, now: datetime) -> datetime:
    """When the rule's next digest is due: the first schedule time after the last digest (or
    after the rule started)."""
    state = store.alert_rule(rule.name, now)
    last = state["last_digest_at"] or state["created_at"]
    return rule.schedule.next_after(last, rule.timezone)


def _send_digest(store, rule: AlertRule, now, titles, report: RuleReport) -> None:
    if now < digest_due(store, rule, now):
        return
    waiting = store.pending_deliveries(rule.name, ("digest",))
    rows = store.pending_deliveries(rule.name, ("digest",), now)
    if waiting and not rows:
        return  # a failed digest waits for its retry time
    if rows:
        stories = refresh_stories(store, [r["payload"] for r in rows])
        message = stories_message(rule.name, stories, titles, rule.web_url, "digest")
        ok_before = report.sent
        _deliver(store, rule, rows, message, now, report)
        if report.sent == ok_before:
            return
    store.set_last_digest(rule.name, now)


def check_health(
    store: Store, rule: AlertRule, now: datetime, failing_after: int, configured: list[str]
) -> int:
    """Queue a delivery for each source whose state (ok, failing, silent) changed since the
    rule last looked; a source seen for the first time is only recorded (the rule starts now)."""
    store.alert_rule(rule.name, now)
    states = store.source_states()
    stored = store.last_stored()
    before = store.health_states(rule.name)
    items = []
    for source in rule.sources or tuple(configured):
        state = states.get(source, {})
        current = "ok"
        if (state.get("consecutive_failures") or 0) >= failing_after:
            current = "failing"
        elif (
            rule.silent_after
            and stored.get(source)
            and now - stored[source] > timedelta(seconds=rule.silent_after)
        ):
            current = "silent"
        previous = before.get(source)
        if previous is not None and previous["state"] == current:
            continue
        store.set_health_state(rule.name, source, current, now)
        if previous is None:
            continue
        event = {
            "source": source,
            "state": current,
            "previous": previous["state"],
            "last_error": state.get("last_error"),
            "last_stored": stored[source].isoformat() if stored.get(source) else None,
        }
        items.append(
            {
                "key": f"health:{source}:{current}:{now.isoformat()}",
                "kind": "health",
                "payload": event,
            }
        )
    return store.queue_deliveries(rule.name, items, now)
