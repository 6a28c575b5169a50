"""Recomputing what the corpus derives from stored text: ``newswatch recluster`` and ``rescore``.

Neither refetches anything; the work is in :mod:`crawler.identity.recluster` and
:mod:`crawler.analysis.rescore`, and these commands parse flags, call, and print the summary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crawler import settings
from scheduler.cli.common import (
    ConfigOpt,
    DbOpt,
    UsageError,
    check_format,
    db_url,
    friendly_errors,
    stdout,
)
from storage.store import Store


def recluster_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Similarity (0–1] above which articles are one story "
            "(default $NEWSWATCH_NEAR_DUP_THRESHOLD, else 0.8).",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Recompute fingerprints and story clusters from the stored text (nothing is refetched)."""
    from crawler.identity.recluster import recluster

    with friendly_errors():
        check_format(fmt, ("text", "json"))
        try:
            value = settings.near_dup_threshold(threshold)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        store = Store(db_url(db), near_dup_threshold=value)
        try:
            summary = recluster(store, value)
        finally:
            store.close()
    if fmt == "json":
        print(json.dumps(summary))
        return
    stdout.print(
        f"reclustered {summary['articles']} articles at threshold {summary['threshold']}: "
        f"{summary['clusters']} stories, {summary['multi_member_clusters']} with copies"
    )


def rescore_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    topics: Annotated[
        Path | None,
        typer.Option(
            "--topics",
            help="Topic profile (TOML) replacing the packaged one (default $NEWSWATCH_TOPICS).",
            dir_okay=False,
        ),
    ] = None,
    entities: Annotated[
        Path | None,
        typer.Option(
            "--entities",
            help="Gazetteer (TOML) extending the packaged one (default $NEWSWATCH_ENTITIES).",
            dir_okay=False,
        ),
    ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=10000)] = 500,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Recompute relevance, topics and entities of stored articles (nothing is refetched)."""
    from crawler.analysis.rescore import rescore
    from crawler.analysis.scoring import configured

    with friendly_errors():
        check_format(fmt, ("text", "json"))
        try:
            profile, gazetteer = configured(topics, entities)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        store = Store(db_url(db))
        try:
            summary = rescore(store, profile, gazetteer, batch=batch)
        finally:
            store.close()
    if fmt == "json":
        print(json.dumps(summary, ensure_ascii=False))
        return
    stdout.print(
        f"rescored {summary['articles']} articles with {summary['profile']}: relevant "
        f"{summary['relevant_before']} → {summary['relevant_after']} "
        f"({summary['changed']} changed verdict; threshold {summary['threshold']:.2f})"
    )
