"""Logging set-up shared by every command: human text or one JSON object per line, to stderr and
optionally a rotating file."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 source``, ``2 sources``: counts in messages read as English ("1 sources" did not)."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class LibraryNoise(logging.Filter):
    """Scrapy resets its loggers to DEBUG when a crawl starts; below WARNING they are noise here."""

    PREFIXES = ("scrapy", "twisted", "py.warnings", "filelock", "alembic", "trafilatura",
                "htmldate", "courlan", "charset_normalizer", "apscheduler")  # fmt: skip

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.name.startswith(self.PREFIXES)


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``ts``, ``level``, ``logger``, ``msg`` and any ``extra=`` keys),
    so log shippers and ``jq`` read it without parsing prose."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(
    level: int, fmt: str = "text", log_file: Path | None = None, max_bytes: int = 10 * 1024 * 1024
) -> None:
    formatter: logging.Formatter = (
        JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=max_bytes, backupCount=5, encoding="utf-8"
            )
        )
    for handler in handlers:
        handler.setLevel(level)
        handler.setFormatter(formatter)
        if level > logging.DEBUG:
            handler.addFilter(LibraryNoise())
    logging.basicConfig(level=level, handlers=handlers, force=True)
