"""Storage for newswatch: SQLAlchemy models, migrated engines, dedupe upserts, search and export.

Imports nothing from ``crawler`` or ``scheduler``. Entry points: :class:`storage.store.Store` (write
side), :mod:`storage.search` (read side, also for notebooks), :func:`storage.db.get_engine`.
"""
