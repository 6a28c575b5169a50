"""Value conversions shared by the store and the search/export side.

Text is made safe for both databases (no NUL bytes, no lone surrogates), times are split into naive
UTC plus the original offset in minutes, and article rows become the stable record dicts that the
CLI, scripts and notebooks depend on.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import zstandard

RECORD_FIELDS: tuple[str, ...] = (
    "id",
    "url",
    "canonical_url",
    "source",
    "title",
    "published_at",
    "date_source",
    "updated_at",
    "language",
    "authors",
    "text",
    "snippet",
    "section",
    "tags",
    "image",
    "description",
    "fetched_at",
    "relevance",
    "relevant",
    "topics",
    "entities",
    "posts",
    "cluster_id",
    "credited_source",
    "copies",
    "outlets",
    "versions",
)

HTML_ZSTD_LEVEL = 1
"""Raw HTML compression: zstd level 1 takes 0.18 ms for an 80 KB page where zlib level 1 took
0.5 ms, and stores 11 % less (24 % of the raw size instead of 27 % on the benchmark pages, 21 %
instead of 23 % on the extraction corpus's 91 real pages)."""
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_codecs = threading.local()


def compress_html(raw: bytes) -> bytes:
    """Raw HTML as stored: one zstd frame. Producers in worker processes call it there
    (``ArticleRecord.raw_html_z``), so the writer neither compresses nor receives the full page."""
    compressor = getattr(_codecs, "compressor", None)
    if compressor is None:
        compressor = _codecs.compressor = zstandard.ZstdCompressor(level=HTML_ZSTD_LEVEL)
    return compressor.compress(raw)


MAX_STORED_PAGE = 1024 * 1024 * 1024
"""No stored page is larger: the crawl's page-size cap cannot be set above 1 GiB."""


def decompress_html(blob: bytes, max_bytes: int = MAX_STORED_PAGE) -> bytes:
    """The page as fetched from a stored blob: a zstd frame, or the zlib stream that databases
    written before zstd hold (the two are told apart by zstd's magic number).

    Inflated to at most ``max_bytes``: a damaged or planted blob (a zstd header can announce
    any size, which the library would allocate up front) raises ValueError instead of
    exhausting memory.
    """
    too_large = f"stored page larger than {max_bytes} bytes when decompressed"
    if blob[:4] == _ZSTD_MAGIC:
        try:
            declared = zstandard.frame_content_size(blob)
        except zstandard.ZstdError as exc:
            raise ValueError(f"damaged stored page: {exc}") from None
        if declared > max_bytes:
            raise ValueError(too_large)
        if declared >= 0:
            return zstandard.ZstdDecompressor().decompress(blob)
        out = _read_bounded(zstandard.ZstdDecompressor().stream_reader(blob), max_bytes)
    else:
        inflater = zlib.decompressobj()
        out = inflater.decompress(blob, max_bytes + 1)
    if len(out) > max_bytes:
        raise ValueError(too_large)
    return out


def _read_bounded(reader: Any, max_bytes: int) -> bytes:
    """Everything ``reader`` yields, stopping once it passes ``max_bytes``."""
    chunks: list[bytes] = []
    total = 0
    with reader:
        while total <= max_bytes:
            chunk = reader.read(1024 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    return b"".join(chunks)


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Drop NUL bytes and lone surrogates, which SQLite/PostgreSQL (or their drivers) reject.

    A valid surrogate *pair* (left by some JSON decoders) is joined into its real character first.
    """
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        value = _SURROGATE.sub("", value)
    return value


def clean_optional(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def clean_json(value: Any) -> Any:
    """``clean_text`` applied to every string inside lists/dicts (authors, tags, posts)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def utcnow() -> datetime:
    """Current time as naive UTC, the storage convention."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc(value: datetime | None) -> datetime | None:
    """Naive UTC for storage; a naive input is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def split_offset(value: datetime | None) -> tuple[datetime | None, int | None]:
    """``(naive UTC, original offset in minutes)`` — the offset is None for naive input."""
    if value is None:
        return None, None
    offset = value.utcoffset()
    minutes = None if offset is None else round(offset.total_seconds() / 60)
    return to_utc(value), minutes


def join_offset(value: datetime | None, minutes: int | None) -> datetime | None:
    """Aware datetime in the original offset (UTC when the offset is unknown)."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC)
    if minutes:
        return aware.astimezone(timezone(timedelta(minutes=minutes)))
    return aware


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def row_to_record(row: Mapping[str, Any], snippet: str | None = None) -> dict[str, Any]:
    """An ``articles`` row as the stable record dict (times as ISO 8601 with original offset)."""
    return {
        "id": row["id"],
        "url": row["url"],
        "canonical_url": row["canonical_url"],
        "source": row["source"],
        "title": row["title"],
        "published_at": iso(join_offset(row["published_at"], row["published_offset"])),
        "date_source": row.get("date_source"),
        "updated_at": iso(join_offset(row["updated_at"], row["updated_offset"])),
        "language": row["language"],
        "authors": list(row["authors"] or []),
        "text": row["text"],
        "snippet": snippet,
        "section": row["section"],
        "tags": list(row["tags"] or []),
        "image": row["image"],
        "description": row["description"],
        "fetched_at": iso(join_offset(row["fetched_at"], 0)),
        "relevance": row["relevance"],
        "relevant": None if row["relevant"] is None else bool(row["relevant"]),
        "topics": row["topics"],
        "entities": row["entities"],
        "posts": row["posts"],
        "cluster_id": row["cluster_id"],
        "credited_source": row["credited_source"],
        "copies": row.get("copies"),
        "outlets": row.get("outlets"),
        "versions": row.get("versions"),
    }
