"""Body-text quality on the 320-page extraction evaluation set (development part), judged
against trafilatura's default run on the same pages in the same test.

Score from the corpus README: a sentence counts as kept when its whitespace-normalised text is a
substring of the whitespace-normalised extracted text; score = (kept ``with`` + absent
``without``) / (all ``with`` + all ``without``). Beside the set score, no page may keep fewer
than half of the ``with`` sentences trafilatura default keeps there: an average can hide a lost
article, and a lost article is what an analyst notices.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import trafilatura

from crawler.articles.extraction import extract
from tests.support.shared_corpus import shared_skip_reason

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "extraction-eval-dev"
MARGIN = 0.01
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class EvalPage:
    url: str
    file: str
    raw: bytes
    with_: tuple[str, ...]
    without: tuple[str, ...]


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


def eval_pages(corpus: Path) -> list[EvalPage]:
    data = json.loads((corpus / "evaldata.json").read_text(encoding="utf-8"))
    return [
        EvalPage(
            url=url,
            file=item["file"],
            raw=gzip.decompress((corpus / "html" / item["file"]).read_bytes()),
            with_=tuple(normalise(s) for s in item["with"]),
            without=tuple(normalise(s) for s in item["without"]),
        )
        for url, item in data.items()
    ]


def kept_counts(text: str, page: EvalPage) -> tuple[int, int]:
    """(``with`` sentences kept, ``without`` sentences leaked) for normalised ``text``."""
    return sum(s in text for s in page.with_), sum(s in text for s in page.without)


def test_kept_counts_normalise_whitespace() -> None:
    page = EvalPage("u", "f", b"", ("a b", "c"), ("menu",))
    assert kept_counts(normalise("x a\nb y menu"), page) == (1, 1)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_eval_set_beats_trafilatura_default() -> None:
    if not (CORPUS / "evaldata.json").is_file():
        pytest.skip(shared_skip_reason(CORPUS))
    pages = eval_pages(CORPUS)
    ours_good = theirs_good = total = 0
    below_half: list[str] = []
    for page in pages:
        ours_with, ours_leaked = kept_counts(normalise(extract(page.raw, page.url).text), page)
        theirs_text = trafilatura.extract(page.raw, url=page.url) or ""
        theirs_with, theirs_leaked = kept_counts(normalise(theirs_text), page)
        ours_good += ours_with + len(page.without) - ours_leaked
        theirs_good += theirs_with + len(page.without) - theirs_leaked
        total += len(page.with_) + len(page.without)
        if ours_with * 2 < theirs_with:
            below_half.append(f"{page.url} ({ours_with}/{theirs_with})")
    ours_score, theirs_score = ours_good / total, theirs_good / total
    print(f"\nextraction eval: pages={len(pages)} ours={ours_score:.4f} default={theirs_score:.4f}")
    assert len(pages) == 320
    assert not below_half, below_half
    assert ours_score >= theirs_score + MARGIN
