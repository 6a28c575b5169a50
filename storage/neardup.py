"""Near-duplicate bookkeeping that needs no crawler code: LSH bands, signature (de)serialisation,
similarity estimates and the choice of a story cluster's representative.

Signatures are lists of 32-bit unsigned ints (one per MinHash slot), made by the crawler. Storage
only bands, compares and stores them, so the index lives in SQL (``lsh_bands``) and works for every
process sharing the database, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import operator
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from storage.textfold import fold
from storage.types import article_time_of

BANDS = 32
ROWS = 4
DEFAULT_THRESHOLD = 0.8
"""Estimated Jaccard similarity of 5-word shingles above which two articles are one story."""
SAME_SOURCE_THRESHOLD = 0.9
"""An outlet re-posting its own story is a copy; two briefs from one outlet's template share
phrasing, so within one source a candidate must be closer than across outlets."""
MAX_CANDIDATES = 16
"""Candidates verified per new article: those sharing the most bands only, so cost stays flat
however large a popular bucket grows (a true copy shares far more bands than a bucket-mate)."""
CONTAINMENT_THRESHOLD = 0.9
"""A copy with its ending cut is nearly all *contained* in the original even when their Jaccard
similarity is well under the threshold; at or above this estimated containment it still joins."""
MIN_SIZE_RATIO = 0.5
"""Containment only counts when the smaller text has at least this share of the larger one's
shingles: a three-sentence brief quoting a long article is not a copy of it."""


def valid_threshold(value: float | None) -> float:
    """The near-duplicate threshold to use: :data:`DEFAULT_THRESHOLD` for None, else ``value``
    if it is in (0, 1]. The one check of it; ``crawler.settings`` reads the environment's and
    the ``--threshold`` flag's value with the same bounds."""
    if value is None:
        return DEFAULT_THRESHOLD
    threshold = float(value)
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"near-duplicate threshold must be in (0, 1], not {value}")
    return threshold


def lsh_bands(
    signature: Sequence[int], bands: int = BANDS, rows: int = ROWS
) -> list[tuple[int, int]]:
    """``(band index, band hash)`` pairs; the hash is a signed 64-bit int (SQLite INTEGER, BIGINT).

    Two signatures share a band when all ``rows`` slots of it are equal, which happens with
    probability s^rows for similarity s: with 32×4 a pair at 0.8 shares a band with
    probability 1 − (1 − 0.8⁴)³² ≈ 1.0, a pair at 0.3 with ≈ 0.23 (then rejected on verification).
    """
    if len(signature) < bands * rows:
        raise ValueError(f"signature has {len(signature)} slots, {bands}×{rows} bands need more")
    out = []
    for band in range(bands):
        chunk = signature[band * rows : (band + 1) * rows]
        digest = hashlib.blake2b(struct.pack(f"<{rows}I", *chunk), digest_size=8).digest()
        out.append((band, struct.unpack("<q", digest)[0]))
    return out


def jaccard_estimate(sig_a: Sequence[int], sig_b: Sequence[int]) -> float:
    """Share of equal slots: an unbiased estimate of the Jaccard similarity of the shingle sets."""
    if not sig_a or len(sig_a) != len(sig_b):
        return 0.0
    return sum(map(operator.eq, sig_a, sig_b)) / len(sig_a)


def containment_estimate(jaccard: float, size_a: int | None, size_b: int | None) -> float:
    """Estimated share of the smaller shingle set that lies in the larger one.

    From J = |A∩B| / |A∪B| and |A∪B| = |A| + |B| − |A∩B| follows |A∩B| = J(|A| + |B|) / (1 + J);
    0.0 when a size is unknown.
    """
    if jaccard <= 0 or not size_a or not size_b:
        return 0.0
    shared = jaccard * (size_a + size_b) / (1 + jaccard)
    return min(1.0, shared / min(size_a, size_b))


def is_near_duplicate(
    jaccard: float,
    size_a: int | None,
    size_b: int | None,
    threshold: float,
    containment: float = CONTAINMENT_THRESHOLD,
) -> bool:
    """Similar enough (estimated Jaccard ≥ ``threshold``), or one text nearly all inside the
    other (estimated containment ≥ ``containment``, never a lower bar than ``threshold``) while
    the smaller has at least :data:`MIN_SIZE_RATIO` of the larger's shingles."""
    if jaccard >= threshold:
        return True
    if not size_a or not size_b:
        return False
    if min(size_a, size_b) < MIN_SIZE_RATIO * max(size_a, size_b):
        return False
    return containment_estimate(jaccard, size_a, size_b) >= max(containment, threshold)


def estimate_shingles(text: str | None, k: int = 5) -> int | None:
    """Rough shingle count of a text whose exact count the crawler did not give: whitespace
    words minus ``k − 1`` (repeated shingles are rare in prose). Only for old rows and records
    built without ``shingle_count``; None for an empty text."""
    n = len(text.split()) if text else 0
    return max(n - k + 1, 1) if n else None


def pack_signature(signature: Sequence[int] | None) -> bytes | None:
    """Little-endian uint32 array (512 bytes for 128 slots); random values do not compress."""
    if not signature:
        return None
    return struct.pack(f"<{len(signature)}I", *signature)


def unpack_signature(blob: bytes | None) -> list[int] | None:
    if not blob:
        return None
    return list(struct.unpack(f"<{len(blob) // 4}I", blob))


_PAREN = re.compile(r"\([^)]*\)")
_NON_WORD = re.compile(r"[\W_]+")


def outlet_key(name: str | None) -> str:
    """A comparable form of an outlet name: accents, case, parentheticals and punctuation gone."""
    if not name:
        return ""
    text = fold(_PAREN.sub(" ", name))
    return " ".join(_NON_WORD.sub(" ", text).split())


def credit_names(credit: str | None, source_name: str, source_title: str | None) -> bool:
    """Whether a credit line names this source (its config name or its title).

    "Tribuna del Yaqui" names a source titled "Tribuna del Yaqui (fixture)" or "Tribuna del Yaqui
    Online"; a match must cover whole words at the start, so "AP" never names "Apro".
    """
    key = outlet_key(credit)
    if not key:
        return False
    for candidate in (outlet_key(source_name), outlet_key(source_title)):
        if candidate and (candidate == key or candidate.startswith(key + " ")):
            return True
    return False


def _when(member: Mapping[str, Any]) -> datetime:
    return article_time_of(member) or datetime.max


def choose_representative(members: Iterable[Mapping[str, Any]]) -> int | None:
    """The id of a cluster's representative.

    Members carry ``id, source, source_title, credited_source, published_at, first_seen_at``.
    A member that another outlet's copy credits as its source wins (the earliest of them if
    several); otherwise the earliest published (falling back to first seen), then the lowest id.
    """
    items = list(members)
    if not items:
        return None
    credited = [
        m
        for m in items
        if any(
            o["source"] != m["source"]
            and credit_names(o.get("credited_source"), m["source"], m.get("source_title"))
            for o in items
        )
    ]
    pool = credited or items
    return min(pool, key=lambda m: (_when(m), m["id"]))["id"]
