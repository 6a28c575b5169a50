"""Story clusters: near-duplicate assignment inside the store's write transaction, and the
read-side helpers that give search/export rows their ``copies`` and ``outlets``.

Assignment for one article costs one indexed ``lsh_bands`` lookup (``(band, hash)`` pairs) that
also returns the signatures of at most :data:`~storage.neardup.MAX_CANDIDATES` candidates, and,
when it joins a story, one pass over that cluster's members to pick its representative:
independent of the corpus size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    TextClause,
    bindparam,
    delete,
    select,
    text,
    update,
)

from storage.models import article_time, articles, lsh_bands, sources
from storage.neardup import (
    MAX_CANDIDATES,
    SAME_SOURCE_THRESHOLD,
    choose_representative,
    is_near_duplicate,
    jaccard_estimate,
    unpack_signature,
)
from storage.neardup import lsh_bands as make_bands

a = articles.c
lb = lsh_bands.c


_SET_OWN_CLUSTER = (
    update(articles)
    .where(a.id == bindparam("b_id"))
    .values(cluster_id=bindparam("b_id"), cluster_rep=True)
)
"""A new article that matches nothing is its own story (built once: the common case)."""


def write_bands(
    conn: Connection,
    article_id: int,
    signature: Sequence[int] | None,
    *,
    replace: bool = True,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> None:
    """Replace the article's rows in ``lsh_bands`` (none for a text without signature).

    ``replace=False`` skips the delete, for an article inserted in this transaction; ``pairs``
    are the signature's bands when the caller has them already. The rows go to the driver as
    plain tuples: 32 rows per article through SQLAlchemy's parameter processing cost more than
    the inserts.
    """
    if replace:
        conn.execute(delete(lsh_bands).where(lb.article_id == article_id))
    if signature:
        pairs = pairs if pairs is not None else make_bands(signature)
        conn.exec_driver_sql(
            _insert_bands_sql(conn.dialect.paramstyle),
            [(article_id, band, value) for band, value in pairs],
        )


@lru_cache(maxsize=4)
def _insert_bands_sql(paramstyle: str) -> str:
    marks = {"qmark": "?, ?, ?", "numeric": ":1, :2, :3"}.get(paramstyle, "%s, %s, %s")
    return f"INSERT INTO lsh_bands (article_id, band, hash) VALUES ({marks})"


def best_match(
    conn: Connection,
    article_id: int,
    signature: Sequence[int],
    source: str,
    threshold: float,
    shingles: int | None = None,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> tuple[int, float] | None:
    """``(cluster_id, similarity)`` of the closest already-clustered article, if close enough.

    One query ranks the articles sharing a band by how many bands they share and returns the
    strongest :data:`~storage.neardup.MAX_CANDIDATES` with their signatures; only those are
    verified. A candidate is accepted by :func:`~storage.neardup.is_near_duplicate` (Jaccard, or
    containment using both shingle counts); within one source the bar is at least
    :data:`SAME_SOURCE_THRESHOLD` (template briefs). The similarity returned is the Jaccard
    estimate.
    """
    params: dict[str, Any] = {"id": article_id, "k": MAX_CANDIDATES}
    pairs = pairs if pairs is not None else make_bands(signature)
    for i, (band, value) in enumerate(pairs):
        params[f"b{i}"], params[f"h{i}"] = band, value
    rows = conn.execute(_candidates_sql(len(pairs)), params)
    best: tuple[float, int] | None = None
    for row in rows:
        other = unpack_signature(row.minhash)
        if other is None:
            continue
        sim = jaccard_estimate(signature, other)
        bar = max(threshold, SAME_SOURCE_THRESHOLD) if row.source == source else threshold
        if not is_near_duplicate(sim, shingles, row.shingles, bar):
            continue
        if best is None or (sim, -row.cluster_id) > (best[0], -best[1]):
            best = (sim, row.cluster_id)
    return None if best is None else (best[1], best[0])


@lru_cache(maxsize=4)
def _candidates_sql(n_bands: int) -> TextClause:
    """The candidate query for signatures of ``n_bands`` bands, built once: constructing 32
    ``(band, hash)`` conditions per article cost more than running the query."""
    match = " OR ".join(f"(band = :b{i} AND hash = :h{i})" for i in range(n_bands))
    return text(
        "SELECT a.source, a.cluster_id, a.minhash, a.shingles FROM ("
        f"SELECT article_id, count(*) AS n FROM lsh_bands WHERE ({match}) AND article_id != :id "
        "GROUP BY article_id ORDER BY n DESC, article_id LIMIT :k"
        ") AS s JOIN articles AS a ON a.id = s.article_id WHERE a.cluster_id IS NOT NULL"
    )


def assign(
    conn: Connection,
    article_id: int,
    signature: Sequence[int] | None,
    source: str,
    threshold: float,
    *,
    bands: bool = True,
    shingles: int | None = None,
    new: bool = False,
) -> int:
    """Put one article into a cluster (joining its best near-duplicate's, else its own).

    Called for new articles and for stored ones whose text changed; the representative of the
    cluster joined (and of the one left) is recomputed. ``new=True`` (inserted in this
    transaction, so in no cluster yet and with no bands) saves the lookups that cannot find
    anything; a new article that matches nothing is its own representative in one UPDATE.
    Returns the cluster id.
    """
    old = (
        None
        if new
        else conn.execute(select(a.cluster_id).where(a.id == article_id)).scalar_one_or_none()
    )
    pairs = make_bands(signature) if signature else None
    if bands:
        write_bands(conn, article_id, signature, replace=not new, pairs=pairs)
    target = article_id
    if signature:
        match = best_match(conn, article_id, signature, source, threshold, shingles, pairs)
        if match is not None:
            target = match[0]
    if new and target == article_id:
        conn.execute(_SET_OWN_CLUSTER, {"b_id": article_id})
        return target
    conn.execute(update(articles).where(a.id == article_id).values(cluster_id=target))
    refresh_representative(conn, target)
    if old is not None and old != target:
        refresh_representative(conn, old)
    return target


def refresh_representative(conn: Connection, cluster_id: int) -> int | None:
    """Mark the cluster's representative (see :func:`storage.neardup.choose_representative`)."""
    members = (
        conn.execute(
            select(
                a.id,
                a.source,
                a.credited_source,
                a.published_at,
                a.first_seen_at,
                a.cluster_rep,
                sources.c.title.label("source_title"),
            )
            .select_from(articles.outerjoin(sources, sources.c.name == a.source))
            .where(a.cluster_id == cluster_id)
        )
        .mappings()
        .all()
    )
    rep = choose_representative(members)
    for m in members:
        want = m["id"] == rep
        if bool(m["cluster_rep"]) != want:
            conn.execute(update(articles).where(a.id == m["id"]).values(cluster_rep=want))
    return rep


def cluster_info(conn: Connection, cluster_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Per cluster: ``copies`` (articles), ``outlets`` (sources, earliest first), ``rep`` (id)."""
    wanted = sorted({c for c in cluster_ids if c is not None})
    info: dict[int, dict[str, Any]] = {}
    when = article_time()
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        rows = conn.execute(
            select(a.cluster_id, a.id, a.source, a.cluster_rep)
            .where(a.cluster_id.in_(chunk))
            .order_by(a.cluster_id, when, a.id)
        )
        for row in rows:
            item = info.setdefault(row.cluster_id, {"copies": 0, "outlets": [], "rep": None})
            item["copies"] += 1
            if row.source not in item["outlets"]:
                item["outlets"].append(row.source)
            if row.cluster_rep:
                item["rep"] = row.id
    return info


def annotate(conn: Connection, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill ``copies`` and ``outlets`` of records in place (an unclustered article: itself)."""
    info = cluster_info(conn, (r.get("cluster_id") for r in records))
    for record in records:
        item = info.get(record.get("cluster_id"))
        record["copies"] = item["copies"] if item else 1
        record["outlets"] = list(item["outlets"]) if item else [record.get("source")]
    return records


def annotate_stream(
    engine: Engine, records: Iterable[dict[str, Any]], batch: int = 500
) -> Iterator[dict[str, Any]]:
    """:func:`annotate` over a stream, one lookup per ``batch`` records."""
    pending: list[dict[str, Any]] = []
    for record in records:
        pending.append(record)
        if len(pending) >= batch:
            with engine.connect() as conn:
                yield from annotate(conn, pending)
            pending = []
    if pending:
        with engine.connect() as conn:
            yield from annotate(conn, pending)


def collapse(conn: Connection, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per cluster from ranked hits, in the rank of each cluster's best hit.

    The record shown is the cluster's representative when it is among the hits (so filters
    still hold), else the best-ranked member. Title, URL, dates and snippet all come from that
    one record: a row that showed one copy's title with another copy's snippet misled readers.
    """
    groups: dict[Any, list[dict[str, Any]]] = {}
    for hit in hits:
        key = hit.get("cluster_id") or ("article", hit["id"])
        groups.setdefault(key, []).append(hit)
    info = cluster_info(conn, (k for k in groups if not isinstance(k, tuple)))
    out = []
    for key, members in groups.items():
        best = members[0]
        rep_id = info.get(key, {}).get("rep")
        out.append(next((m for m in members if m["id"] == rep_id), best))
    return out


def resolve_cluster(conn: Connection, ident: int) -> int | None:
    """The cluster of article ``ident``, else ``ident`` itself if it names a cluster."""
    cid = conn.execute(select(a.cluster_id).where(a.id == ident)).scalar_one_or_none()
    if cid is not None:
        return cid
    exists = conn.execute(select(a.id).where(a.cluster_id == ident).limit(1)).first()
    return ident if exists else None
