"""The search query language: user input parsed into terms, and the FTS5 MATCH expression.

User input is untrusted; it is parsed here and only ever *bound* as a parameter. Pure: no
database. The grammar is described in the package docstring (:mod:`storage.search`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from storage.textfold import fold

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 32
"""Terms (words, phrases, prefixes, negatives) in one query. Each prefix term is a scan of the
index, and FTS5's AND/OR of many of them grows with the square of their number: 300 prefix terms
took seconds. No real question needs more than a few dozen."""

_OPERATORS = {"AND", "OR", "NOT"}
_TOKEN = re.compile(r'"([^"]*)"|([^\s"]+)')
_WORD = re.compile(r"\w+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class QueryError(ValueError):
    """A search query that cannot be run, explained in one line."""


@dataclass(frozen=True, slots=True)
class Term:
    """One searchable unit: a word, a phrase, or a prefix."""

    text: str
    phrase: bool = False
    prefix: bool = False

    def words(self) -> list[str]:
        """The folded words, one-for-one with the characters of a folded body (snippets)."""
        return _WORD.findall(fold(self.text, same_length=True))


@dataclass(slots=True)
class ParsedQuery:
    """AND of ``groups`` (each an OR of terms), minus any article matching a ``negative`` term."""

    groups: list[list[Term]] = field(default_factory=list)
    negatives: list[Term] = field(default_factory=list)

    def terms(self) -> list[Term]:
        """Every positive term, the ones a snippet marks."""
        return [t for g in self.groups for t in g]


def parse_query(query: str) -> ParsedQuery:
    """Parse user input into terms; raise :class:`QueryError` for anything malformed."""
    _check_text(query)
    parsed = ParsedQuery()
    pending: str | None = None
    for match in _TOKEN.finditer(query):
        phrase, word = match.group(1), match.group(2)
        if word in _OPERATORS:
            if pending is not None or (word in ("AND", "OR") and not parsed.groups):
                raise QueryError(f"{word} needs a word or phrase on each side")
            pending = word
            continue
        term = _term(phrase, word)
        if term is None:
            continue
        if pending == "NOT":
            parsed.negatives.append(term)
        elif pending == "OR":
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        pending = None
    if pending is not None:
        raise QueryError(f"query ends with {pending}: add a word or phrase after it")
    count = len(parsed.terms()) + len(parsed.negatives)
    if count > MAX_TERMS:
        raise QueryError(f"too many terms ({count}; at most {MAX_TERMS})")
    if not parsed.groups:
        if parsed.negatives:
            raise QueryError("NOT only excludes: add a word or phrase to search for")
        raise QueryError("query has no searchable words")
    return parsed


def _check_text(query: str) -> None:
    """Refuse input that cannot be a query at all, before it is tokenised."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"query is too long ({len(query)} characters; at most {MAX_QUERY_LENGTH})")
    if _CONTROL.search(query):
        raise QueryError("query contains control characters")
    if not query.strip():
        raise QueryError('empty query: give one or more words, or a "quoted phrase"')
    if query.count('"') % 2:
        raise QueryError('unbalanced quote: close the phrase with a second "')


def _term(phrase: str | None, word: str | None) -> Term | None:
    if phrase is not None:
        if not _WORD.search(phrase):
            raise QueryError(f'phrase "{phrase}" has no searchable words')
        return Term(" ".join(phrase.split()), phrase=True)
    assert word is not None
    prefix = word.endswith("*")
    stem = word.rstrip("*")
    if not _WORD.search(stem):
        return None
    return Term(stem, prefix=prefix)


def to_fts5(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH expression; every term is a quoted string, so nothing in it is syntax."""

    def atom(term: Term) -> str:
        quoted = '"' + term.text.replace('"', '""') + '"'
        return quoted + "*" if term.prefix else quoted

    def group(terms: list[Term]) -> str:
        return atom(terms[0]) if len(terms) == 1 else "(" + " OR ".join(map(atom, terms)) + ")"

    positive = " AND ".join(group(g) for g in parsed.groups)
    if not parsed.negatives:
        return positive
    return f"({positive}) NOT ({' OR '.join(atom(t) for t in parsed.negatives)})"


def check_page(limit: int, offset: int) -> None:
    """A page is a window of results; a negative bound is a caller's mistake, said plainly."""
    if limit < 0 or offset < 0:
        raise QueryError("limit and offset must not be negative")
