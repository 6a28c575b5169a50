"""Accent- and case-insensitive whole-word phrase matching, shared by relevance and entities.

Matching works on *tokens* (runs of letters/digits), not characters, so whole-word behaviour is
structural: "armas" can never match inside "armaron", and punctuation between words ("México -
Estados Unidos", "@SRE_mx", "U.S.") is a plain word break on both sides. Patterns are compiled
into a token trie, which is a word-level Aho-Corasick without failure links: phrases are a few
words long, so walking the trie from every token is linear in practice and needs no C extension.

Folding rules, applied identically to patterns and text:

- :mod:`storage.textfold`: NFKD, then combining marks dropped: "Misión" → "Mision", "ñ" → "n"
  (so "Peña" == "Pena").
- ``casefold`` — except for patterns written without any lowercase letter ("ICE", "SRE", "U.S.",
  "T-MEC"), which match case-sensitively (accents still folded), because lowercase "ice" or
  "us" are ordinary words.
- A pattern word ending in ``*`` is a prefix: "extradit*" matches "extraditado", "extradition".
  The prefix must keep at least three characters so it cannot swallow half the language.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from storage import textfold

_TOKEN_RE = re.compile(r"[^\W_]+(?:[\u0300-\u036f]+[^\W_]*)*")
_MIN_PREFIX = 3
_FORMS: dict[str, tuple[str, str]] = {}


@lru_cache(maxsize=65536)
def strip_accents(word: str) -> str:
    """:func:`storage.textfold.strip_accents`, cached: news text repeats a small vocabulary."""
    return textfold.strip_accents(word)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """The case- and accent-insensitive form of one word (:func:`storage.textfold.fold`)."""
    return textfold.fold(word)


def normalize(text: str) -> str:
    """Text as the matcher sees it: folded words joined by single spaces, punctuation gone."""
    return " ".join(map(fold, _TOKEN_RE.findall(text)))


class Token(NamedTuple):
    """One word of the input with its span in the original string (a tuple: built per word)."""

    start: int
    end: int
    exact: str
    folded: str


_EXACT, _FOLDED = Token._fields.index("exact"), Token._fields.index("folded")


def tokenize(text: str) -> list[Token]:
    """Split into word tokens, keeping original offsets so matches can be shown in context."""
    cache = _FORMS
    new = tuple.__new__
    out: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        word = m.group()
        forms = cache.get(word)
        if forms is None:
            if len(cache) > 100_000:
                cache.clear()
            forms = cache[word] = (strip_accents(word), fold(word))
        out.append(new(Token, m.span() + forms))
    return out


@dataclass(frozen=True, slots=True)
class Match:
    """A whole-word match: ``start``/``end`` are offsets in the original text, ``token_start``
    and ``token_end`` token indices (end exclusive), ``keys`` the payloads of the pattern."""

    start: int
    end: int
    token_start: int
    token_end: int
    pattern: str
    keys: tuple[Hashable, ...]


@dataclass(slots=True)
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    prefixes: dict[str, list[tuple[str, _Node]]] = field(default_factory=dict)
    terminal: list[tuple[str, Hashable]] = field(default_factory=list)

    def child(self, word: str, *, prefix: bool) -> _Node:
        if not prefix:
            return self.children.setdefault(word, _Node())
        bucket = self.prefixes.setdefault(word[:_MIN_PREFIX], [])
        for existing, node in bucket:
            if existing == word:
                return node
        node = _Node()
        bucket.append((word, node))
        return node

    def step(self, word: str) -> list[_Node]:
        found = []
        exact = self.children.get(word)
        if exact is not None:
            found.append(exact)
        if self.prefixes:
            for prefix, node in self.prefixes.get(word[:_MIN_PREFIX], ()):
                if word.startswith(prefix):
                    found.append(node)
        return found


def is_case_sensitive(pattern: str) -> bool:
    """Patterns with letters but no lowercase letter are acronyms: match them as written."""
    letters = [ch for ch in pattern if ch.isalpha()]
    return bool(letters) and not any(ch.islower() for ch in letters)


def pattern_words(pattern: str) -> tuple[tuple[str, bool], ...]:
    """Split a pattern into (word, is_prefix) pairs in the form the trie stores.

    Raises ``ValueError`` for patterns with no word or a too-short prefix, so configuration
    mistakes surface at load time instead of as silent non-matches.
    """
    sensitive = is_case_sensitive(pattern)
    words: list[tuple[str, bool]] = []
    for raw in pattern.split():
        prefix = raw.endswith("*")
        core = raw.rstrip("*")
        parts = [m.group() for m in _TOKEN_RE.finditer(core)]
        if prefix and (not parts or len(parts[-1]) < _MIN_PREFIX):
            raise ValueError(f"prefix {raw!r} needs at least {_MIN_PREFIX} letters before '*'")
        for i, part in enumerate(parts):
            form = strip_accents(part) if sensitive else fold(part)
            words.append((form, prefix and i == len(parts) - 1))
    if not words:
        raise ValueError(f"pattern {pattern!r} contains no word")
    return tuple(words)


def pattern_key(pattern: str) -> tuple[bool, tuple[tuple[str, bool], ...]]:
    """Identity of a pattern after folding; two patterns with equal keys match the same text."""
    return is_case_sensitive(pattern), pattern_words(pattern)


class Matcher:
    """Finds every occurrence of many phrases in one pass over the tokens.

    Each pattern carries a payload key (a topic name, an entity id …); a pattern added twice
    with different keys reports both keys in one ``Match``.
    """

    __slots__ = ("_exact", "_folded", "size")

    def __init__(self, patterns: Iterable[tuple[str, Hashable]] = ()) -> None:
        self._folded = _Node()
        self._exact = _Node()
        self.size = 0
        for pattern, key in patterns:
            self.add(pattern, key)

    def add(self, pattern: str, key: Hashable) -> None:
        sensitive, words = pattern_key(pattern)
        node = self._exact if sensitive else self._folded
        for word, prefix in words:
            node = node.child(word, prefix=prefix)
        node.terminal.append((pattern, key))
        self.size += 1

    def find(self, text: str | Sequence[Token]) -> list[Match]:
        """All matches, overlapping ones included, ordered by start then longest first."""
        tokens = tokenize(text) if isinstance(text, str) else text
        found: dict[tuple[int, int, str], list[Hashable]] = {}
        n = len(tokens)
        for root, form in ((self._folded, _FOLDED), (self._exact, _EXACT)):
            firsts, prefixes = root.children, root.prefixes
            if not firsts and not prefixes:
                continue
            for i, token in enumerate(tokens):
                word = token[form]
                if word not in firsts and (not prefixes or word[:_MIN_PREFIX] not in prefixes):
                    continue
                frontier = root.step(word)
                j = i
                while frontier:
                    for node in frontier:
                        for pattern, key in node.terminal:
                            found.setdefault((i, j + 1, pattern), []).append(key)
                    j += 1
                    if j >= n:
                        break
                    word = tokens[j][form]
                    frontier = [nxt for node in frontier for nxt in node.step(word)]
        matches = [
            Match(tokens[i].start, tokens[j - 1].end, i, j, pattern, tuple(keys))
            for (i, j, pattern), keys in found.items()
        ]
        matches.sort(key=lambda m: (m.token_start, -(m.token_end - m.token_start), m.pattern))
        return matches


def longest_non_overlapping(matches: Iterable[Match]) -> list[Match]:
    """Leftmost-longest selection: a phrase hides the shorter terms inside it.

    Without this, "tráfico de armas" would also count "armas", and "Secretaría de Relaciones
    Exteriores" would also count "Relaciones Exteriores" — double credit for one mention.
    """
    ordered = sorted(matches, key=lambda m: (m.token_start, -(m.token_end - m.token_start)))
    chosen: list[Match] = []
    taken_until = -1
    for m in ordered:
        if m.token_start >= taken_until:
            chosen.append(m)
            taken_until = m.token_end
    return chosen
