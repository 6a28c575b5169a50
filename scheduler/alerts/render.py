"""Alert messages: plain text and HTML (escaped: titles and snippets are untrusted page text),
one story, a held or overflow batch, a digest grouped by story newest first, a health change."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

Message = tuple[str, str, str]
"""(title, plain text, HTML)."""


def _when(iso: str | None) -> str:
    """The story's time in the outlet's own zone (the offset it published with)."""
    if not iso:
        return ""
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return value.strftime("%Y-%m-%d %H:%M (UTC%z)").replace("(UTC+0000)", "(UTC)")


def _link(story: dict[str, Any], web_url: str | None) -> str:
    if web_url and story.get("story_id") is not None:
        return f"{web_url}/stories/{story['story_id']}"
    return story.get("url") or ""


def _also(story: dict[str, Any], titles: dict[str, str]) -> list[str]:
    own = story.get("source")
    return [titles.get(o, o) for o in story.get("outlets") or [] if o != own]


def _html_snippet(snippet: str) -> str:
    text = html.escape(snippet)
    return text.replace("«", "<mark>").replace("»", "</mark>")


def story_lines(story: dict[str, Any], titles: dict[str, str], web_url: str | None) -> list[str]:
    outlet = titles.get(story.get("source"), story.get("source") or "")
    when = _when(story.get("published_at"))
    lines = [story.get("title") or "(untitled)", f"{outlet} · {when}" if when else outlet]
    if story.get("snippet"):
        lines.append(story["snippet"])
    also = _also(story, titles)
    if also:
        lines.append("also in: " + ", ".join(also))
    lines.append(_link(story, web_url))
    return lines


def story_html(story: dict[str, Any], titles: dict[str, str], web_url: str | None) -> str:
    e = html.escape
    outlet = titles.get(story.get("source"), story.get("source") or "")
    link = _link(story, web_url)
    parts = [
        f'<h3><a href="{e(link)}">{e(story.get("title") or "(untitled)")}</a></h3>',
        f"<p><b>{e(outlet)}</b>{' · ' + e(_when(story.get('published_at'))) if story.get('published_at') else ''}</p>",
    ]
    if story.get("snippet"):
        parts.append(f"<p>{_html_snippet(story['snippet'])}</p>")
    also = _also(story, titles)
    if also:
        parts.append(f"<p>also in: {e(', '.join(also))}</p>")
    return "<div>" + "".join(parts) + "</div>"


def stories_message(
    rule: str,
    stories: list[dict[str, Any]],
    titles: dict[str, str],
    web_url: str | None,
    heading: str | None = None,
) -> Message:
    """One story, or several as one message (a digest, quiet hours ended, an overflow):
    grouped by story, newest first, with counts."""
    stories = sorted(stories, key=lambda s: s.get("published_at") or "", reverse=True)
    if len(stories) == 1 and heading is None:
        story = stories[0]
        title = f"[{rule}] {story.get('title') or '(untitled)'}"
        return (
            title,
            "\n".join(story_lines(story, titles, web_url)),
            story_html(story, titles, web_url),
        )
    count = f"{len(stories)} stor{'y' if len(stories) == 1 else 'ies'}"
    title = f"[{rule}] {heading or 'stories'}: {count}"
    text = [title, ""]
    for story in stories:
        copies = story.get("copies") or 1
        text += [*story_lines(story, titles, web_url), f"({copies} article(s))", ""]
    body = "".join(story_html(s, titles, web_url) for s in stories)
    return title, "\n".join(text).rstrip(), f"<h2>{html.escape(title)}</h2>{body}"


def overflow_message(rule: str, stories: list[dict[str, Any]], titles: dict[str, str]) -> Message:
    """``max_per_hour`` reached: the rest as one "N more stories" message, titles only."""
    title = f"[{rule}] {len(stories)} more stories"
    lines = [
        f"- {s.get('title') or '(untitled)'} ({titles.get(s.get('source'), s.get('source'))})"
        for s in stories
    ]
    items = "".join(f"<li>{html.escape(s.get('title') or '(untitled)')}</li>" for s in stories)
    return title, "\n".join([title, *lines]), f"<h2>{html.escape(title)}</h2><ul>{items}</ul>"


HEALTH_WORDS = {
    "failing": "is failing",
    "ok": "has recovered",
    "silent": "has gone silent",
}


def health_message(rule: str, event: dict[str, Any], titles: dict[str, str]) -> Message:
    source = event["source"]
    outlet = titles.get(source, source)
    title = f"[{rule}] source {outlet} {HEALTH_WORDS.get(event['state'], event['state'])}"
    detail = []
    if event.get("last_error"):
        detail.append(f"last error: {event['last_error']}")
    if event.get("last_stored"):
        detail.append(f"last article stored: {event['last_stored']}")
    text = "\n".join([title, *detail])
    body = "".join(f"<p>{html.escape(x)}</p>" for x in detail)
    return title, text, f"<h2>{html.escape(title)}</h2>{body}"
