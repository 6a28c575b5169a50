"""Checking what a reading command filters by (``--source``, ``--lang``, ``--topic``,
``--entity``, ``--since``/``--until``): the one home of these checks, used by the CLI
(:mod:`scheduler.cli`) and the web app's JSON API (:mod:`scheduler.web.api`) alike, so a bad value
gets the same one-line message from both.

An unknown name used to filter everything out and answer "no matches", which reads like a
fact about the corpus; it is a typo, so it is a one-line error with the closest valid name.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.config import ConfigError, did_you_mean, load_config, parse_duration
from storage.textfold import fold


class UsageError(Exception):
    """A bad flag value: reported like a config error, exit 2 (the web app: a 400)."""


LANGUAGE_CODE_RE = re.compile(r"^[a-z]{2}(?:-[a-z]{2})?$")
LANGUAGE_NAMES = {
    "spanish": "es", "espanol": "es", "castellano": "es", "mexican": "es",
    "english": "en", "ingles": "en", "american": "en",
}  # fmt: skip
"""Language names people type for the codes the corpus uses (accents folded)."""


def fold_name(value: str) -> str:
    """Accents, case, ``_`` and spacing folded, as stored entity names are compared."""
    return " ".join(fold(value, same_length=True).replace("_", " ").split())


def _unknown(flag: str, what: str, value: str, valid: Sequence[str]) -> UsageError:
    shown = ", ".join(valid[:12]) + (", …" if len(valid) > 12 else "")
    hint = did_you_mean(value, valid)
    return UsageError(f"{flag}: unknown {what} {value!r} (known: {shown or 'none'}){hint}")


def check_sources(names: list[str] | None, url: str, config: Path | None) -> None:
    """Every ``--source`` must be a source the database has seen or the sources file lists."""
    if not names:
        return
    from storage.store import Store

    with Store(url) as store:
        known = set(store.source_states())
    if any(name not in known for name in names):
        with contextlib.suppress(ConfigError):  # the database's names are enough to check
            known |= set(load_config(config).names)
    for name in names:
        if name not in known:
            raise _unknown("--source", "source", name, sorted(known))


def check_languages(codes: list[str] | None) -> None:
    """``--lang`` takes ISO 639-1 codes (``es``, ``en``, ``es-MX``); a language's name is a
    mistake with an obvious fix."""
    for code in codes or []:
        text = code.strip().lower()
        if LANGUAGE_CODE_RE.match(text):
            continue
        guess = LANGUAGE_NAMES.get(fold_name(text))
        hint = f"; did you mean {guess!r}?" if guess else ""
        raise UsageError(
            f"--lang: {code!r} is not a language code (use two letters such as es or en){hint}"
        )


def check_topics(topics: list[str] | None) -> None:
    """Every ``--topic`` must be a topic of the configured profile."""
    if not topics:
        return
    profile, _ = analysis_files()
    valid = [t.name for t in profile.topics]
    for topic in topics:
        if topic.strip().lower() not in valid:
            raise _unknown("--topic", "topic", topic, valid)


def resolve_entities(values: list[str] | None) -> list[str]:
    """Map each ``--entity`` (an id, a name or an alias such as "Embajada de EU" or
    "@SRE_mx") to gazetteer ids; a value the gazetteer does not know is an error."""
    if not values:
        return []
    from crawler.analysis.entities import find_entities

    _, gazetteer = analysis_files()
    names: dict[str, str] = {}
    for entity in gazetteer.entities.values():
        for label in (entity.id, entity.name, *entity.aliases):
            names.setdefault(fold_name(label), entity.id)
    out = []
    for value in values:
        ident = names.get(fold_name(value))
        if ident is None:
            found = find_entities(value, gazetteer)
            if not found:
                close = difflib.get_close_matches(fold_name(value), list(names), n=1)
                hint = f"; did you mean {names[close[0]]!r}?" if close else ""
                raise UsageError(
                    f"--entity: unknown entity {value!r} (an id, name or alias of the "
                    f"gazetteer){hint}"
                )
            ident = found[0]["id"] if len(found) == 1 else value
        out.append(ident)
    return out


def analysis_files():
    """The configured topic profile and gazetteer; a bad file is a one-line usage error.

    ``crawl`` and ``daemon`` call this before any work: a missing ``NEWSWATCH_TOPICS`` file
    used to fail every article of a run that still reported ``ok``."""
    from crawler.analysis.scoring import configured

    try:
        return configured()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


MAX_AGE_DAYS = 100 * 365
"""The oldest age ``--since 36500d`` may name: further back is before any news site, and
``now - 10^11 days`` is not a date at all (it overflowed into a traceback)."""


def parse_when(value: str | None, flag: str) -> datetime | None:
    """``--since``/``--until``: a date (midnight UTC: the stored times are compared in UTC,
    whatever zone a source prints), an ISO time (UTC without an offset), or an age like ``7d``."""
    if value is None:
        return None
    text = value.strip()
    try:
        age = parse_duration(text)
    except ValueError:
        pass
    else:
        if age > MAX_AGE_DAYS * 86400:
            raise UsageError(f"{flag}: {value!r} is too far back (at most {MAX_AGE_DAYS}d)")
        return datetime.now(UTC) - timedelta(seconds=age)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{flag}: cannot read {value!r} (use 2025-12-01, 2025-12-01T08:00-07:00 or an age like 7d)"
        ) from None
    try:
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise UsageError(f"{flag}: {value!r} is out of range") from None
