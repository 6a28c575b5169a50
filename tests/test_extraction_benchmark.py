"""Body-text quality on the 91-page article-extraction benchmark (development half).

Metric from the corpus README: words by ``\\w+``, 4-word shingles counted with repeats,
precision and recall averaged over pages, F1 of the two averages. trafilatura's default
scores 0.965 there; ``extract`` must not do worse.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from crawler.articles.extraction import extract
from tests.support.shared_corpus import shared_skip_reason

CORPUS = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "extraction-benchmark-dev"
)
MIN_F1 = 0.965
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


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_benchmark_f1() -> None:
    truth_file = CORPUS / "ground-truth.json"
    if not truth_file.is_file():
        pytest.skip(shared_skip_reason(CORPUS))
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    precisions, recalls = [], []
    for page_id, item in truth.items():
        raw = gzip.decompress((CORPUS / "html" / f"{page_id}.html.gz").read_bytes())
        precision, recall = page_scores(extract(raw, item["url"]).text, item["articleBody"])
        precisions.append(precision)
        recalls.append(recall)
    p = sum(precisions) / len(precisions)
    r = sum(recalls) / len(recalls)
    f1 = 2 * p * r / (p + r)
    print(
        f"\nextraction benchmark: pages={len(truth)} precision={p:.4f} recall={r:.4f} F1={f1:.4f}"
    )
    assert len(truth) == 91
    assert f1 >= MIN_F1
