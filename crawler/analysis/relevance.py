"""Topic relevance: weighted term matching against a TOML profile, explainable by construction.

The score is a plain function of (title, text, profile) so it can run in extraction workers and
be re-run over stored articles when the profile changes. Everything the number depends on is
kept on the ``Score`` (matched terms, gates, vetoes), because a monitoring analyst must be able to
see *why* an article was kept or dropped. The file format is documented at the top of
``crawler/catalog/topics.toml``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from crawler.analysis.textmatch import (
    Match,
    Matcher,
    Token,
    longest_non_overlapping,
    pattern_key,
    tokenize,
)
from crawler.catalog import CATALOG_DIR

DEFAULT_PROFILE = CATALOG_DIR / "topics.toml"

_SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOP_KEYS = frozenset({"threshold", "scoring", "groups", "bilateral", "exclude", "topics"})
_TOPIC_KEYS = frozenset({"name", "label", "terms", "requires_any", "exclude"})
_SCORING_DEFAULTS: dict[str, float] = {
    "title_weight": 3.0,
    "lead_weight": 2.0,
    "saturation": 4.0,
    "topic_floor": 0.3,
    "breadth_bonus": 0.08,
    "unilateral_factor": 0.45,
    "anchor_weight": 1.5,
}


@dataclass(frozen=True)
class Topic:
    """One topic. ``requires_any`` items are group names or tuples of terms (one must match)."""

    name: str
    label: str
    terms: tuple[tuple[str, float], ...]
    requires_any: tuple[str | tuple[str, ...], ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """A loaded, validated profile with its compiled matcher (built once, reused per article)."""

    threshold: float
    topics: tuple[Topic, ...]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    bilateral_all: tuple[str, ...] = ()
    bilateral_any: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    title_weight: float = 3.0
    lead_weight: float = 2.0
    saturation: float = 4.0
    topic_floor: float = 0.3
    breadth_bonus: float = 0.08
    unilateral_factor: float = 0.45
    anchor_weight: float = 1.5
    source: str = "<packaged>"
    matcher: Matcher = field(default_factory=Matcher, repr=False, compare=False)


@dataclass(slots=True)
class Score:
    """Outcome of scoring one article.

    ``topics`` holds the reported topics (score ≥ the profile's ``topic_floor``), best first;
    ``matched`` holds the terms found for every topic that matched anything, so weak and vetoed
    topics stay visible in ``explain``.
    """

    relevance: float
    relevant: bool
    topics: dict[str, float]
    matched: dict[str, dict[str, int]]
    bilateral: bool = False
    vetoes: dict[str, list[str]] = field(default_factory=dict)
    threshold: float = 0.5

    def explain(self) -> str:
        """One paragraph a person can check against the article text."""
        verdict = "Relevant" if self.relevant else "Not relevant"
        cmp = "≥" if self.relevant else "<"
        parts = [f"{verdict}: {self.relevance:.2f} {cmp} threshold {self.threshold:.2f}."]
        parts.append(
            "Bilateral: yes (Mexico and US sides, or a border place, are mentioned)."
            if self.bilateral
            else "Bilateral: no (score reduced: no Mexico-and-US or border mention)."
        )
        if self.topics:
            rendered = []
            for name, value in self.topics.items():
                terms = ", ".join(f"'{t}' ×{n}" for t, n in self.matched.get(name, {}).items())
                rendered.append(f"{name} {value:.2f} ({terms})")
            parts.append("Topics: " + "; ".join(rendered) + ".")
        else:
            parts.append("No topic reached the reporting floor.")
        weak = [t for t in self.matched if t not in self.topics and t not in self.vetoes]
        if weak:
            rendered = [
                f"{t} ({', '.join(f'{term!r} ×{n}' for term, n in self.matched[t].items())})"
                for t in weak
            ]
            parts.append("Too weak to report: " + "; ".join(rendered) + ".")
        if self.vetoes:
            rendered = [f"{t} ({'; '.join(reasons)})" for t, reasons in self.vetoes.items()]
            parts.append("Vetoed: " + "; ".join(rendered) + ".")
        return " ".join(parts)


# --------------------------------------------------------------------------- loading


def load_profile(path: Path | None = None) -> Profile:
    """Load the packaged profile, or a user's file, which replaces it as a whole.

    Raises ``ValueError`` naming the file, topic and key, because the reader is editing that file.
    """
    if path is None:
        return _default_profile()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_profile() -> Profile:
    return _load(DEFAULT_PROFILE)


def _load(path: Path, *, label: str | None = None) -> Profile:
    where = label or str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{where}: profile file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where}: not valid TOML: {exc}") from None
    try:
        return _build(data, where)
    except _ProfileError as exc:
        raise ValueError(f"{where}: {exc}") from None


class _ProfileError(Exception):
    pass


def _number(value: Any, what: str, *, positive: bool = True, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise _ProfileError(f"{what} must be a number, got {value!r}")
    if positive and value <= 0:
        raise _ProfileError(f"{what} must be greater than 0, got {value!r}")
    if upper is not None and not 0 <= value <= upper:
        raise _ProfileError(f"{what} must be between 0 and {upper}, got {value!r}")
    return float(value)


def _terms(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _ProfileError(f"{what} must be a non-empty list of strings")
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise _ProfileError(f"{what} must contain only non-empty strings, got {item!r}")
        out.append(item)
    return tuple(out)


def _check_unique(terms: Sequence[str], what: str) -> None:
    seen: dict[Hashable, str] = {}
    for term in terms:
        try:
            key = pattern_key(term)
        except ValueError as exc:
            raise _ProfileError(f"{what}: {exc}") from None
        if key in seen:
            raise _ProfileError(
                f"{what}: {term!r} and {seen[key]!r} match the same words; keep one"
            )
        seen[key] = term


def _unknown(keys: Any, allowed: frozenset[str], what: str) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise _ProfileError(
            f"{what}unknown key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _build(data: dict[str, Any], where: str) -> Profile:
    _unknown(data, _TOP_KEYS, "")
    if "threshold" not in data:
        raise _ProfileError("missing key 'threshold'")
    threshold = _number(data["threshold"], "threshold", positive=False, upper=1.0)

    scoring_raw = data.get("scoring", {})
    if not isinstance(scoring_raw, dict):
        raise _ProfileError("[scoring] must be a table")
    _unknown(scoring_raw, frozenset(_SCORING_DEFAULTS), "[scoring]: ")
    scoring = dict(_SCORING_DEFAULTS)
    for key, value in scoring_raw.items():
        bounded = 1.0 if key in {"topic_floor", "breadth_bonus", "unilateral_factor"} else None
        scoring[key] = _number(value, f"[scoring]: {key}", positive=bounded is None, upper=bounded)

    groups_raw = data.get("groups", {})
    if not isinstance(groups_raw, dict):
        raise _ProfileError("[groups] must be a table")
    groups = {name: _terms(v, f"[groups]: {name}") for name, v in groups_raw.items()}
    for name, terms in groups.items():
        _check_unique(terms, f"[groups]: {name}")

    def group_ref(name: Any, what: str) -> str:
        if not isinstance(name, str) or name not in groups:
            known = ", ".join(sorted(groups)) or "none defined"
            raise _ProfileError(f"{what}: unknown group {name!r} (groups: {known})")
        return name

    bilateral_raw = data.get("bilateral", {})
    if not isinstance(bilateral_raw, dict):
        raise _ProfileError("[bilateral] must be a table")
    _unknown(bilateral_raw, frozenset({"all", "any"}), "[bilateral]: ")
    bilateral_all = tuple(group_ref(g, "[bilateral]: all") for g in bilateral_raw.get("all", []))
    bilateral_any = tuple(group_ref(g, "[bilateral]: any") for g in bilateral_raw.get("any", []))

    exclude = _terms(data["exclude"], "exclude") if "exclude" in data else ()
    _check_unique(exclude, "exclude")

    topics_raw = data.get("topics")
    if not isinstance(topics_raw, list) or not topics_raw:
        raise _ProfileError("needs at least one [[topics]] table")
    topics: list[Topic] = []
    for index, raw in enumerate(topics_raw, start=1):
        topics.append(_topic(raw, index, group_ref, {t.name for t in topics}))

    profile = Profile(
        threshold=threshold,
        topics=tuple(topics),
        groups=groups,
        bilateral_all=bilateral_all,
        bilateral_any=bilateral_any,
        exclude=exclude,
        source=where,
        matcher=Matcher(),
        **scoring,
    )
    _compile(profile)
    return profile


def _topic(raw: Any, index: int, group_ref: Any, seen: set[str]) -> Topic:
    if not isinstance(raw, dict):
        raise _ProfileError(f"topic #{index} must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not _SLUG_RE.match(name):
        raise _ProfileError(f"topic #{index}: name must be a lowercase slug, got {name!r}")
    what = f"topic {name!r}"
    if name in seen:
        raise _ProfileError(f"{what}: duplicate topic name")
    _unknown(raw, _TOPIC_KEYS, f"{what}: ")
    label = raw.get("label", name)
    if not isinstance(label, str):
        raise _ProfileError(f"{what}: label must be a string")
    terms_raw = raw.get("terms")
    if not isinstance(terms_raw, dict) or not terms_raw:
        raise _ProfileError(f"{what}: terms must be a non-empty table of term = weight")
    terms = tuple(
        (term, _number(weight, f"{what}: terms: {term!r}")) for term, weight in terms_raw.items()
    )
    _check_unique([t for t, _ in terms], f"{what}: terms")
    requires: list[str | tuple[str, ...]] = []
    req_raw = raw.get("requires_any", [])
    if not isinstance(req_raw, list):
        raise _ProfileError(f"{what}: requires_any must be a list of group names or term lists")
    for item in req_raw:
        if isinstance(item, str):
            requires.append(group_ref(item, f"{what}: requires_any"))
        else:
            requires.append(_terms(item, f"{what}: requires_any"))
    exclude = _terms(raw["exclude"], f"{what}: exclude") if "exclude" in raw else ()
    _check_unique(exclude, f"{what}: exclude")
    return Topic(name, label, terms, tuple(requires), exclude)


def _compile(profile: Profile) -> None:
    """One matcher for every role; the key says which role a pattern plays."""
    add = profile.matcher.add
    for group, terms in profile.groups.items():
        for term in terms:
            add(term, ("group", group))
    for term in profile.exclude:
        add(term, ("exclude", None))
    for topic in profile.topics:
        for term, _ in topic.terms:
            add(term, ("term", topic.name, term))
        for i, req in enumerate(topic.requires_any):
            if not isinstance(req, str):
                for term in req:
                    add(term, ("req", topic.name, i))
        for term in topic.exclude:
            add(term, ("exclude", topic.name))


# --------------------------------------------------------------------------- scoring


def score(
    title: str,
    text: str,
    profile: Profile,
    *,
    lead_chars: int = 400,
    tokens: tuple[list[Token], list[Token]] | None = None,
) -> Score:
    """Score one article. Title matches weigh ``title_weight``, lead matches ``lead_weight``.

    ``tokens`` (title tokens, text tokens) saves tokenizing again when the caller has them.
    """
    title_tokens, text_tokens = tokens or (tokenize(title or ""), tokenize(text or ""))
    streams: list[tuple[list[Match], float | None]] = [
        (profile.matcher.find(title_tokens), profile.title_weight),
        (profile.matcher.find(text_tokens), None),
    ]
    hits, per_topic, excluded_by = _gather(profile, streams, lead_chars)
    groups_hit = {key[1] for key in hits if key[0] == "group"}  # type: ignore[index]
    bilateral = _bilateral(profile, groups_hit)
    topic_scores, matched, vetoes = _score_topics(profile, per_topic, excluded_by, groups_hit, hits)
    ordered = dict(sorted(topic_scores.items(), key=lambda kv: (-kv[1], kv[0])))
    top = max(ordered.values(), default=0.0)
    relevance = min(1.0, top + profile.breadth_bonus * max(0, len(ordered) - 1))
    if not bilateral:
        relevance *= profile.unilateral_factor
    relevance = round(relevance, 4)
    return Score(
        relevance=relevance,
        relevant=relevance >= profile.threshold and relevance > 0,
        topics=ordered,
        matched=matched,
        bilateral=bilateral,
        vetoes=vetoes,
        threshold=profile.threshold,
    )


_TopicHits = dict[str, list[tuple[int, Match, str, float]]]


def _gather(
    profile: Profile, streams: list[tuple[list[Match], float | None]], lead_chars: int
) -> tuple[set[Hashable], _TopicHits, dict[str | None, list[str]]]:
    """Every key hit, the weighted term matches per topic, and the exclusions per topic."""
    hits: set[Hashable] = set()
    per_topic: _TopicHits = {}
    excluded_by: dict[str | None, list[str]] = {}
    for stream, (matches, fixed_weight) in enumerate(streams):
        for m in matches:
            multiplier = fixed_weight or (profile.lead_weight if m.start < lead_chars else 1.0)
            for key in m.keys:
                hits.add(key)
                kind = key[0]  # type: ignore[index]
                if kind == "term":
                    _, topic, term = key  # type: ignore[misc]
                    per_topic.setdefault(topic, []).append((stream, m, term, multiplier))
                elif kind == "exclude":
                    excluded_by.setdefault(key[1], []).append(m.pattern)  # type: ignore[index]
    return hits, per_topic, excluded_by


def _score_topics(
    profile: Profile,
    per_topic: _TopicHits,
    excluded_by: dict[str | None, list[str]],
    groups_hit: set[Any],
    hits: set[Hashable],
) -> tuple[dict[str, float], dict[str, dict[str, int]], dict[str, list[str]]]:
    """Each topic's score (saturating in its weighted hits), its matched terms, its vetoes."""
    topic_scores: dict[str, float] = {}
    matched: dict[str, dict[str, int]] = {}
    vetoes: dict[str, list[str]] = {}
    for topic in profile.topics:
        found = per_topic.get(topic.name)
        if not found:
            continue
        weights = dict(topic.terms)
        total, counts = _weigh(found, weights)
        matched[topic.name] = counts
        reasons = _veto_reasons(topic, excluded_by, groups_hit, hits)
        if not any(weights[t] >= profile.anchor_weight for t in counts):
            reasons.append(f"no term of weight ≥ {profile.anchor_weight:g}")
        if reasons:
            vetoes[topic.name] = reasons
            continue
        value = 1.0 - math.exp(-total / profile.saturation)
        if value >= profile.topic_floor:
            topic_scores[topic.name] = round(value, 4)
    return topic_scores, matched, vetoes


def _bilateral(profile: Profile, groups_hit: set[Any]) -> bool:
    if any(g in groups_hit for g in profile.bilateral_any):
        return True
    return bool(profile.bilateral_all) and all(g in groups_hit for g in profile.bilateral_all)


def _weigh(
    found: list[tuple[int, Match, str, float]], weights: dict[str, float]
) -> tuple[float, dict[str, int]]:
    """Sum weights over leftmost-longest matches of one topic, separately per stream."""
    total = 0.0
    counts: dict[str, int] = {}
    for stream in {s for s, _, _, _ in found}:
        entries = {id(m): (term, mult) for s, m, term, mult in found if s == stream}
        matches = [m for s, m, _, _ in found if s == stream]
        for m in longest_non_overlapping(matches):
            term, mult = entries[id(m)]
            total += weights[term] * mult
            counts[term] = counts.get(term, 0) + 1
    return total, dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _veto_reasons(
    topic: Topic, excluded_by: dict[str | None, list[str]], groups_hit: set[Any], hits: set[Any]
) -> list[str]:
    reasons = [f"excluded term {t!r}" for t in dict.fromkeys(excluded_by.get(None, []))]
    reasons += [f"excluded term {t!r}" for t in dict.fromkeys(excluded_by.get(topic.name, []))]
    for i, req in enumerate(topic.requires_any):
        met = req in groups_hit if isinstance(req, str) else ("req", topic.name, i) in hits
        if not met:
            label = f"group {req!r}" if isinstance(req, str) else f"any of {list(req)[:4]!r}"
            reasons.append(f"requires {label}, none found")
    return reasons
