"""Fingerprints: shingles over normalised words, MinHash estimates, LSH bands, length guard."""

from __future__ import annotations

import random

from crawler.identity.fingerprint import (
    MIN_WORDS,
    NUM_PERM,
    fingerprint,
    jaccard_estimate,
    lsh_bands,
    minhash,
    shingles,
    words,
)
from storage.neardup import pack_signature, unpack_signature
from tests.support.copies import INDEPENDENT_REPORT, republished_copy, seed_text


def exact_jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_normalisation_folds_case_accents_and_punctuation():
    assert words("¡Misión CORTAFUEGOS!, en Peña—Nieto.") == [
        "mision", "cortafuegos", "en", "pena", "nieto",
    ]  # fmt: skip
    assert shingles("Misión Cortafuegos avanza en la frontera") == shingles(
        "mision cortafuegos, avanza en la FRONTERA."
    )


def test_credit_lines_do_not_change_the_signature():
    text = seed_text()
    assert minhash(text) == minhash(text + "\nFuente: Tribuna del Yaqui")
    assert minhash(text) == minhash("Con información de EFE\n" + text)


def test_signature_shape_and_determinism():
    sig = minhash(seed_text())
    assert len(sig) == NUM_PERM
    assert all(0 <= v < 2**32 for v in sig)
    assert sig == minhash(seed_text())
    assert minhash(seed_text(), seed=2) != sig
    assert unpack_signature(pack_signature(sig)) == sig


def test_estimate_tracks_exact_jaccard():
    rng = random.Random(5)
    vocab = [f"palabra{i}" for i in range(3000)]
    base = [rng.choice(vocab) for _ in range(400)]
    for keep in (1.0, 0.9, 0.7, 0.5):
        edited = [w if rng.random() < keep else rng.choice(vocab) for w in base]
        a, b = " ".join(base), " ".join(edited)
        assert abs(jaccard_estimate(minhash(a), minhash(b)) - exact_jaccard(a, b)) < 0.12


def test_copy_is_close_and_independent_report_is_far():
    seed = minhash(seed_text())
    assert jaccard_estimate(seed, minhash(republished_copy())) >= 0.85
    assert jaccard_estimate(seed, minhash(INDEPENDENT_REPORT)) < 0.2


def test_bands_are_signed_64_bit_and_shared_by_copies():
    a = lsh_bands(minhash(seed_text()))
    b = lsh_bands(minhash(republished_copy()))
    assert [band for band, _ in a] == list(range(32))
    assert all(-(2**63) <= h < 2**63 for _, h in a)
    assert len(set(a) & set(b)) >= 8
    assert not set(a) & set(lsh_bands(minhash(INDEPENDENT_REPORT)))


def test_short_texts_get_no_fingerprint():
    short = " ".join(f"w{i}" for i in range(MIN_WORDS - 1))
    assert fingerprint(short) is None
    assert fingerprint(short + " final") is not None
    assert fingerprint("") is None
    assert minhash("") == [0] * NUM_PERM
