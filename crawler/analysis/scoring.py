"""The scoring step of the pipeline: topics, relevance, matched terms and entities of one article.

Profiles and gazetteers are compiled matchers (milliseconds to build, microseconds to use), so
they are loaded once per process and path and reused for every article; the crawl pipeline and
``newswatch rescore`` share this one entry point so a stored score always means the same thing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler import settings
from crawler.analysis.entities import Gazetteer, find_entities, load_gazetteer
from crawler.analysis.relevance import DEFAULT_PROFILE, Profile, load_profile, score
from crawler.analysis.textmatch import tokenize

__all__ = ["DEFAULT_PROFILE", "Analysis", "analyze", "configured", "gazetteer", "profile"]

_PROFILES: dict[str, Profile] = {}
_GAZETTEERS: dict[str, Gazetteer] = {}


@dataclass(frozen=True, slots=True)
class Analysis:
    """What storage keeps of one scoring: the values of the articles' analysis columns."""

    relevance: float
    relevant: bool
    topics: dict[str, float]
    matched: dict[str, dict[str, int]]
    entities: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "relevance": self.relevance,
            "relevant": self.relevant,
            "topics": self.topics,
            "matched": self.matched,
            "entities": self.entities,
        }


def _key(path: Path | None) -> str:
    if path is None:
        return ""
    resolved = Path(path).expanduser().resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return f"{resolved}:{mtime}"


def profile(path: Path | None = None) -> Profile:
    """The topic profile at ``path`` (None: the packaged one), loaded once per process.

    The cache key includes the file's modification time, so a long-lived process that is told
    to rescore after an edit sees the new file.
    """
    key = _key(path)
    cached = _PROFILES.get(key)
    if cached is None:
        cached = _PROFILES[key] = load_profile(path)
    return cached


def gazetteer(path: Path | None = None) -> Gazetteer:
    """The packaged gazetteer extended by ``path``, loaded once per process."""
    key = _key(path)
    cached = _GAZETTEERS.get(key)
    if cached is None:
        cached = _GAZETTEERS[key] = load_gazetteer(path)
    return cached


def configured(
    topics: str | os.PathLike[str] | None = None, entities: str | os.PathLike[str] | None = None
) -> tuple[Profile, Gazetteer]:
    """Profile and gazetteer chosen by flags, else ``NEWSWATCH_TOPICS``/``NEWSWATCH_ENTITIES``."""
    return profile(settings.topics_path(topics)), gazetteer(settings.entities_path(entities))


def analyze(
    title: str,
    text: str,
    profile: Profile | None = None,
    gazetteer: Gazetteer | None = None,
    posts: list[dict[str, Any]] | None = None,
) -> Analysis:
    """Score one article (title and body text as stored) against the profile and gazetteer.

    Relevance reads the title and body only: embedded posts are quotes, and counting them would
    let one retweeted statement outweigh the reporting. Entities also read the posts (author,
    handle, text), because "(@SRE_mx)" signing a statement is a mention of the SRE. Without a
    profile or gazetteer the configured files are used (see :func:`configured`).
    """
    if profile is None or gazetteer is None:
        default_profile, default_gazetteer = configured()
        profile = profile or default_profile
        gazetteer = gazetteer or default_gazetteer
    title_tokens, text_tokens = tokenize(title or ""), tokenize(text or "")
    result = score(title or "", text or "", profile, tokens=(title_tokens, text_tokens))
    entity_tokens = title_tokens + text_tokens
    for post in posts or []:
        signature = f"{post.get('author') or ''} (@{post['handle']})" if post.get("handle") else ""
        entity_tokens += tokenize(" ".join(p for p in (post.get("text") or "", signature) if p))
    entities = find_entities("", gazetteer, tokens=entity_tokens)
    return Analysis(
        relevance=result.relevance,
        relevant=result.relevant,
        topics=dict(result.topics),
        matched={k: dict(v) for k, v in result.matched.items()},
        entities=entities,
    )
