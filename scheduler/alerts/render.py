"""Alert messages: plain text and HTML (escaped: titles and snippets are untrusted page text),
one story, a held or overflow batch, a digest grouped by story newest first, a health change.
A story's edit (``event = "changed"``, see :mod:`.changes`) has its own message with its diff,
and its own "changed" group in a batch."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from storage.versions import plain_diff, word_diff

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


def is_change(item: dict[str, Any]) -> bool:
    return item.get("event") == "changed"


def _count(new: int, changed: int) -> str:
    stories = f"{new} stor{'y' if new == 1 else 'ies'}"
    if not changed:
        return stories
    if not new:
        return f"{changed} changed stor{'y' if changed == 1 else 'ies'}"
    return f"{stories}, {changed} changed"


def stories_message(
    rule: str,
    stories: list[dict[str, Any]],
    titles: dict[str, str],
    web_url: str | None,
    heading: str | None = None,
) -> Message:
    """One story, or several as one message (a digest, quiet hours ended, an overflow):
    grouped by story, newest first, with counts; edited stories in a "changed" group."""
    if len(stories) == 1 and heading is None and is_change(stories[0]):
        return change_message(rule, stories[0], titles, web_url)
    changed = sorted(
        (s for s in stories if is_change(s)), key=lambda s: s.get("replaced_at") or "", reverse=True
    )
    stories = sorted(
        (s for s in stories if not is_change(s)),
        key=lambda s: s.get("published_at") or "",
        reverse=True,
    )
    if len(stories) == 1 and not changed and heading is None:
        story = stories[0]
        title = f"[{rule}] {story.get('title') or '(untitled)'}"
        return (
            title,
            "\n".join(story_lines(story, titles, web_url)),
            story_html(story, titles, web_url),
        )
    title = f"[{rule}] {heading or 'stories'}: {_count(len(stories), len(changed))}"
    text = [title, ""]
    for story in stories:
        copies = story.get("copies") or 1
        text += [*story_lines(story, titles, web_url), f"({copies} article(s))", ""]
    body = "".join(story_html(s, titles, web_url) for s in stories)
    if changed:
        text += [f"changed ({len(changed)}):", ""]
        for item in changed:
            text += [*change_lines(item, titles, web_url), ""]
        body += f"<h2>changed ({len(changed)})</h2>"
        body += "".join(change_html(item, titles, web_url) for item in changed)
    return title, "\n".join(text).rstrip(), f"<h2>{html.escape(title)}</h2>{body}"


EVENT_WORDS = {
    "withdrawn": "withdrawn: the page is gone (404/410); its last text is kept",
    "restored": "restored: the page is back",
}


def _diff_html(pieces: list[Any]) -> str:
    """A word diff as escaped HTML: removed words struck out, added words underlined."""
    out = []
    for op, text in pieces:
        text = html.escape(text)
        out.append(
            f"<del>{text}</del>" if op == "-" else f"<ins>{text}</ins>" if op == "+" else text
        )
    return "".join(out)


def _change_parts(item: dict[str, Any]) -> list[tuple[str, list[Any] | str]]:
    """(label, word diff or plain line) for each thing the edit changed."""
    parts: list[tuple[str, list[Any] | str]] = []
    if item.get("title_before") is not None:
        parts.append(("title", word_diff(item["title_before"], item.get("title") or "")))
    if item.get("diff"):
        parts.append(("text", item["diff"]))
    for event in ("withdrawn", "restored"):
        if event in (item.get("changed") or []):
            parts.append(("", EVENT_WORDS[event]))
    fields = [f for f in item.get("changed") or [] if f not in ("title", "text", *EVENT_WORDS)]
    if fields:
        parts.append(("", "also changed: " + ", ".join(fields)))
    if item.get("diff"):
        added, removed = item.get("chars_added") or 0, item.get("chars_removed") or 0
        parts.append(("", f"{added} character(s) added, {removed} removed"))
    return parts


def _changed_when(item: dict[str, Any], titles: dict[str, str]) -> str:
    outlet = titles.get(item.get("source"), item.get("source") or "")
    when = _when(item.get("replaced_at"))
    return f"{outlet} · version {item.get('version')}" + (f", seen {when}" if when else "")


def change_lines(item: dict[str, Any], titles: dict[str, str], web_url: str | None) -> list[str]:
    lines = [f"changed: {item.get('title') or '(untitled)'}", _changed_when(item, titles)]
    for label, value in _change_parts(item):
        shown = value if isinstance(value, str) else plain_diff([tuple(p) for p in value])
        lines.append(f"{label}: {shown}" if label else shown)
    lines.append(_link(item, web_url))
    return lines


def change_html(item: dict[str, Any], titles: dict[str, str], web_url: str | None) -> str:
    e = html.escape
    link = _link(item, web_url)
    parts = [
        f'<h3>changed: <a href="{e(link)}">{e(item.get("title") or "(untitled)")}</a></h3>',
        f"<p>{e(_changed_when(item, titles))}</p>",
    ]
    for label, value in _change_parts(item):
        shown = e(value) if isinstance(value, str) else _diff_html(value)
        parts.append(f"<p><b>{e(label)}:</b> {shown}</p>" if label else f"<p>{shown}</p>")
    return "<div>" + "".join(parts) + "</div>"


def change_message(
    rule: str, item: dict[str, Any], titles: dict[str, str], web_url: str | None
) -> Message:
    """One edit of an alerted story: the title's and the body's word diff."""
    title = f"[{rule}] changed: {item.get('title') or '(untitled)'}"
    return (
        title,
        "\n".join(change_lines(item, titles, web_url)),
        change_html(item, titles, web_url),
    )


def overflow_message(rule: str, stories: list[dict[str, Any]], titles: dict[str, str]) -> Message:
    """``max_per_hour`` reached: the rest as one "N more stories" message, titles only."""
    title = f"[{rule}] {len(stories)} more stories"
    lines = [
        f"- {'changed: ' if is_change(s) else ''}{s.get('title') or '(untitled)'}"
        f" ({titles.get(s.get('source'), s.get('source'))})"
        for s in stories
    ]
    items = "".join(
        f"<li>{'changed: ' if is_change(s) else ''}{html.escape(s.get('title') or '(untitled)')}</li>"
        for s in stories
    )
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
