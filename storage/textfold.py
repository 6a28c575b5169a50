"""The one accent and case fold, so search, phrase matching, date parsing and outlet names agree
on when two spellings are the same word ("Misión" = "mision", "Peña" = "pena", "AÑO" = "ano").

The rule: decompose (NFKD) and drop the accents, then ignore case. Every form folds "ñ" to "n"
and "ü" to "u". Callers need it in three shapes, which differ only on rare characters:

- :func:`fold` — accents dropped (every combining mark of the NFKD form), then ``casefold``: the
  form for comparing words. "ß" → "ss", "ﬁ" → "fi". Used by the analysis matcher and outlet names.
- ``fold(text, same_length=True)`` — the same fold one character at a time, each character
  becoming exactly one (the first of its NFKD form, lower-cased), so an offset in the folded text
  is an offset in the original. Search needs that: it finds matches in the folded body and marks
  them in the original one, the way SQLite's ``unicode61 remove_diacritics 2`` tokenizer folds
  per character. "ß" stays "ß", "ﬁ" → "f", a lone combining mark stays.
- :func:`strip_accents` — accents dropped, case kept: case-sensitive patterns ("ICE", "SRE"), and
  date parsing, which lower-cases afterwards.

The PostgreSQL index folds in SQL with a frozen ``translate`` table (migration 0005); the search
package's ``postgres`` module holds its copy.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "strip_accents"]

_TABLE_LIMIT = 65536


def strip_accents(text: str) -> str:
    """``text`` without accents (NFKD, combining marks dropped); case is kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str, *, same_length: bool = False) -> str:
    """The accent- and case-insensitive form of ``text``.

    ``same_length=True`` folds one character at a time so the result lines up with ``text``
    character for character (see the module docstring for where the two forms differ).
    """
    if same_length:
        return text.translate(_SAME_LENGTH)
    return strip_accents(text).casefold()


def _fold_char(char: str) -> str:
    """One character folded to exactly one: the first of its NFKD form, lower-cased."""
    base = unicodedata.normalize("NFKD", char)[:1] or char
    lowered = base.lower()
    return lowered[:1] if lowered else base


class _FoldTable(dict):
    """``str.translate`` table filled on first sight of each character: folding a 3 KB body
    character by character in Python took ~2.8 ms, a snippet per result row on PostgreSQL."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < _TABLE_LIMIT:
            self[code] = folded
        return folded


_SAME_LENGTH = _FoldTable()
