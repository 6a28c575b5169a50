"""Sources file: loading, validation messages, defaults, durations, selection, path resolution."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.config import (
    FIELDS,
    KINDS,
    Config,
    ConfigError,
    Source,
    default_catalog_path,
    format_duration,
    load_config,
    parse_config,
    parse_duration,
    resolve_config_path,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "config"


def write(tmp_path: Path, body: str, name: str = "sources.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def error_of(tmp_path: Path, body: str) -> ConfigError:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return info.value


# --------------------------------------------------------------------- packaged catalog


def test_packaged_catalog_loads_and_tribuna_is_first_and_enabled() -> None:
    config = load_config(default_catalog_path())
    assert config.path == default_catalog_path()
    assert len(config.sources) >= 5
    first = config.sources[0]
    assert first.name == "tribuna-del-yaqui"
    assert first.url == "https://www.tribuna.com.mx/feed/"
    assert (first.kind, first.language, first.timezone) == ("feed", "es", "America/Hermosillo")
    assert first.enabled
    assert first.interval == 600


def test_packaged_catalog_disables_every_unverified_entry_but_tribuna() -> None:
    config = load_config(default_catalog_path())
    for source in config.sources[1:]:
        assert source.kind in KINDS
        assert source.language in ("es", "en")
        assert source.title != source.name
        if not source.verified:
            assert not source.enabled, source.name
    assert config.select([])[0].name == "tribuna-del-yaqui"


def test_packaged_catalog_file_has_explicit_fields_per_entry() -> None:
    text = default_catalog_path().read_text(encoding="utf-8")
    assert "newswatch sources --check --online" in text
    entries = text.split("[[sources]]")[1:]
    for entry in entries:
        for key in ("name", "title", "kind", "url", "language", "timezone", "interval"):
            assert f"\n{key} = " in entry, (key, entry[:60])


# --------------------------------------------------------------------- valid file, defaults


def test_fixture_defaults_apply_and_are_overridden_per_source() -> None:
    config = load_config(FIXTURES / "valid.toml")
    tribuna, border, paused = config.sources
    assert tribuna.timezone == "America/Hermosillo"
    assert tribuna.interval == 600
    assert tribuna.language == "es"
    assert tribuna.title == "Tribuna del Yaqui"
    assert border.timezone == "America/Mexico_City"
    assert border.interval == 1800
    assert border.language == "en"
    assert (border.delay, border.concurrency) == (2.5, 2)
    assert border.title == "border-report"
    assert paused.enabled is False
    assert paused.verified is True


def test_builtin_defaults_when_nothing_is_given(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "a"\nurl = "https://a.example/feed"\n')
    (source,) = load_config(path).sources
    assert source.kind == "feed"
    assert source.interval == parse_duration("10m")
    assert source.timezone == "UTC"
    assert source.language is None
    assert (source.enabled, source.verified, source.delay, source.concurrency) == (
        True,
        True,
        1.0,
        4,
    )


def test_zero_sources_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[defaults]\ninterval = '1h'\n"))
    assert config.sources == ()
    assert config.select([]) == []


def test_source_properties_and_fingerprint() -> None:
    source = Source(
        name="t", kind="feed", url="https://WWW.Tribuna.com.mx/feed/", timezone="America/Hermosillo"
    )
    assert source.title == "t"
    assert source.host == "www.tribuna.com.mx"
    assert source.tzinfo == ZoneInfo("America/Hermosillo")
    same = Source(
        name="t", kind="feed", url="https://WWW.Tribuna.com.mx/feed/", timezone="America/Hermosillo"
    )
    assert source.fingerprint() == same.fingerprint()
    moved = Source(
        name="t", kind="feed", url="https://www.tribuna.com.mx/rss/", timezone="America/Hermosillo"
    )
    assert source.fingerprint() != moved.fingerprint()
    assert len(source.fingerprint()) == 40
    info = source.info()
    assert (info.name, info.url, info.fingerprint) == ("t", source.url, source.fingerprint())


def test_every_field_has_a_source_attribute() -> None:
    assert list(FIELDS) == list(Source.__dataclass_fields__)


def test_utf8_bom_and_accents_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    body = '[[sources]]\nname = "politico"\ntitle = "Animal Político — Señal"\nurl = "https://a.example/"\n'
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert load_config(path).sources[0].title == "Animal Político — Señal"


# --------------------------------------------------------------------- validation errors


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    err = error_of(
        tmp_path,
        """\
        [[sources]]
        name = "tribuna"
        url = "https://www.tribuna.com.mx/feed/"
        intervall = "10m"
        """,
    )
    msg = str(err)
    assert "source 'tribuna'" in msg
    assert "key 'intervall'" in msg
    assert "did you mean 'interval'?" in msg
    assert "valid: name, kind, url" in msg
    assert err.line == 4  # the key's own line, not the [[sources]] header's (issue 17, item 13)


def test_unknown_key_in_defaults(tmp_path: Path) -> None:
    msg = str(error_of(tmp_path, "[defaults]\ntimezon = 'UTC'\n"))
    assert "[defaults]" in msg and "key 'timezon'" in msg and "did you mean 'timezone'?" in msg


def test_name_and_url_are_not_allowed_in_defaults(tmp_path: Path) -> None:
    msg = str(error_of(tmp_path, "[defaults]\nurl = 'https://a.example/'\n"))
    assert "[defaults]" in msg and "key 'url'" in msg


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('enabled = "yes"', "enabled", "expected true or false, got string 'yes'"),
        ('concurrency = "4"', "concurrency", "expected an integer, got string '4'"),
        ("concurrency = true", "concurrency", "expected an integer, got boolean True"),
        ("concurrency = 65", "concurrency", "between 1 and 64"),
        ("delay = -1", "delay", "from 0 to 3600"),
        ("title = 3", "title", "expected a string"),
        ("interval = true", "interval", "expected a duration"),
        ('kind = "sitmap"', "kind", "unknown kind 'sitmap' (valid: feed, sitemap, listing)"),
        ('allow = "/2025/"', "allow", "expected an array, got string"),
        ('deny = ["(unclosed"]', "deny", "bad regular expression '(unclosed'"),
        ("allow = [3]", "allow", "item 0 must be a non-empty string"),
        ('max_age = "soon"', "max_age", "bad duration 'soon'"),
        ("max_items = 0", "max_items", "must be an integer >= 1"),
        ('max_items = "5"', "max_items", "expected an integer"),
        ('headers = ["Cookie: x"]', "headers", "expected a table"),
        ('headers = { "Bad Name" = "x" }', "headers", "bad header name 'Bad Name'"),
        ("headers = { Referer = 3 }", "headers", "header 'Referer' must be a string"),
        ('body_selector = "div[[["', "body_selector", "invalid CSS selector 'div[[['"),
        ('title_selector = "//h1[@"', "title_selector", "invalid XPath selector"),
        ('remove_selectors = ["aside", "p::"]', "remove_selectors", "invalid CSS selector"),
        ('link_selector = "h2 a"', "link_selector", "only applies to kind = 'listing'"),
        ("max_pages = 2", "max_pages", "only applies to kind = 'listing'"),
    ],
)
def test_wrong_types_and_ranges(tmp_path: Path, line: str, key: str, expected: str) -> None:
    body = f'[[sources]]\nname = "tribuna"\nurl = "https://www.tribuna.com.mx/feed/"\n{line}\n'
    msg = str(error_of(tmp_path, body))
    assert f"source 'tribuna': key '{key}': " in msg
    assert expected in msg


def test_duplicate_name_names_both_positions(tmp_path: Path) -> None:
    body = """\
    [[sources]]
    name = "a"
    url = "https://a.example/feed"

    [[sources]]
    name = "b"
    url = "https://b.example/feed"

    [[sources]]
    name = "a"
    url = "https://c.example/feed"
    """
    err = error_of(tmp_path, body)
    msg = str(err)
    assert "duplicate name 'a'" in msg
    assert "sources[0]" in msg and "sources[2]" in msg
    assert "key 'name'" in msg
    assert err.line == 10


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only absolute http"),
        ("javascript:alert(1)", "only absolute http"),
        ("ftp://example.org/feed", "only absolute http"),
        ("/feed/", "only absolute http"),
        ("https:///feed/", "no host"),
        ("https://exa mple.org/", "spaces"),
        ("https://example.org:99999/", "bad URL"),
    ],
)
def test_bad_url(tmp_path: Path, url: str, reason: str) -> None:
    msg = str(error_of(tmp_path, f'[[sources]]\nname = "x"\nurl = "{url}"\n'))
    assert "source 'x': key 'url': bad URL" in msg
    assert reason in msg


def test_bad_interval(tmp_path: Path) -> None:
    body = '[[sources]]\nname = "tribuna"\nurl = "https://t.example/"\ninterval = "ten minutes"\n'
    msg = str(error_of(tmp_path, body))
    assert msg.endswith(
        "source 'tribuna': key 'interval': bad duration 'ten minutes' "
        "(use a number with s, m, h or d, e.g. 90s, 10m, 2h, 3d)"
    )
    assert "sources.toml" in msg


def test_zero_interval_is_rejected(tmp_path: Path) -> None:
    body = '[[sources]]\nname = "t"\nurl = "https://t.example/"\ninterval = 0\n'
    assert "greater than zero" in str(error_of(tmp_path, body))


def test_bad_timezone_suggests_a_zone(tmp_path: Path) -> None:
    body = '[[sources]]\nname = "t"\nurl = "https://t.example/"\ntimezone = "America/Hermosilo"\n'
    msg = str(error_of(tmp_path, body))
    assert "source 't': key 'timezone': unknown time zone 'America/Hermosilo'" in msg
    assert "did you mean 'America/Hermosillo'?" in msg


@pytest.mark.parametrize("language", ["ES", "spa", "es-MX", "e", ""])
def test_bad_language(tmp_path: Path, language: str) -> None:
    body = f'[[sources]]\nname = "t"\nurl = "https://t.example/"\nlanguage = "{language}"\n'
    msg = str(error_of(tmp_path, body))
    assert f"source 't': key 'language': bad language '{language}'" in msg


def test_toml_syntax_error_reports_line_and_column() -> None:
    path = FIXTURES / "syntax_error.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == 4
    msg = str(info.value)
    assert msg.startswith(f"{path}: line 4, column ")
    assert "invalid TOML" in msg
    assert "(at line" not in msg


def test_unknown_top_level_key(tmp_path: Path) -> None:
    msg = str(error_of(tmp_path, '[[source]]\nname = "a"\nurl = "https://a.example/"\n'))
    assert "key 'source': unknown top-level key (valid: defaults, sources, alerts, cluster)" in msg
    assert "did you mean 'sources'?" in msg


def test_missing_name_is_identified_by_index(tmp_path: Path) -> None:
    body = """\
    [[sources]]
    name = "a"
    url = "https://a.example/"

    [[sources]]
    url = "https://b.example/"
    """
    err = error_of(tmp_path, body)
    assert "sources[1]: key 'name': missing required key" in str(err)
    assert err.source == "sources[1]" and err.key == "name"


def test_missing_url(tmp_path: Path) -> None:
    msg = str(error_of(tmp_path, '[[sources]]\nname = "a"\n'))
    assert "source 'a': key 'url': missing required key" in msg


def test_bad_name_slug(tmp_path: Path) -> None:
    msg = str(
        error_of(tmp_path, '[[sources]]\nname = "Tribuna del Yaqui"\nurl = "https://a.example/"\n')
    )
    assert "sources[0]: key 'name': bad name 'Tribuna del Yaqui'" in msg


def test_sources_must_be_an_array_of_tables(tmp_path: Path) -> None:
    msg = str(error_of(tmp_path, '[sources]\nname = "a"\n'))
    assert "key 'sources'" in msg and "[[sources]]" in msg


def test_inline_sources_without_headers_still_validate() -> None:
    text = 'sources = [{name = "a", url = "https://a.example/"}, {name = "b", url = "gopher://b"}]'
    with pytest.raises(ConfigError) as info:
        parse_config(text, path="inline.toml")
    assert info.value.line is None
    assert str(info.value).startswith("inline.toml: source 'b': key 'url'")


# --------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("10m", 600),
        ("2h", 7200),
        ("3d", 259200),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("1.5h", 5400),
        ("90", 90),
        (45, 45),
        (2.5, 2.5),
        ("1d2h3m4s", 93784),
    ],
)
def test_parse_duration(text: str | int | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad", ["", "ten minutes", "10x", "m", "30m1h", "-5", "0", "inf", "nan", True, -1]
)
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (600, "10m"),
        (5400, "1h30m"),
        (90, "1m30s"),
        (86400, "1d"),
        (93784, "1d2h3m4s"),
        (0.5, "0.5s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    "seconds", [1, 59, 60, 61, 599, 3599, 3600, 86399, 86401, 1_000_000, 0.25, 90.5]
)
def test_duration_round_trip(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


# --------------------------------------------------------------------- selection


def _config() -> Config:
    return Config(
        path=Path("sources.toml"),
        sources=(
            Source(name="tribuna", kind="feed", url="https://t.example/"),
            Source(name="off", kind="feed", url="https://o.example/", enabled=False),
            Source(name="border", kind="feed", url="https://b.example/"),
        ),
    )


def test_select_without_names_gives_enabled_sources_in_order() -> None:
    assert [s.name for s in _config().select([])] == ["tribuna", "border"]


def test_select_with_names_gives_those_even_if_disabled() -> None:
    assert [s.name for s in _config().select(["off", "tribuna", "off"])] == ["off", "tribuna"]


def test_select_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ConfigError) as info:
        _config().select(["tribunna"])
    msg = str(info.value)
    assert msg.startswith("sources.toml: source 'tribunna': unknown source")
    assert "valid: tribuna, off, border" in msg
    assert "did you mean 'tribuna'?" in msg


def test_get() -> None:
    assert _config().get("border").url == "https://b.example/"
    with pytest.raises(KeyError):
        _config().get("nope")


# --------------------------------------------------------------------- path resolution


def test_resolve_explicit_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "")
    other = write(tmp_path, "", name="other.toml")
    assert resolve_config_path(other) == other
    assert resolve_config_path(str(other)) == other


def test_resolve_missing_explicit_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.toml"):
        resolve_config_path(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="directory"):
        resolve_config_path(tmp_path)


def test_resolve_prefers_local_sources_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    local = write(tmp_path, '[[sources]]\nname = "local"\nurl = "https://l.example/"\n')
    assert resolve_config_path(None).resolve() == local.resolve()
    assert load_config().names == ["local"]


def test_resolve_falls_back_to_packaged_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path(None) == default_catalog_path()
    assert default_catalog_path().is_file()
    assert load_config().sources[0].name == "tribuna-del-yaqui"


def test_fingerprint_is_sha1_of_sorted_json() -> None:
    import hashlib
    from dataclasses import asdict

    source = _config().sources[0]
    blob = json.dumps(asdict(source), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert source.fingerprint() == hashlib.sha1(blob.encode()).hexdigest()


# ------------------------------------------------------- bounds and key lines (issue 17)


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('interval = "99999999999999d"', "interval", "must be at most 365d"),
        ('interval = "366d"', "interval", "must be at most 365d"),
        ("interval = 1e308", "interval", "must be at most 365d"),
        ("interval = 99999999999999999999999999999999999999", "interval", "at most"),
        ("interval = nan", "interval", "greater than zero"),
        ("interval = inf", "interval", "greater than zero"),
        ("delay = 1e308", "delay", "from 0 to 3600"),
        ("delay = 3601", "delay", "from 0 to 3600"),
        ("delay = nan", "delay", "from 0 to 3600"),
        ("delay = -inf", "delay", "from 0 to 3600"),
        ("delay = 99999999999999999999999999999999999999", "delay", "from 0 to 3600"),
        ('max_age = "99999999999999d"', "max_age", "must be at most"),
        ("max_age = 1e308", "max_age", "must be at most"),
        ("max_items = 9223372036854775807", "max_items", "must be at most 1000000"),
        ("concurrency = 9223372036854775807", "concurrency", "between 1 and 64"),
    ],
)
def test_numbers_are_bounded(tmp_path: Path, line: str, key: str, expected: str) -> None:
    body = f'[[sources]]\nname = "tribuna"\nurl = "https://www.tribuna.com.mx/feed/"\n{line}\n'
    err = error_of(tmp_path, body)
    assert f"source 'tribuna': key '{key}': " in str(err)
    assert expected in str(err)
    assert err.line == 4


def test_max_pages_is_bounded(tmp_path: Path) -> None:
    body = (
        '[[sources]]\nname = "t"\nkind = "listing"\nurl = "https://t.example/"\n'
        "max_pages = 100000\n"
    )
    err = error_of(tmp_path, body)
    assert "key 'max_pages'" in str(err) and "at most 1000" in str(err)


def test_bounds_hold_in_defaults_too(tmp_path: Path) -> None:
    err = error_of(tmp_path, '# top\n[defaults]\nkind = "feed"\ninterval = "400d"\n')
    assert "[defaults]: key 'interval'" in str(err)
    assert err.line == 4


def test_the_largest_values_still_load(tmp_path: Path) -> None:
    body = (
        '[[sources]]\nname = "t"\nurl = "https://t.example/"\ninterval = "365d"\n'
        'delay = 3600\nmax_age = "36500d"\nmax_items = 1000000\n'
    )
    source = load_config(write(tmp_path, body)).sources[0]
    assert source.interval == 365 * 86400 and source.delay == 3600


def test_errors_name_the_line_of_the_key(tmp_path: Path) -> None:
    body = """\
    [[sources]]
    name = "a"
    url = "https://a.example/feed"

    [[sources]]
    name = "b"
    # a comment
    url = "https://b.example/feed"
    title = "B"
    language = "spanish"
    headers.Referer = "x"
    """
    err = error_of(tmp_path, body)
    assert err.line == 10, str(err)
    assert "source 'b': key 'language'" in str(err)


def test_errors_in_a_sub_table_name_its_header(tmp_path: Path) -> None:
    body = """\
    [[sources]]
    name = "a"
    url = "https://a.example/feed"

    [sources.headers]
    Referer = 3
    """
    err = error_of(tmp_path, body)
    assert err.line == 5, str(err)
    assert "key 'headers'" in str(err)
