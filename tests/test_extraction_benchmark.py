"""Body-text quality on the 91-page article-extraction benchmark (development half).

Metric from the corpus README: words by ``\\w+``, 4-word shingles counted with repeats,
precision and recall averaged over pages, F1 of the two averages. ``extract`` must beat
trafilatura's default, run on the same pages in the same test, by ``MARGIN``; the eval set
(tests/test_extraction_eval.py) holds it to the same margin, so a rule tuned to one set shows.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import trafilatura

from crawler.articles.extraction import extract
from tests.support.shared_corpus import shared_skip_reason

CORPUS = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "extraction-benchmark-dev"
)
MARGIN = 0.01
_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = _WORD.findall(text or "")
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def page_scores(extracted: str, expected: str) -> tuple[float, float]:
    got, want = shingles(extracted), shingles(expected)
    shared = sum((got & want).values())
    precision = shared / sum(got.values()) if got else float(not want)
    recall = shared / sum(want.values()) if want else 1.0
    return precision, recall


def test_metric_counts_repeats() -> None:
    precision, recall = page_scores("a b c d a b c d", "a b c d")
    assert recall == 1.0
    assert precision == pytest.approx(1 / 5)


def f1_score(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(precision, recall, F1) from per-page (precision, recall): F1 of the two averages."""
    p = sum(pair[0] for pair in pairs) / len(pairs)
    r = sum(pair[1] for pair in pairs) / len(pairs)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_benchmark_f1() -> None:
    truth_file = CORPUS / "ground-truth.json"
    if not truth_file.is_file():
        pytest.skip(shared_skip_reason(CORPUS))
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    ours, theirs = [], []
    for page_id, item in truth.items():
        raw = gzip.decompress((CORPUS / "html" / f"{page_id}.html.gz").read_bytes())
        expected = item["articleBody"]
        ours.append(page_scores(extract(raw, item["url"]).text, expected))
        theirs.append(page_scores(trafilatura.extract(raw, url=item["url"]) or "", expected))
    p, r, f1 = f1_score(ours)
    default_f1 = f1_score(theirs)[2]
    print(
        f"\nextraction benchmark: pages={len(truth)} precision={p:.4f} recall={r:.4f} F1={f1:.4f}"
        f" trafilatura default F1={default_f1:.4f}"
    )
    assert len(truth) == 91
    assert f1 >= default_f1 + MARGIN
