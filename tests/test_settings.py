"""Settings precedence: flag > environment > built-in default; Scrapy base settings."""

from __future__ import annotations

import sys
import types

import pytest

from crawler import settings


@pytest.fixture
def fake_storage_db(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in for storage.db, so the fallback is tested whatever that module does on disk."""
    module = types.ModuleType("storage.db")
    module.default_db_url = lambda: "sqlite:////default/newswatch.db"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "storage.db", module)


def test_db_url_precedence(monkeypatch: pytest.MonkeyPatch, fake_storage_db: None) -> None:
    monkeypatch.delenv("NEWSWATCH_DB", raising=False)
    assert settings.db_url() == "sqlite:////default/newswatch.db"
    monkeypatch.setenv("NEWSWATCH_DB", "sqlite:////env.db")
    assert settings.db_url() == "sqlite:////env.db"
    assert settings.db_url(None) == "sqlite:////env.db"
    assert settings.db_url("sqlite:////flag.db") == "sqlite:////flag.db"


def test_blank_db_env_falls_back(monkeypatch: pytest.MonkeyPatch, fake_storage_db: None) -> None:
    monkeypatch.setenv("NEWSWATCH_DB", "   ")
    assert settings.db_url("") == "sqlite:////default/newswatch.db"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("0", False),
        ("no", False),
        ("", False),
    ],
)
def test_allow_private(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE", value)
    assert settings.allow_private() is expected


def test_allow_private_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSWATCH_ALLOW_PRIVATE", raising=False)
    assert settings.allow_private() is False


def test_log_level_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSWATCH_LOG_LEVEL", raising=False)
    assert settings.log_level() == "INFO"
    monkeypatch.setenv("NEWSWATCH_LOG_LEVEL", "debug")
    assert settings.log_level() == "DEBUG"
    assert settings.log_level("warn") == "WARNING"
    assert settings.log_level("Error") == "ERROR"


def test_log_level_rejects_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="NEWSWATCH_LOG_LEVEL='loud': expected one of DEBUG"):
        settings.log_level()
    with pytest.raises(ValueError, match="--log-level"):
        settings.log_level("verbose")


def test_user_agent_names_the_bot() -> None:
    assert settings.USER_AGENT.startswith("newswatch/")
    assert "news monitoring bot" in settings.USER_AGENT
    assert settings.VERSION in settings.USER_AGENT


def test_scrapy_settings_base_and_overrides() -> None:
    base = settings.scrapy_settings()
    assert base["ROBOTSTXT_OBEY"] is True
    assert base["USER_AGENT"] == settings.USER_AGENT
    assert base["AUTOTHROTTLE_ENABLED"] is False
    assert base["DOWNLOAD_MAXSIZE"] == 20 * 1024 * 1024
    assert base["DOWNLOAD_WARNSIZE"] == 5 * 1024 * 1024
    assert base["RETRY_HTTP_CODES"] == [500, 502, 503, 504, 522, 524, 408]
    assert base["COOKIES_ENABLED"] is False
    assert base["MEMUSAGE_ENABLED"] is False
    changed = settings.scrapy_settings(LOG_LEVEL="DEBUG", DOWNLOAD_TIMEOUT=5)
    assert (changed["LOG_LEVEL"], changed["DOWNLOAD_TIMEOUT"]) == ("DEBUG", 5)
    assert settings.scrapy_settings()["LOG_LEVEL"] == "WARNING"


def test_scrapy_accepts_the_settings() -> None:
    from scrapy.settings import Settings

    built = Settings(settings.scrapy_settings())
    assert built.getint("DOWNLOAD_TIMEOUT") == settings.DOWNLOAD_TIMEOUT
    assert built.getlist("RETRY_HTTP_CODES") == [500, 502, 503, 504, 522, 524, 408]


def test_retry_backoff_from_environment_doubles_and_is_capped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crawler.fetching.middlewares import RetryBackoffMiddleware

    monkeypatch.delenv("NEWSWATCH_RETRY_BACKOFF", raising=False)
    assert settings.retry_backoff() == settings.RETRY_BACKOFF == 2.0
    monkeypatch.setenv("NEWSWATCH_RETRY_BACKOFF", "1.5")
    assert settings.scrapy_settings()["NEWSWATCH_RETRY_BACKOFF"] == 1.5
    monkeypatch.setenv("NEWSWATCH_RETRY_BACKOFF", "soon")
    with pytest.raises(settings.SettingsError, match="NEWSWATCH_RETRY_BACKOFF"):
        settings.retry_backoff()
    middleware = RetryBackoffMiddleware(2.0)
    assert [middleware.delay(n) for n in range(6)] == [0, 2, 4, 8, 16, 30]
    assert RetryBackoffMiddleware(0).delay(3) == 0
