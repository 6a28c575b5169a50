"""``newswatch alerts test``: what a rule would send now, without touching its state."""

from __future__ import annotations

from crawler.alerts import AlertRule
from crawler.config import Config
from scheduler.alerts.evaluate import matching_stories, refresh_stories
from scheduler.alerts.render import Message, stories_message
from storage.store import Store

EXAMPLES = 5


def preview(
    url: str, config: Config, rule: AlertRule, *, send: bool = False
) -> tuple[str, str, bool]:
    """(title, text, sent): what the rule would send now (pending and new stories), else its
    latest matches as an example. ``send`` sends it as a test; no delivery row is written."""
    titles = {s.name: s.title for s in config.sources}
    store = Store(url)
    try:
        if rule.health:
            message: Message = (
                f"[{rule.name}] health rule",
                "notifies when a source starts failing, recovers"
                + (" or goes silent" if rule.silent_after else ""),
                "",
            )
        else:
            stories, heading = _what_now(store, rule)
            message = (
                stories_message(rule.name, stories, titles, rule.web_url, heading)
                if stories
                else (f"[{rule.name}] nothing to send", "no stored story matches this rule", "")
            )
        sent = _send(rule, message) if send else False
    finally:
        store.close()
    return message[0], message[1], sent


def _send(rule: AlertRule, message: Message) -> bool:
    import apprise

    notifier = apprise.Apprise()
    for url in rule.notify:
        notifier.add(url)
    title, text, _ = message
    return bool(notifier.notify(title=title, body=text))


def _what_now(store: Store, rule: AlertRule) -> tuple[list[dict], str | None]:
    """Pending deliveries and stories new since the rule's watermark; else, when there are
    none, its latest matches as an example of what it sends."""
    state = store.alert_rules_state().get(rule.name)
    upto = store.max_article_id()
    kinds = ("digest",) if rule.mode == "digest" else ("instant",)
    stories = [r["payload"] for r in store.pending_deliveries(rule.name, kinds)] if state else []
    if state and upto > state["last_id"]:
        known = {s["story_id"] for s in stories}
        fresh = matching_stories(store, rule, (state["last_id"], upto))
        stories += [s for s in fresh if s["story_id"] not in known]
    heading = "digest" if rule.mode == "digest" else None
    if not stories:
        stories = matching_stories(store, rule, (max(upto - 5000, 0), upto))[:EXAMPLES]
        heading = "example, nothing new to send"
    elif len(stories) > 1 and heading is None:
        heading = "to send now"
    return refresh_stories(store, stories), heading
