"""Alerts on changed stories: a rule with ``on = ["new", "changed"]`` tells its channels, once,
when a story it already told them about is edited in substance (a toll, a headline, a quote; a
withdrawn page), with what changed.

The rule reads the article versions recorded since its watermark (an ``article_versions`` id,
:func:`storage.versions.changed_since`, minor edits left out there). A change is queued only for
a story whose "new story" message the rule has sent: a change of a story never told is not news
to the reader, and the story's own message already shows its text. Each change is a delivery
row keyed ``change:<article>:<version>`` under the deliveries' unique (rule, key), so it is sent
exactly once per (rule, story, version) and goes through the same quiet hours, ``max_per_hour``,
digests and retries as a new story.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.alerts import AlertRule
from storage.store import Store
from storage.versions import changed_since, history, trim_unchanged, word_diff

DIFF_CONTEXT = 60
"""Characters of unchanged text kept on each side of an edit: enough to read the sentence."""
MAX_DIFF = 1200
"""At most this many characters of the body's diff in a message; the link has the rest."""


def story_id_of(cluster_id: int | None, article_id: int) -> int:
    """The story an article belongs to: its cluster, or itself when it has none."""
    return cluster_id or article_id


def match_changes(store: Store, rule: AlertRule, now: datetime) -> int:
    """Queue a delivery for each substantive change of a story the rule has alerted, among the
    versions recorded since its watermark; returns how many were queued. A rule without
    "changed" only moves its watermark, so adding "changed" later starts from then."""
    state = store.alert_rule(rule.name, now)
    after, upto = state["last_version_id"], store.max_version_id()
    if upto <= after:
        return 0
    items = change_items(store, rule, after, upto) if "changed" in rule.on else []
    return store.queue_deliveries(rule.name, items, now, last_version_id=upto)


def change_items(store: Store, rule: AlertRule, after: int, upto: int) -> list[dict[str, Any]]:
    """The delivery items of the substantive changes in (after, upto] that concern the rule."""
    changes = [
        c
        for c in changed_since(store.engine, after_id=after, upto_id=upto)
        if (not rule.sources or c["source"] in rule.sources)
        and (not rule.languages or c["language"] in rule.languages)
    ]
    for change in changes:
        change["story_id"] = story_id_of(change["cluster_id"], change["article_id"])
    alerted = store.alerted_stories(rule.name, sorted({c["story_id"] for c in changes}))
    kind = "digest" if rule.mode == "digest" else "instant"
    versions: dict[int, list[dict[str, Any]]] = {}
    items = []
    for change in changes:
        if change["story_id"] not in alerted:
            continue
        article = change["article_id"]
        if article not in versions:
            versions[article] = history(store.engine, article) or []
        payload = change_payload(change, versions[article])
        if payload is None:
            continue
        items.append(
            {
                "key": f"change:{article}:{change['version']}",
                "story_id": change["story_id"],
                "kind": kind,
                "payload": payload,
            }
        )
    return items


def change_payload(change: dict[str, Any], versions: list[dict[str, Any]]) -> dict | None:
    """What a change message needs, kept in the delivery row so a resend shows the same thing:
    the article, the version it became, the title before and a short word diff of the body."""
    seq = change["version"]
    if len(versions) <= seq:
        return None
    before, after, current = versions[seq - 1], versions[seq], versions[-1]
    fields = change["changed"]
    return {
        "event": "changed",
        "id": change["article_id"],
        "story_id": change["story_id"],
        "url": current.get("url"),
        "source": current.get("source"),
        "title": after["title"],
        "title_before": before["title"] if "title" in fields else None,
        "published_at": after["published_at"],
        "version": seq + 1,
        "changed": fields,
        "replaced_at": change["replaced_at"],
        "diff": short_diff(before["text"], after["text"]) if "text" in fields else [],
        "chars_added": before["chars_added"],
        "chars_removed": before["chars_removed"],
        "outlets": [],
        "copies": 1,
    }


def short_diff(old: str, new: str) -> list[list[str]]:
    """The body's word diff around its edits: the opening and closing unchanged text cut to
    :data:`DIFF_CONTEXT` characters, the whole at most :data:`MAX_DIFF` characters."""
    pieces = trim_unchanged(word_diff(old, new), DIFF_CONTEXT)
    if pieces and pieces[0][0] == "=" and len(pieces[0][1]) > DIFF_CONTEXT:
        pieces[0] = ("=", "… " + pieces[0][1][-DIFF_CONTEXT:].lstrip())
    if len(pieces) > 1 and pieces[-1][0] == "=" and len(pieces[-1][1]) > DIFF_CONTEXT:
        pieces[-1] = ("=", pieces[-1][1][:DIFF_CONTEXT].rstrip() + " …")
    out: list[list[str]] = []
    size = 0
    for op, text in pieces:
        if size + len(text) > MAX_DIFF:
            out.append([op, text[: max(MAX_DIFF - size, 0)]])
            out.append(["=", " …"])
            break
        out.append([op, text])
        size += len(text)
    return out
