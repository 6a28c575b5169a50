"""Extraction quality on both shared dev sets, ours beside trafilatura's default, in one run.

Prints one JSON line per (corpus, extractor) with the set's score and CPU ms per page (decoding
included), then one line comparing per-page kept ``with`` sentences on the eval set: pages where
we keep fewer than trafilatura default, and fewer than half of what it keeps. Judging a change on
both sets at once is the point: a rule that helps one and hurts the other is overfitting.

    python -m tests.bench.bench_extraction_quality
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import trafilatura

from crawler.articles.extraction import body as body_module
from crawler.articles.extraction import extract
from tests.test_extraction_benchmark import page_scores
from tests.test_extraction_eval import EvalPage, eval_pages, kept_counts, normalise

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
BENCHMARK = SHARED / "extraction-benchmark-dev"
EVAL = SHARED / "extraction-eval-dev"

Extractor = Callable[[bytes, str], str]


class FallbackCounter:
    """Counts pages on which the body extractor ran trafilatura more than once (the fallback)."""

    def __init__(self) -> None:
        self.calls = 0
        self.pages = 0
        self._original = body_module._run_trafilatura

    def __enter__(self) -> FallbackCounter:
        def counting(*args: object, **kwargs: object) -> str:
            self.calls += 1
            return self._original(*args, **kwargs)

        body_module._run_trafilatura = counting
        return self

    def __exit__(self, *exc: object) -> None:
        body_module._run_trafilatura = self._original


_COUNTER: FallbackCounter | None = None


def ours(raw: bytes, url: str) -> str:
    before = _COUNTER.calls if _COUNTER else 0
    text = extract(raw, url).text
    if _COUNTER is not None and _COUNTER.calls - before > 1:
        _COUNTER.pages += 1
    return text


def trafilatura_default(raw: bytes, url: str) -> str:
    return trafilatura.extract(raw, url=url) or ""


EXTRACTORS: dict[str, Extractor] = {"ours": ours, "trafilatura_default": trafilatura_default}


def _timed(extractor: Extractor, raw: bytes, url: str) -> tuple[str, float]:
    start = time.process_time()
    text = extractor(raw, url)
    return text, time.process_time() - start


def benchmark_pages(limit: int | None = None) -> list[tuple[str, bytes, str]]:
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    items = list(truth.items())[:limit]
    return [
        (item["url"], gzip.decompress((BENCHMARK / "html" / f"{pid}.html.gz").read_bytes()),
         item["articleBody"])
        for pid, item in items
    ]  # fmt: skip


def score_benchmark(extractor: Extractor, pages: list[tuple[str, bytes, str]]) -> dict:
    precisions, recalls, cpu = [], [], 0.0
    for url, raw, expected in pages:
        text, spent = _timed(extractor, raw, url)
        cpu += spent
        precision, recall = page_scores(text, expected)
        precisions.append(precision)
        recalls.append(recall)
    p = sum(precisions) / len(pages)
    r = sum(recalls) / len(pages)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"score": round(f1, 4), "precision": round(p, 4), "recall": round(r, 4),
            "cpu_ms_per_page": round(1000 * cpu / len(pages), 1)}  # fmt: skip


def score_eval(extractor: Extractor, pages: list[EvalPage]) -> tuple[dict, list[int]]:
    kept_with = kept_without = total_with = total_without = 0
    cpu = 0.0
    per_page: list[int] = []
    for page in pages:
        text, spent = _timed(extractor, page.raw, page.url)
        cpu += spent
        kept, leaked = kept_counts(normalise(text), page)
        per_page.append(kept)
        kept_with += kept
        kept_without += leaked
        total_with += len(page.with_)
        total_without += len(page.without)
    score = (kept_with + total_without - kept_without) / (total_with + total_without)
    return {"score": round(score, 4), "with_kept": f"{kept_with}/{total_with}",
            "without_leaked": f"{kept_without}/{total_without}",
            "cpu_ms_per_page": round(1000 * cpu / len(pages), 1)}, per_page  # fmt: skip


def _fallback_pages(name: str, score: Callable[[], dict]) -> dict:
    """Run ``score`` and, for our extractor, add on how many pages the fallback ran."""
    global _COUNTER
    if name != "ours":
        return score()
    with FallbackCounter() as counter:
        _COUNTER = counter
        try:
            record = score()
        finally:
            _COUNTER = None
    return {**record, "fallback_pages": counter.pages}


def _records(corpus: str, extractor: str, pages: int, figures: dict) -> Iterator[dict]:
    """The suite's record shape (name, value, unit, detail): a score and a CPU figure."""
    detail = {"corpus": corpus, "extractor": extractor, "pages": pages, **figures}
    yield {"name": f"extraction_{corpus}_score_{extractor}", "value": figures["score"],
           "unit": "score", "detail": detail}  # fmt: skip
    yield {"name": f"extraction_{corpus}_cpu_ms_{extractor}", "value": figures["cpu_ms_per_page"],
           "unit": "ms/page", "detail": {"corpus": corpus, "extractor": extractor}}  # fmt: skip


def run(quick: bool = False) -> Iterator[dict]:
    limit = 10 if quick else None
    bench = benchmark_pages(limit)
    trafilatura.extract(bench[0][1], url=bench[0][0], favor_recall=True)  # lazy imports, once
    extract(bench[0][1], bench[0][0])
    for name, extractor in EXTRACTORS.items():
        record = _fallback_pages(name, lambda e=extractor: score_benchmark(e, bench))
        yield from _records("benchmark", name, len(bench), record)
    pages = eval_pages(EVAL)[:limit]
    kept: dict[str, list[int]] = {}
    for name, extractor in EXTRACTORS.items():
        per_page: list[int] = []

        def score(e: Extractor = extractor, out: list[int] = per_page) -> dict:
            record, counts = score_eval(e, pages)
            out.extend(counts)
            return record

        record = _fallback_pages(name, score)
        kept[name] = per_page
        yield from _records("eval", name, len(pages), record)
    pairs = list(zip(kept["ours"], kept["trafilatura_default"], pages, strict=True))
    yield {
        "name": "extraction_eval_pages_below_half_of_default",
        "value": sum(1 for o, t, _ in pairs if o * 2 < t),
        "unit": "pages",
        "detail": {
            "fewer_with_kept_than_default": [f"{p.file} {o}/{t}" for o, t, p in pairs if o < t],
            "more_with_kept_than_default": sum(1 for o, t, _ in pairs if o > t),
            "below_half": [p.url for o, t, p in pairs if o * 2 < t],
        },
    }


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv[1:]):
        print(json.dumps(line, ensure_ascii=False), flush=True)
