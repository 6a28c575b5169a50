"""Article versions: what a fetch that changed an article replaced, and reading them back.

Each ``article_versions`` row is the PREVIOUS version of an article at the moment a fetch changed
it, written in the same transaction as the in-place update of ``articles`` (so a crash leaves the
old version in place or the new one with its history, never half). Its text is stored as a
reverse delta: zstd-compressed with the next version's text as a raw-content dictionary, so a
changed toll costs tens of bytes, not a copy of the article. Reading version ``k`` therefore
walks back from the current text; a chain of a few dozen versions is decoded in microseconds.

Versions are numbered 1..n+1: rows 1..n (``seq``) and the current row as n+1.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import zstandard
from sqlalchemy import Connection, Engine, func, select

from storage.minor import is_minor
from storage.models import article_versions, articles
from storage.records import to_utc


def iso(value: datetime | None) -> str | None:
    """A stored naive-UTC time as ISO 8601 with its UTC offset."""
    return None if value is None else value.replace(tzinfo=UTC).isoformat()


VERSION_FIELDS = ("title", "text", "authors", "published_at", "updated_at", "description")
"""The fields whose change makes a version (the rest, like relevance, is our own analysis)."""
ZSTD_LEVEL = 19
"""Versions are written rarely and small: the strongest level costs well under a millisecond."""
MAX_VERSION_TEXT = 64 * 1024 * 1024

_TOKEN = re.compile(r"\s+|[^\s]+")


def _dictionary(reference: str) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(
        reference.encode(), dict_type=zstandard.DICT_TYPE_RAWCONTENT
    )


def encode_text(text: str, reference: str) -> bytes:
    """``text`` compressed against ``reference`` (the next version's text)."""
    if not reference:
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(text.encode())
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_dictionary(reference))
    return compressor.compress(text.encode())


def decode_text(blob: bytes, reference: str) -> str:
    """The text :func:`encode_text` stored, given the same ``reference``."""
    kwargs = {"dict_data": _dictionary(reference)} if reference else {}
    reader = zstandard.ZstdDecompressor(**kwargs)
    return reader.decompress(blob, max_output_size=MAX_VERSION_TEXT).decode()


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The version fields whose value differs, in :data:`VERSION_FIELDS` order."""
    return [f for f in VERSION_FIELDS if (old.get(f) or None) != (new.get(f) or None)]


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """A word-level diff as ``(op, text)`` pieces: ``=`` kept, ``-`` removed, ``+`` added.
    Whitespace is kept as its own token so the pieces join back into either text."""
    a, b = _TOKEN.findall(old or ""), _TOKEN.findall(new or "")
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(("=", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(("-", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("+", "".join(b[j1:j2])))
    return pieces


def trim_unchanged(pieces: list[tuple[str, str]], context: int) -> list[tuple[str, str]]:
    """The diff with each long unchanged run cut to ``context`` characters each side (``…`` in
    between): what a terminal, a pipe or an alert shows of a long article's edit."""
    out = []
    for op, text in pieces:
        if op == "=" and len(text) > 2 * context + 5:
            text = f"{text[:context]} … {text[-context:]}"
        out.append((op, text))
    return out


def plain_diff(pieces: list[tuple[str, str]], context: int | None = None) -> str:
    """``[-removed-]{+added+}`` markup (git's word-diff style) for pipes and files; with
    ``context``, long unchanged runs are cut to that many characters each side."""
    if context is not None:
        pieces = trim_unchanged(pieces, context)
    out = []
    for op, text in pieces:
        if op == "-":
            out.append(f"[-{text}-]")
        elif op == "+":
            out.append(f"{{+{text}+}}")
        else:
            out.append(text)
    return "".join(out)


def char_counts(old: str, new: str) -> tuple[int, int]:
    """Characters added and removed between two texts, counted on the word diff."""
    added = removed = 0
    for op, text in word_diff(old, new):
        if op == "+":
            added += len(text)
        elif op == "-":
            removed += len(text)
    return added, removed


DIFF_FIELDS = ("title", "description", "authors", "published_at", "updated_at", "text")
"""The fields a diff shows, in reading order (headline first, the body last)."""
LISTED_FIELDS = (
    "version", "fetched_at", "replaced_at", "changed", "minor", "chars_added", "chars_removed",
    "title", "content_hash", "current", "withdrawn_at",
)  # fmt: skip
"""What a listing of versions shows of each (the text is left to the diff)."""


def field_text(value: Any) -> str:
    """A version field as the text a diff compares (authors joined, no value empty)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def check_diff_number(versions: list[dict[str, Any]], n: int) -> None:
    """Raise ValueError unless version ``n`` has a next one to diff against."""
    if 1 <= n < len(versions):
        return
    if len(versions) < 2:
        raise ValueError(f"{n}: the article has one version, nothing changed yet")
    last = f" to {len(versions) - 1}" if len(versions) > 2 else ""
    raise ValueError(f"{n}: the article has {len(versions)} version(s), so N is 1{last}")


def diff_pieces(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Per changed field (in :data:`DIFF_FIELDS` order): the word diff from ``old`` to the next
    version ``new``. A withdrawal alone changes no field, so it has no pieces."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name in DIFF_FIELDS:
        before, after = field_text(old.get(name)), field_text(new.get(name))
        if name in old["changed"] and before != after:
            out[name] = word_diff(before, after)
    return out


def diff_record(versions: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """What changed from version ``n`` to ``n + 1`` as a record (``diff`` in the plain
    ``[-removed-]{+added+}`` form per field); ValueError for an ``n`` with no next version."""
    check_diff_number(versions, n)
    old = versions[n - 1]
    pieces = diff_pieces(old, versions[n])
    return {
        "from": n,
        "to": n + 1,
        "replaced_at": old["replaced_at"],
        "changed": old["changed"],
        "minor": old["minor"],
        "diff": {name: plain_diff(p) for name, p in pieces.items()},
    }


_PREVIOUS = (
    "id", "title", "text", "authors", "published_at", "updated_at", "description",
    "content_hash", "fetched_at",
)  # fmt: skip


def previous_row(conn: Connection, article_id: int) -> Mapping[str, Any] | None:
    """The article's version fields as stored now, read inside the writing transaction."""
    cols = [articles.c[name] for name in _PREVIOUS]
    return conn.execute(select(*cols).where(articles.c.id == article_id)).mappings().first()


def record_version(
    conn: Connection,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    now: datetime,
    *,
    event: str | None = None,
) -> bool:
    """Keep ``old`` (the stored row) as a version because ``new`` replaces it; call it in the
    transaction that updates the row. ``event`` is ``withdrawn`` (the page answers 404/410) or
    ``restored`` (a withdrawn page is back). Returns False (writes nothing) when no version
    field changed and there is no event."""
    changed = changed_fields(old, new)
    if event is not None:
        changed.append(event)
    if not changed:
        return False
    old_text, new_text = old["text"] or "", new.get("text", old["text"]) or ""
    added, removed = char_counts(old_text, new_text) if "text" in changed else (0, 0)
    seq = conn.execute(
        select(func.coalesce(func.max(article_versions.c.seq), 0)).where(
            article_versions.c.article_id == old["id"]
        )
    ).scalar_one()
    conn.execute(
        article_versions.insert().values(
            article_id=old["id"],
            seq=seq + 1,
            fetched_at=old["fetched_at"],
            replaced_at=now,
            changed=changed,
            title=old["title"] or "",
            authors=list(old["authors"] or []),
            published_at=old["published_at"],
            updated_at=old["updated_at"],
            description=old["description"],
            text_z=encode_text(old_text, new_text),
            content_hash=old["content_hash"],
            chars_added=added,
            chars_removed=removed,
            minor=is_minor(old, new, changed),
        )
    )
    return True


def history(engine: Engine, article_id: int) -> list[dict[str, Any]] | None:
    """Every version of an article, oldest first, the current one last (``current`` True);
    None when there is no such article. Each has its full text decoded."""
    a = articles.c
    with engine.connect() as conn:
        current = (
            conn.execute(
                select(
                    a.id, a.title, a.text, a.authors, a.published_at, a.updated_at,
                    a.description, a.content_hash, a.fetched_at, a.withdrawn_at, a.url,
                    a.source,
                ).where(a.id == article_id)
            ).mappings().first()
        )  # fmt: skip
        if current is None:
            return None
        rows = conn.execute(
            select(article_versions)
            .where(article_versions.c.article_id == article_id)
            .order_by(article_versions.c.seq.desc())
        ).mappings()
        rows = list(rows)
    versions = [_current_version(current, len(rows) + 1)]
    reference = current["text"] or ""
    for row in rows:
        text = decode_text(row["text_z"], reference)
        versions.append(_stored_version(row, text))
        reference = text
    versions.reverse()
    return versions


def _current_version(row: Mapping[str, Any], number: int) -> dict[str, Any]:
    return {
        "version": number,
        "current": True,
        "fetched_at": iso(row["fetched_at"]),
        "replaced_at": None,
        "changed": [],
        "minor": False,
        "chars_added": 0,
        "chars_removed": 0,
        "withdrawn_at": iso(row["withdrawn_at"]),
        **_version_fields(row, row["text"] or ""),
        "url": row["url"],
        "source": row["source"],
    }


def _stored_version(row: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {
        "version": row["seq"],
        "current": False,
        "fetched_at": iso(row["fetched_at"]),
        "replaced_at": iso(row["replaced_at"]),
        "changed": list(row["changed"] or []),
        "minor": bool(row["minor"]),
        "chars_added": row["chars_added"],
        "chars_removed": row["chars_removed"],
        **_version_fields(row, text),
    }


def _version_fields(row: Mapping[str, Any], text: str) -> dict[str, Any]:
    """The fields a version keeps, read alike from the article row and a stored version."""
    return {
        "title": row["title"],
        "authors": list(row["authors"] or []),
        "published_at": iso(row["published_at"]),
        "updated_at": iso(row["updated_at"]),
        "description": row["description"],
        "content_hash": row["content_hash"],
        "text": text,
    }


def changed_since(
    engine: Engine,
    since: datetime | None = None,
    *,
    substantive: bool = True,
    after_id: int | None = None,
    upto_id: int | None = None,
) -> list[dict[str, Any]]:
    """Changes recorded at or after ``since`` (naive or aware UTC), oldest first: one dict per
    version row with ``id``, ``article_id``, ``version``, ``replaced_at``, ``changed``, ``minor``
    and the article's ``cluster_id``, ``source`` and ``language``.

    The hook for alerts on changed stories: ``substantive`` (the default) leaves minor edits out;
    ``after_id``/``upto_id`` select version rows by id, a watermark that no clock can skew.
    """
    v, a = article_versions.c, articles.c
    stmt = select(
        v.id, v.article_id, v.seq, v.replaced_at, v.changed, v.minor,
        a.cluster_id, a.source, a.language,
    ).join(articles, a.id == v.article_id)  # fmt: skip
    if since is not None:
        stmt = stmt.where(v.replaced_at >= to_utc(since))
    if after_id is not None:
        stmt = stmt.where(v.id > after_id)
    if upto_id is not None:
        stmt = stmt.where(v.id <= upto_id)
    if substantive:
        stmt = stmt.where(v.minor.is_(False))
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(v.replaced_at, v.id)).mappings().all()
    return [
        {
            "id": r["id"],
            "article_id": r["article_id"],
            "version": r["seq"],
            "replaced_at": iso(r["replaced_at"]),
            "changed": list(r["changed"] or []),
            "minor": bool(r["minor"]),
            "cluster_id": r["cluster_id"],
            "source": r["source"],
            "language": r["language"],
        }
        for r in rows
    ]


EVENTS = frozenset({"withdrawn", "restored"})
"""What a version may record besides changed fields: the page went away, or came back."""


def change_summary(engine: Engine, article_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For the articles among ``article_ids`` that changed: how many versions they have
    (``versions``), how many of those changed a field (``edits``: a withdrawal is not an
    edit), when the last change was recorded, whether every edit was minor, and when the
    article was withdrawn (``withdrawn_at``, None while its page is there)."""
    v = article_versions.c
    if not article_ids:
        return {}
    stmt = select(v.article_id, v.changed, v.minor, v.replaced_at).where(
        v.article_id.in_(article_ids)
    )
    gone = select(articles.c.id, articles.c.withdrawn_at).where(
        articles.c.id.in_(article_ids), articles.c.withdrawn_at.is_not(None)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        withdrawn = dict(conn.execute(gone).all())
    out: dict[int, dict[str, Any]] = {}
    for ident, changed, minor, replaced in rows:
        item = out.setdefault(
            ident, {"versions": 1, "edits": 0, "last": replaced, "only_minor": True}
        )
        item["versions"] += 1
        item["last"] = max(item["last"], replaced)
        if set(changed or []) - EVENTS:
            item["edits"] += 1
            item["only_minor"] = item["only_minor"] and bool(minor)
    return {
        ident: {
            "versions": item["versions"],
            "edits": item["edits"],
            "last_change": iso(item["last"]),
            "only_minor": item["only_minor"] and item["edits"] > 0,
            "withdrawn_at": iso(withdrawn.get(ident)),
        }
        for ident, item in out.items()
    }
