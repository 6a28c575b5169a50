"""Near-duplicate detection: precision/recall on a generated pair set, and per-article dedupe
cost as the stored corpus grows.

Pair set: Spanish-like texts drawn from a word list (Zipf-weighted), each with a copy edited the
way outlets republish (new lead line, added credit, cut last paragraph, other site boilerplate,
a few changed words), plus hard negatives: independent texts on the same topic that quote the
same official statement, and bulletins filled into one template (short and long).

Cost: a SQLite corpus of N articles is bulk-loaded through ``Store.store`` (random signatures
stand in for unrelated articles, which is what their bands look like), then a batch of fresh
articles — half of them copies of stored ones — is timed through ``Store.store``.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.identity.credits import credited_source
from crawler.identity.fingerprint import fingerprint
from crawler.identity.hashing import content_hash
from storage.models import articles
from storage.store import Store
from storage.types import ArticleRecord

_WORDLIST = (
    "el la los las de del en y que a por con para se su sus un una al es como más pero sus "
    "gobierno seguridad frontera armas tráfico cártel fiscalía detenido operativo federal estado "
    "municipio policía ejército guardia nacional méxico estados unidos sonora arizona nogales "
    "hermosillo cajeme reunión acuerdo cooperación bilateral secretaría relaciones exteriores "
    "embajador funcionarios delegación migración aduana garita fentanilo pastillas decomiso "
    "investigación juez proceso extradición dinero lavado red financiera informe datos cifras "
    "semana jueves martes año mes días horas personas familias comunidad región zona carretera "
    "vehículo camión agentes elementos autoridades presunto responsable delito víctima denuncia "
    "mandatario presidenta congreso senado ley reforma recursos presupuesto programa plan medidas "
    "inspección control vigilancia puertos entrada cruce norte sur país nación capital ciudad"
)
WORDS = _WORDLIST.split()
STATEMENT = (
    "ambas delegaciones reafirmaron su compromiso con la responsabilidad compartida el respeto "
    "mutuo a la soberanía y la confianza entre las instituciones de los dos países"
)
TEMPLATE = (
    "La Fiscalía General del Estado informó que elementos de la Agencia Ministerial detuvieron a "
    "{n} de {a} años en la colonia {c} de {m} como presunto responsable del delito de {d}. El "
    "detenido fue puesto a disposición del juez de control quien resolverá su situación jurídica."
)
NAMES = ["Juan Pérez", "Ana Gil", "Luis Soto", "Rosa Ruiz", "Omar Vega", "Elena Cruz"]
PLACES = ["Centro", "Sahuaro", "Las Quintas", "Cortinas", "Pitic", "Modelo"]
CITIES = ["Hermosillo", "Cajeme", "Guaymas", "Nogales", "Navojoa", "San Luis"]
CRIMES = ["robo", "homicidio", "extorsión", "narcomenudeo", "secuestro", "fraude"]
T0 = datetime(2025, 12, 11, 12, tzinfo=UTC)


class Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.weights = [1 / (i + 1) for i in range(len(WORDS))]

    def sentence(self, n: int | None = None) -> str:
        n = n or self.rng.randint(12, 28)
        return " ".join(self.rng.choices(WORDS, self.weights, k=n)).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 4)))

    def article(self) -> list[str]:
        return [self.paragraph() for _ in range(self.rng.randint(4, 8))]

    def copy(self, paras: list[str]) -> str:
        out = list(paras)
        rng = self.rng
        if rng.random() < 0.5:
            out = out[:-1]  # cut last paragraph
        if rng.random() < 0.5:
            out.insert(0, "CIUDAD DE MÉXICO (EFE).- " + out.pop(0))
        if rng.random() < 0.6:
            out.append("Fuente: Tribuna del Yaqui")
        if rng.random() < 0.5:
            out.append("Síguenos en nuestras redes sociales y recibe las noticias del día.")
        if rng.random() < 0.5:  # a copy editor's touch: a few words changed
            words = out[0].split()
            for _ in range(3):
                words[rng.randrange(len(words))] = rng.choice(WORDS)
            out[0] = " ".join(words)
        return "\n".join(out)

    def same_topic(self) -> tuple[str, str]:
        a, b = self.article(), self.article()
        a.insert(1, STATEMENT.capitalize() + ".")
        b.insert(2, STATEMENT.capitalize() + ".")
        return "\n".join(a), "\n".join(b)

    def brief(self, long: bool) -> str:
        r = self.rng
        text = TEMPLATE.format(
            n=r.choice(NAMES), a=r.randint(18, 60), c=r.choice(PLACES), m=r.choice(CITIES),
            d=r.choice(CRIMES),
        )  # fmt: skip
        if long:
            text += "\n" + TEMPLATE.replace("{n}", "otro sujeto").format(
                a=r.randint(18, 60), c=r.choice(PLACES), m=r.choice(CITIES), d=r.choice(CRIMES)
            )
        return text


def rec(i: int, source: str, text: str, sig="auto") -> ArticleRecord:
    return ArticleRecord(
        source=source,
        url=f"https://{source}.example/{i}",
        canonical_url=f"https://{source}.example/{i}",
        title=f"nota {i}",
        text=text,
        content_hash=content_hash(f"{i}:{text}"),
        fetched_at=T0,
        published_at=T0 + timedelta(minutes=i),
        minhash=fingerprint(text) if sig == "auto" else sig,
        credited_source=credited_source(text),
    )


def _record(name: str, value: float, unit: str, **detail: object) -> dict:
    return {"name": name, "value": round(value, 4), "unit": unit, "detail": detail}


def quality(n_pairs: int, tmp: Path) -> Iterator[dict]:
    gen = Gen(7)
    docs: list[ArticleRecord] = []
    positives, negatives = [], []
    for k in range(n_pairs):
        paras = gen.article()
        docs += [rec(4 * k, "a", "\n".join(paras)), rec(4 * k + 1, "b", gen.copy(paras))]
        positives.append((docs[-2].url, docs[-1].url))
        x, y = gen.same_topic()
        docs += [rec(4 * k + 2, "c", x), rec(4 * k + 3, "d", y)]
        negatives.append((docs[-2].url, docs[-1].url))
    for k in range(n_pairs):
        long = k % 2 == 1
        docs += [
            rec(10**6 + 2 * k, "e", gen.brief(long)),
            rec(10**6 + 2 * k + 1, "e", gen.brief(long)),
        ]
        negatives.append((docs[-2].url, docs[-1].url))
    store = Store(f"sqlite:///{tmp / 'quality.sqlite'}")
    started = time.perf_counter()
    for i in range(0, len(docs), 200):
        store.store(docs[i : i + 200])
    elapsed = time.perf_counter() - started
    with store.engine.connect() as conn:
        cluster = dict(
            conn.execute(
                articles.select().with_only_columns(articles.c.url, articles.c.cluster_id)
            ).all()
        )
    store.close()
    tp = sum(cluster[a] == cluster[b] for a, b in positives)
    fp = sum(cluster[a] == cluster[b] for a, b in negatives)
    precision = tp / (tp + fp) if tp + fp else 1.0
    yield _record(
        "dedupe_precision",
        precision,
        "ratio",
        true_pos=tp,
        false_pos=fp,
        negative_pairs=len(negatives),
    )
    yield _record("dedupe_recall", tp / len(positives), "ratio", positive_pairs=len(positives))
    yield _record(
        "dedupe_store_small_corpus", 1000 * elapsed / len(docs), "ms/article", articles=len(docs)
    )


def cost(size: int, tmp: Path, batch: int = 200) -> float:
    """ms per article to store (insert + near-dup lookup + cluster) into a corpus of ``size``."""
    rng = random.Random(size)
    gen = Gen(size)
    store = Store(f"sqlite:///{tmp / f'cost{size}.sqlite'}")
    anchors = [gen.article() for _ in range(batch // 2)]
    load = [rec(i, "a", "\n".join(p)) for i, p in enumerate(anchors)]
    filler = " ".join(WORDS[:30])
    for i in range(len(load), size):
        sig = [rng.getrandbits(32) for _ in range(128)]
        load.append(rec(i, "f", filler, sig=sig))
        if len(load) >= 2000:
            store.store(load)
            load = []
    if load:
        store.store(load)
    fresh = [rec(size + i, "b", gen.copy(p)) for i, p in enumerate(anchors)]
    fresh += [rec(2 * size + i, "c", "\n".join(gen.article())) for i in range(batch - len(fresh))]
    started = time.perf_counter()
    for i in range(0, len(fresh), 25):  # the crawler's batch size
        store.store(fresh[i : i + 25])
    elapsed = time.perf_counter() - started
    store.close()
    return 1000 * elapsed / len(fresh)


def run(quick: bool = False) -> Iterator[dict]:
    small, large = (1_000, 5_000) if quick else (10_000, 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        yield from quality(100 if quick else 500, tmp_path)
        text = "\n".join(Gen(1).article())
        started = time.perf_counter()
        for _ in range(200):
            fingerprint(text)
        yield _record(
            "fingerprint_cost",
            1000 * (time.perf_counter() - started) / 200,
            "ms/article",
            words=len(text.split()),
        )
        a, b = cost(small, tmp_path), cost(large, tmp_path)
        yield _record(f"dedupe_store_cost_{small}", a, "ms/article", stored=small)
        yield _record(f"dedupe_store_cost_{large}", b, "ms/article", stored=large)
        yield _record("dedupe_store_cost_ratio", b / a, "ratio", sizes=[small, large])
