"""Sending one message to a rule's channels through Apprise, and recording it: each channel that
accepted it is written at once, the rows are marked sent when every channel has it, and a failure
schedules a retry with backoff. A crash before a channel's success is recorded may resend to that
channel (at least once, never twice after a recorded success)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from crawler.alerts import AlertRule
from scheduler.alerts.render import Message
from storage.store import Store

log = logging.getLogger("newswatch.alerts")

RETRY_AFTER = 60.0
"""The first retry's delay in seconds; each failure doubles it, at most a day."""
GIVE_UP_AFTER = 12
EMAIL_SCHEMES = ("mailto", "mailtos")


def deliver(
    store: Store, rule: AlertRule, rows: list[dict[str, Any]], message: Message, now: datetime
) -> bool:
    """Send ``message`` for ``rows`` to every channel not yet done; True when all have it."""
    import apprise

    ids = [row["id"] for row in rows]
    done = set.intersection(*(set(row.get("channels_sent") or []) for row in rows))
    title, text, body_html = message
    errors: list[str] = []
    for index, url in enumerate(rule.notify):
        if index in done:
            continue
        notifier = apprise.Apprise()
        notifier.add(url)
        email = url.split(":", 1)[0].lower() in EMAIL_SCHEMES
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = notifier.notify(
                title=title,
                body=body_html if email else text,
                body_format=apprise.NotifyFormat.HTML if email else apprise.NotifyFormat.TEXT,
            )
        if ok:
            store.delivery_channel_sent(ids, index)
            continue
        why = " ".join(captured.getvalue().split())[-300:] or "the channel refused the message"
        errors.append(f"{rule.channels[index]}: {why}")
    if not errors:
        store.deliveries_sent(ids, now)
        log.info("alert %s: sent %r", rule.name, title)
        return True
    store.deliveries_failed(ids, "; ".join(errors), now, RETRY_AFTER, GIVE_UP_AFTER)
    log.warning("alert %s: not sent, will retry: %s", rule.name, "; ".join(errors))
    return False
