"""Content fingerprint for exact-duplicate detection.

Two copies of one story often differ only in case, quote style, punctuation or spacing (a syndicated
copy re-typed by another CMS). Those differences must not change the hash; accents do, because in
Spanish they distinguish words ("papa"/"papá").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_PUNCTUATION = re.compile(
    "["
    + "".join(
        re.escape(chr(cp)) for cp in range(0x10000) if unicodedata.category(chr(cp)).startswith("P")
    )
    + "]"
)
"""Every BMP punctuation character (Unicode category P*): one C-level ``sub`` instead of a
per-character dict ``translate``, a quarter of the time on a 6 KB article."""


def normalize_for_hash(text: str) -> str:
    """Casefold, keep accents, turn punctuation into spaces, collapse whitespace."""
    text = _PUNCTUATION.sub(" ", unicodedata.normalize("NFC", text.casefold()))
    return " ".join(text.split())


def content_hash(text: str) -> str:
    """Hex SHA-256 of :func:`normalize_for_hash`, stable across runs and platforms."""
    return hashlib.sha256(normalize_for_hash(text).encode("utf-8")).hexdigest()
