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
    """(title, text, sent): the stories new to the rule since it last looked, else its latest
    matches as an example. ``send`` sends it as a test; no delivery row is written."""
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
            state = store.alert_rules_state().get(rule.name)
            upto = store.max_article_id()
            after = state["last_id"] if state else max(upto - 5000, 0)
            stories = matching_stories(store, rule, (after, upto))
            stories = refresh_stories(store, stories[:EXAMPLES] if not state else stories)
            heading = "digest" if rule.mode == "digest" else ("test" if len(stories) != 1 else None)
            message = (
                stories_message(rule.name, stories, titles, rule.web_url, heading)
                if stories
                else (f"[{rule.name}] nothing to send now", "no new matching stories", "")
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
