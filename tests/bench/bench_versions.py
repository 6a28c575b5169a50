"""Edit history storage cost: bytes per stored version on a realistic edit mix.

Each article is stored through ``Store.store`` (the real write path), then edited 1-4 times the
way news is edited after publication (NewsEdits' most frequent kinds): a number changed (a toll),
a word or name changed, a sentence added, a paragraph added, a paragraph cut, a credit line
changed, typo fixes, and now and then a rewrite of the lead. Each edit is stored again, so
``article_versions`` receives the previous version as the write path makes it.

Figures: ``version_bytes`` (mean stored bytes of a version's text, the reverse delta), beside the
raw text size of the same versions and the size zstd alone (same level, no reference) would
store; ``version_history_ms`` is reading one article's whole history back.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import zstandard
from sqlalchemy import func, select

from crawler.identity.hashing import content_hash
from storage.models import article_versions, articles
from storage.store import Store
from storage.types import ArticleRecord
from storage.versions import ZSTD_LEVEL, history
from tests.bench.bench_dedupe import Gen

Edit = Callable[[list[str], random.Random, Gen], list[str]]


def _toll(paras, rng, gen):
    out = list(paras)
    i = rng.randrange(len(out))
    out[i] = f"{out[i]} Hasta ahora suman {rng.randint(2, 40)} víctimas."
    return out if rng.random() < 0.5 else [p.replace(" tres ", " siete ") for p in out]


def _word(paras, rng, gen):
    out = list(paras)
    i = rng.randrange(len(out))
    words = out[i].split()
    words[rng.randrange(len(words))] = rng.choice(["Sinaloa", "presunto", "Hermosillo", "SRE"])
    out[i] = " ".join(words)
    return out


def _sentence(paras, rng, gen):
    out = list(paras)
    i = rng.randrange(len(out))
    out[i] = f"{out[i]} {gen.sentence()}"
    return out


def _paragraph(paras, rng, gen):
    out = list(paras)
    out.insert(rng.randint(1, len(out)), gen.paragraph())
    return out


def _cut(paras, rng, gen):
    return paras[:-1] if len(paras) > 2 else [*paras, gen.paragraph()]


def _credit(paras, rng, gen):
    return [*paras[:-1], f"Por {rng.choice(['Ana Gil', 'Luis Soto', 'Redacción'])}"]


def _typo(paras, rng, gen):
    out = list(paras)
    i = rng.randrange(len(out))
    out[i] = out[i].replace(" el ", " él ", 1).replace(",", ";", 1)
    return out


def _lead(paras, rng, gen):
    return [gen.paragraph(), *paras[1:]]


EDIT_MIX: tuple[tuple[Edit, float], ...] = (
    (_toll, 0.2), (_word, 0.2), (_sentence, 0.2), (_paragraph, 0.15), (_cut, 0.05),
    (_credit, 0.08), (_typo, 0.07), (_lead, 0.05),
)  # fmt: skip


def _record(i: int, paras: list[str]) -> ArticleRecord:
    text = "\n\n".join(paras)
    return ArticleRecord(
        source="bench",
        url=f"https://example.com/nota/{i}",
        canonical_url=f"https://example.com/nota/{i}",
        guid=f"nota-{i}",
        title=f"Nota {i}",
        text=text,
        content_hash=content_hash(text),
        language="es",
        fetched_at=datetime.now(UTC),
    )


def _fig(name: str, value: float, unit: str, **detail: object) -> dict:
    return {"name": name, "value": round(value, 4), "unit": unit, "detail": detail}


def run(quick: bool = False) -> Iterator[dict]:
    n_articles = 40 if quick else 400
    rng, gen = random.Random(21), Gen(21)
    edits, weights = zip(*EDIT_MIX, strict=True)
    raw = plain = 0
    plain_zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'versions.sqlite'}")
        for i in range(n_articles):
            paras = [*gen.article(), "Por Redacción"]
            store.store([_record(i, paras)])
            for _ in range(rng.randint(1, 4)):
                edited = rng.choices(edits, weights)[0](paras, rng, gen)
                if edited == paras:
                    continue
                previous = "\n\n".join(paras).encode()
                raw, plain = raw + len(previous), plain + len(plain_zstd.compress(previous))
                paras = edited
                store.store([_record(i, paras)])
        with store.engine.connect() as conn:
            v = article_versions.c
            count, stored = conn.execute(
                select(func.count(), func.sum(func.length(v.text_z)))
            ).one()
            minor = conn.execute(select(func.count()).where(v.minor.is_(True))).scalar_one()
            ids = list(conn.execute(select(articles.c.id)).scalars())
        start = time.perf_counter()
        for ident in ids:
            history(store.engine, ident)
        read_ms = (time.perf_counter() - start) * 1000 / len(ids)
        store.close()
    detail = {
        "articles": n_articles,
        "versions": count,
        "raw_text_bytes_per_version": round(raw / count),
        "zstd_alone_bytes_per_version": round(plain / count),
        "minor_versions": minor,
    }
    yield _fig("version_bytes", stored / count, "bytes", **detail)
    yield _fig("version_bytes_vs_raw", stored / raw, "ratio", versions=count)
    yield _fig("version_history_ms", read_ms, "ms", articles=len(ids))
