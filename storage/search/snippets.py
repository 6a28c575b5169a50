"""Snippets made in Python, like FTS5's: where the database cannot make them (PostgreSQL, posts on
PostgreSQL, listings without a query). Pure: no database.

The constants are shared with the FTS5 ``snippet()`` calls so both look the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from storage.search.query import Term
from storage.textfold import fold

SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS = "«", "»", "…"
SNIPPET_WORDS = 24

_NON_SPACE = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class PendingSnippet:
    """A snippet made only if its record is shown: story collapsing reads 4× the page size in
    hits, and a snippet of a 3 KB body costs ~0.25 ms."""

    body: str
    terms: list[Term]


def snippets_now(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn the :class:`PendingSnippet` of the records about to be shown into text."""
    for record in records:
        pending = record.get("snippet")
        if isinstance(pending, PendingSnippet):
            record["snippet"] = py_snippet(pending.body, pending.terms)
    return records


def py_snippet(body: str, terms: list[Term]) -> str:
    """A snippet like FTS5's: about SNIPPET_WORDS words around the first match, matches marked."""
    spans = _match_spans(body, terms)
    start = spans[0][0] if spans else 0
    words = list(_NON_SPACE.finditer(body))
    index = next((i for i, w in enumerate(words) if w.end() > start), 0)
    first = max(0, index - SNIPPET_WORDS // 3)
    chosen = words[first : first + SNIPPET_WORDS]
    if not chosen:
        return ""
    lo, hi = chosen[0].start(), chosen[-1].end()
    out, pos = [], lo
    for s, e in spans:
        if s < lo or e > hi:
            continue
        out += [body[pos:s], SNIPPET_OPEN, body[s:e], SNIPPET_CLOSE]
        pos = e
    out.append(body[pos:hi])
    prefix = SNIPPET_ELLIPSIS if first > 0 else ""
    suffix = SNIPPET_ELLIPSIS if first + SNIPPET_WORDS < len(words) else ""
    return prefix + "".join(out) + suffix


def _match_spans(body: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Where the terms occur in ``body``, found in its same-length fold so offsets carry over."""
    patterns = []
    for term in terms:
        words = [re.escape(w) for w in term.words()]
        tail = r"\w*" if term.prefix else r"\b"
        patterns.append(r"\b" + r"\W+".join(words) + tail)
    if not patterns:
        return []
    folded = fold(body, same_length=True)
    return [m.span() for m in re.finditer("|".join(patterns), folded)]
