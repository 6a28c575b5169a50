"""What the page templates draw but should not compute: highlighted text, the date histogram
and sparklines as SVG geometry, and the search URL with a filter added or removed.

Highlighting escapes the stored text first and only then adds ``<mark>``: stored content is
untrusted, and this is the one place where text becomes markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from storage.search.query import Term
from storage.search.snippets import SNIPPET_CLOSE, SNIPPET_OPEN, _match_spans

FILTER_KEYS = ("source", "lang", "topic", "entity")
"""Filters that may repeat (``?source=a&source=b``); the rest are single-valued."""
SINGLE_KEYS = ("q", "relevant", "since", "until", "all", "page", "lang_ui")


def mark_snippet(snippet: str | None) -> Markup:
    """A search snippet with its «…» matches as ``<mark>``; a stray « or » stays text, so the
    markup is balanced whatever the stored text holds (Spanish quotes use the same marks)."""
    out: list[str] = []
    open_mark = False
    for char in snippet or "":
        if char == SNIPPET_OPEN and not open_mark:
            out.append("<mark>")
            open_mark = True
        elif char == SNIPPET_CLOSE and open_mark:
            out.append("</mark>")
            open_mark = False
        else:
            out.append(str(escape(char)))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


def highlight(text: str | None, terms: list[Term], entities: list[str]) -> Markup:
    """``text`` escaped, query terms in ``<mark>`` and entity names in ``<mark class=entity>``,
    found by the snippets' own accent-insensitive matching; a query match wins over an
    entity name it overlaps."""
    body = text or ""
    spans = [(s, e, "") for s, e in _match_spans(body, terms)]
    names = [Term(name, phrase=True) for name in entities if name and name.strip()]
    for start, end in _match_spans(body, names):
        if not any(start < e and s < end for s, e, _ in spans):
            spans.append((start, end, ' class="entity"'))
    spans.sort()
    out: list[str] = []
    pos = 0
    for start, end, cls in spans:
        if start < pos:
            continue
        out += [
            str(escape(body[pos:start])),
            f"<mark{cls}>",
            str(escape(body[start:end])),
            "</mark>",
        ]
        pos = end
    out.append(str(escape(body[pos:])))
    return Markup("".join(out))


def paragraphs(markup: Markup) -> list[Markup]:
    """Highlighted text split into paragraphs at line breaks (marks never span a line break in
    practice; a split one is closed and reopened so every paragraph stays balanced)."""
    result = []
    carry = ""
    for line in str(markup).split("\n"):
        line = carry + line
        carry = ""
        if line.count("<mark") > line.count("</mark>"):
            tag = line[line.rfind("<mark") :].split(">", 1)[0] + ">"
            line, carry = line + "</mark>", tag
        if line.strip():
            result.append(Markup(line))
    return result


DIFF_CONTEXT = 160
"""Characters of unchanged text kept each side of a change in a diff column; longer unchanged
runs are cut to an ellipsis, so one changed number does not scroll the whole article twice."""


def diff_columns(
    pieces: list[tuple[str, str]], context: int | None = DIFF_CONTEXT
) -> tuple[Markup, Markup]:
    """A word diff (:func:`storage.versions.word_diff` pieces) as two columns: the old text
    with removed words in ``<del>``, the new one with added words in ``<ins>``. Every piece is
    escaped before any tag is added; line breaks stay text (the stylesheet keeps them)."""
    old: list[str] = []
    new: list[str] = []
    last = len(pieces) - 1
    for i, (op, text) in enumerate(pieces):
        safe = str(escape(text))
        if op == "-":
            old.append(f"<del>{safe}</del>")
        elif op == "+":
            new.append(f"<ins>{safe}</ins>")
        else:
            kept = _elide(text, context, head=i > 0, tail=i < last)
            old.append(kept)
            new.append(kept)
    return Markup("".join(old)), Markup("".join(new))


def _elide(text: str, context: int | None, *, head: bool, tail: bool) -> str:
    """Unchanged ``text`` escaped, its middle cut when long: kept are ``context`` characters
    after the change before it (``head``) and before the change after it (``tail``)."""
    if context is None or len(text) <= 2 * context + 20:
        return str(escape(text))
    start = text[:context] if head else ""
    end = text[-context:] if tail else ""
    if " " in start[context // 2 :]:
        start = start[: start.rindex(" ") + 1]
    if " " in end[: context // 2]:
        end = end[end.index(" ") :]
    gap = '<span class="elided">…</span>'
    return f"{escape(start)}{gap}{escape(end)}"


def search_url(params: dict[str, Any], *, path: str = "/search", **changes: Any) -> str:
    """The search URL for ``params`` with ``changes`` applied: a value of None removes a key, a
    ``(key, value)`` in ``toggle`` adds or removes one value of a repeatable filter. Changing
    any filter goes back to page 1."""
    current = {k: list(v) if isinstance(v, list | tuple) else v for k, v in params.items()}
    toggle = changes.pop("toggle", None)
    if toggle is not None:
        key, value = toggle
        values = list(current.get(key) or [])
        current[key] = [v for v in values if v != value] if value in values else [*values, value]
    current.update(changes)
    if "page" not in changes:
        current.pop("page", None)
    pairs: list[tuple[str, str]] = []
    for key in ("q", *FILTER_KEYS, *SINGLE_KEYS[1:]):
        value = current.get(key)
        if value in (None, "", []):
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    return path + ("?" + urlencode(pairs) if pairs else "")


@dataclass(frozen=True)
class Bar:
    """One histogram bar: its geometry in the SVG's coordinates and what it links to."""

    x: float
    y: float
    width: float
    height: float
    start: str
    end: str
    stories: int
    href: str


HIST_W, HIST_H = 600, 80


def histogram_bars(histogram: dict[str, Any] | None, params: dict[str, Any]) -> list[Bar]:
    """Bars scaled to the tallest, each linking to the same search narrowed to its range."""
    bars = (histogram or {}).get("bars") or []
    if not bars:
        return []
    tallest = max(b["stories"] for b in bars) or 1
    slot = HIST_W / len(bars)
    width = max(slot - 1.0, 1.0) if len(bars) > 1 else min(slot, 40.0)
    out = []
    for i, b in enumerate(bars):
        height = round(HIST_H * b["stories"] / tallest, 1) if b["stories"] else 0.0
        href = search_url(params, since=b["start"], until=b["end"])
        out.append(
            Bar(round(i * slot, 1), round(HIST_H - height, 1), round(width, 1), height,
                b["start"], b["end"], b["stories"], href)
        )  # fmt: skip
    return out


SPARK_W, SPARK_H = 120, 24


def sparkline(counts: list[int]) -> str:
    """The ``points`` of an SVG polyline over ``counts`` (one per day, oldest first)."""
    if not counts:
        return ""
    tallest = max(counts) or 1
    step = SPARK_W / max(len(counts) - 1, 1)
    return " ".join(
        f"{round(i * step, 1)},{round(SPARK_H - 1 - (SPARK_H - 2) * c / tallest, 1)}"
        for i, c in enumerate(counts)
    )
