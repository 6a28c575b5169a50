"""An article's versions as the article page draws them: the list, and per change a side-by-side
word diff of each field that changed, minor changes marked so the template folds them.

The versions and their diffs are :mod:`storage.versions`'s (the same as ``newswatch history``);
this module only pairs consecutive versions and turns each diff into escaped markup through
:func:`scheduler.web.render.diff_columns`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from markupsafe import Markup

from scheduler.web.render import diff_columns
from storage.db import get_engine
from storage.versions import diff_pieces, history


@dataclass(frozen=True)
class FieldDiff:
    """One changed field: its name and the two columns (old | new) as markup."""

    name: str
    old: Markup
    new: Markup


@dataclass(frozen=True)
class Change:
    """What replaced version ``number`` with ``number + 1``."""

    number: int
    replaced_at: str | None
    changed: list[str]
    minor: bool
    chars_added: int
    chars_removed: int
    fields: list[FieldDiff] = field(default_factory=list)


def article_history(url: str, ident: int) -> dict[str, Any] | None:
    """``versions`` (oldest first, the current one last), ``changes`` (each consecutive pair,
    oldest first) and ``withdrawn_at``; None for an unknown article."""
    versions = history(get_engine(url), ident)
    if versions is None:
        return None
    changes = []
    for old, new in pairwise(versions):
        fields = [
            FieldDiff(name, *diff_columns(pieces)) for name, pieces in diff_pieces(old, new).items()
        ]
        changes.append(
            Change(
                old["version"], old["replaced_at"], list(old["changed"]), bool(old["minor"]),
                old["chars_added"] or 0, old["chars_removed"] or 0, fields,
            )
        )  # fmt: skip
    return {
        "versions": versions,
        "changes": changes,
        "withdrawn_at": versions[-1].get("withdrawn_at"),
    }
