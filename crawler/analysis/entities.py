"""Entity tagging: which agencies, offices, officials and programs an article mentions.

A gazetteer (TOML, documented in ``crawler/catalog/entities.toml``) maps aliases to entity ids;
matching reuses ``crawler.analysis.textmatch``, so acronyms such as "ICE" or "SRE" only count in capitals
while long names ignore case and accents. Counting is leftmost-longest, so "Secretaría de
Relaciones Exteriores" is one mention, not one plus "Relaciones Exteriores".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from crawler.analysis.textmatch import (
    Matcher,
    Token,
    longest_non_overlapping,
    pattern_key,
    tokenize,
)
from crawler.catalog import CATALOG_DIR

DEFAULT_GAZETTEER = CATALOG_DIR / "entities.toml"

TYPES = ("agency", "office", "official", "program")
SIDES = ("mx", "us", "bilateral")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_KEYS = frozenset({"id", "name", "type", "side", "aliases", "role", "as_of"})


@dataclass(frozen=True)
class Entity:
    """One gazetteer entry; ``aliases`` includes the name itself."""

    id: str
    name: str
    type: str
    side: str
    aliases: tuple[str, ...]
    role: str | None = None
    as_of: str | None = None


@dataclass(frozen=True)
class Gazetteer:
    """Entities by id plus the compiled matcher over all their aliases."""

    entities: dict[str, Entity]
    sources: tuple[str, ...] = ()
    matcher: Matcher = field(default_factory=Matcher, repr=False, compare=False)


def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """The packaged gazetteer, extended by ``path`` if given (same id → the user entry wins).

    Raises ``ValueError`` naming the file, entity and key.
    """
    packaged = _packaged_entries()
    if path is None:
        return _packaged_gazetteer()
    merged = dict(packaged)
    merged.update(_read(Path(path)))
    return _build(merged, (str(DEFAULT_GAZETTEER), str(path)))


@lru_cache(maxsize=1)
def _packaged_entries() -> dict[str, Entity]:
    return _read(DEFAULT_GAZETTEER)


@lru_cache(maxsize=1)
def _packaged_gazetteer() -> Gazetteer:
    return _build(_packaged_entries(), (str(DEFAULT_GAZETTEER),))


def _read(path: Path) -> dict[str, Entity]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: gazetteer file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"entities"})
    if extra:
        raise ValueError(f"{path}: unknown key {extra[0]!r} (expected [[entities]] tables)")
    raw_entities = data.get("entities")
    if not isinstance(raw_entities, list):
        raise ValueError(f"{path}: needs [[entities]] tables")
    out: dict[str, Entity] = {}
    for index, raw in enumerate(raw_entities, start=1):
        entity = _entity(raw, f"{path}: entity #{index}")
        if entity.id in out:
            raise ValueError(f"{path}: entity {entity.id!r}: duplicate id")
        out[entity.id] = entity
    return out


def _entity(raw: Any, where: str) -> Entity:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table")
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID_RE.match(ident):
        raise ValueError(f"{where}: id must be a lowercase slug, got {ident!r}")
    where = f"{where.rsplit(': ', 1)[0]}: entity {ident!r}"
    extra = sorted(set(raw) - _KEYS)
    if extra:
        raise ValueError(f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: name must be a non-empty string")
    for key, allowed in (("type", TYPES), ("side", SIDES)):
        if raw.get(key) not in allowed:
            raise ValueError(
                f"{where}: {key} must be one of {', '.join(allowed)}, got {raw.get(key)!r}"
            )
    aliases_raw = raw.get("aliases", [])
    if not isinstance(aliases_raw, list) or not all(
        isinstance(a, str) and a.strip() for a in aliases_raw
    ):
        raise ValueError(f"{where}: aliases must be a list of non-empty strings")
    for key in ("role", "as_of"):
        if key in raw and not isinstance(raw[key], str):
            raise ValueError(f"{where}: {key} must be a string")
    aliases = tuple(dict.fromkeys([name, *aliases_raw]))
    for alias in aliases:
        try:
            pattern_key(alias)
        except ValueError as exc:
            raise ValueError(f"{where}: aliases: {exc}") from None
    return Entity(ident, name, raw["type"], raw["side"], aliases, raw.get("role"), raw.get("as_of"))


def _build(entities: dict[str, Entity], sources: tuple[str, ...]) -> Gazetteer:
    """Compile; an alias claimed by two entities is an error, since a mention has one referent."""
    owner: dict[Hashable, tuple[str, str]] = {}
    matcher = Matcher()
    for entity in entities.values():
        for alias in entity.aliases:
            key = pattern_key(alias)
            previous = owner.get(key)
            if previous is not None and previous[0] != entity.id:
                raise ValueError(
                    f"{' + '.join(sources)}: entity {entity.id!r}: alias {alias!r} is also "
                    f"alias {previous[1]!r} of entity {previous[0]!r}"
                )
            if previous is None:
                owner[key] = (entity.id, alias)
                matcher.add(alias, entity.id)
    return Gazetteer(entities, sources, matcher)


def find_entities(
    text: str, gazetteer: Gazetteer, *, tokens: list[Token] | None = None
) -> list[dict[str, Any]]:
    """Entities mentioned in ``text`` with mention counts, most mentioned first.

    Each item: ``{"id", "name", "type", "side", "count"}`` (plus ``"role"`` for officials that
    have one), ready to store as JSON. ``tokens`` replaces tokenizing ``text`` when given.
    """
    counts: dict[str, int] = {}
    found = gazetteer.matcher.find(tokens if tokens is not None else tokenize(text or ""))
    for match in longest_non_overlapping(found):
        for key in match.keys:
            counts[str(key)] = counts.get(str(key), 0) + 1
    out: list[dict[str, Any]] = []
    for ident, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        entity = gazetteer.entities[ident]
        item: dict[str, Any] = {
            "id": entity.id,
            "name": entity.name,
            "type": entity.type,
            "side": entity.side,
            "count": count,
        }
        if entity.role:
            item["role"] = entity.role
        out.append(item)
    return out
