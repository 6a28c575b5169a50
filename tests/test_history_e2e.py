"""Edit history end to end: real crawls (the ``newswatch`` CLI, Scrapy over HTTP) of a fixture
site whose pages the test edits BETWEEN crawls, then ``newswatch history``.

The pages: a toll changed in the body, a headline edited, a photo-credit-only change (minor), a
page removed (withdrawn). The second and third crawls reach them only through revisits (the feed
does not change), so they also show the revisit path and its conditional GET.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.test_e2e_cli import run_cli

pytestmark = pytest.mark.slow

PARAGRAPHS = [
    "Tres personas murieron la noche del martes en un ataque armado en una colonia de "
    "Culiacán, informó la Fiscalía General del Estado de Sinaloa en un comunicado.",
    "De acuerdo con la dependencia, los hechos ocurrieron alrededor de las 22:00 horas, cuando "
    "un grupo de hombres armados disparó contra una vivienda y huyó en dos vehículos.",
    "La Secretaría de Seguridad y Protección Ciudadana desplegó elementos de la Guardia "
    "Nacional y del Ejército en la zona, donde se mantiene un operativo de búsqueda.",
    "El ataque ocurre una semana después de la reunión del Grupo de Implementación de "
    "Seguridad entre México y Estados Unidos, que acordó reforzar la cooperación.",
]
CREDIT = "Foto: Cuartoscuro"


LEADS = {
    "toll": "Las víctimas fueron trasladadas al Servicio Médico Forense de la capital del estado.",
    "headline": "El detenido fue puesto a disposición del Ministerio Público federal en Cajeme.",
    "credit": "La vigilancia se concentra en los cruces fronterizos y en la garita de Nogales.",
    "gone": "El cargamento fue asegurado en un punto de revisión de la carretera federal 2.",
}


def page(title: str, paragraphs: list[str], credit: str = CREDIT, slug: str = "") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in [*paragraphs, LEADS.get(slug, "")])
    return f"""<!doctype html><html lang="es"><head><meta charset="utf-8">
<title>{title}</title><meta property="og:title" content="{title}">
<meta property="article:published_time" content="{_published()}"></head>
<body><article><h1>{title}</h1>{body}<p>{credit}</p></article></body></html>"""


def _published() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


ARTICLES = {
    "toll": "Ataque armado en Culiacán deja tres muertos",
    "headline": "Detienen a presunto jefe de célula delictiva en Cajeme",
    "credit": "Guardia Nacional refuerza vigilancia en Nogales",
    "gone": "Aseguran cargamento de fentanilo en Sonoyta",
}


def feed(base: str) -> str:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1))
    items = "".join(
        f"<item><title>{title}</title><link>{base}/hist/{slug}/</link>"
        f"<guid>{base}/hist/{slug}/</guid><pubDate>{when}</pubDate></item>"
        for slug, title in ARTICLES.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Historia</title><link>{base}/hist/</link>{items}</channel></rss>"
    )


def sources_toml(path: Path, base: str) -> Path:
    path.write_text(
        "[defaults]\ndelay = 0\nconcurrency = 4\n\n[[sources]]\n"
        f'name = "hist"\nkind = "feed"\nurl = "{base}/hist/feed.xml"\nlanguage = "es"\n'
        'timezone = "America/Hermosillo"\ninterval = "30m"\nrevisit = "news"\n',
        encoding="utf-8",
    )
    return path


def crawl(cfg: Path, db: Path) -> list[dict]:
    result = run_cli("crawl", "--config", str(cfg), "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def make_due(db: Path) -> None:
    """The test's clock: every article's next revisit is moved into the past."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE articles SET next_revisit_at = '2000-01-01 00:00:00.000000'")


def ids(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT url, id FROM articles").fetchall()
    return {url.rstrip("/").rsplit("/", 1)[-1]: ident for url, ident in rows}


def history(db: Path, ident: int, *args: str) -> str:
    result = run_cli("history", str(ident), "--db", str(db), *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture()
def edited(site, tmp_path):
    base = site.base_url
    site.override("/hist/feed.xml", feed(base), headers={"Content-Type": "application/rss+xml"})
    for slug, title in ARTICLES.items():
        site.override(f"/hist/{slug}/", page(title, PARAGRAPHS, slug=slug))
    cfg, db = sources_toml(tmp_path / "sources.toml", base), tmp_path / "news.sqlite"
    first = crawl(cfg, db)
    assert first[0]["new"] == 4, first
    site.override(
        "/hist/toll/",
        page(ARTICLES["toll"], [PARAGRAPHS[0].replace("Tres", "Siete"), *PARAGRAPHS[1:]]),
    )
    site.override(
        "/hist/headline/", page(ARTICLES["headline"].replace("presunto ", ""), PARAGRAPHS)
    )
    site.override(
        "/hist/credit/", page(ARTICLES["credit"], PARAGRAPHS, credit="Foto: Archivo", slug="credit")
    )
    site.override("/hist/gone/", "Not Found", status=404)
    site.clear_log()
    make_due(db)
    crawl(cfg, db)
    return site, cfg, db


def test_two_crawls_of_edited_pages_keep_versions(edited):
    _, _, db = edited
    found = ids(db)
    versions = json.loads(history(db, found["toll"], "--format", "json"))
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["changed"] == ["text"] and versions[0]["minor"] is False
    diff = history(db, found["toll"], "--diff", "1")
    assert "[-Tres-]{+Siete+} personas murieron" in diff
    assert "changed: text" in diff

    headline = json.loads(history(db, found["headline"], "--diff", "1", "--format", "json"))
    assert "title" in headline["changed"] and not headline["minor"]
    assert headline["diff"]["title"] == "Detienen a[- presunto-] jefe de célula delictiva en Cajeme"

    credit = json.loads(history(db, found["credit"], "--format", "json"))
    assert credit[0]["changed"] == ["text"] and credit[0]["minor"] is True

    gone = json.loads(history(db, found["gone"], "--format", "json"))
    assert gone[0]["changed"] == ["withdrawn"]
    assert gone[-1]["withdrawn_at"]
    assert "withdrawn" in history(db, found["gone"])


def test_revisits_use_conditional_get_and_304_changes_nothing(edited):
    site, cfg, db = edited
    assert not site.requests_for("/hist/feed.xml") or all(
        r.status in (200, 304) for r in site.requests_for("/hist/feed.xml")
    )
    revisited = [r for r in site.requests if r.path.startswith("/hist/") and "feed" not in r.path]
    assert {r.path for r in revisited} == {f"/hist/{slug}/" for slug in ARTICLES}
    site.clear_log()
    make_due(db)
    crawl(cfg, db)
    again = {
        r.path: r for r in site.requests if r.path.startswith("/hist/") and "feed" not in r.path
    }
    assert set(again) == {"/hist/toll/", "/hist/headline/", "/hist/credit/"}  # not the withdrawn
    for entry in again.values():
        headers = {k.lower(): v for k, v in entry.headers.items()}
        assert "if-none-match" in headers and "if-modified-since" in headers
        assert entry.status == 304
    found = ids(db)
    assert len(json.loads(history(db, found["toll"], "--format", "json"))) == 2


def test_history_errors_are_one_line(edited):
    _, _, db = edited
    found = ids(db)
    for args, message in (
        (("999999",), "no article with id 999999"),
        ((str(found["toll"]), "--diff", "5"), "--diff 5"),
        ((str(found["toll"]), "--format", "xml"), "--format must be one of"),
    ):
        result = run_cli("history", *args, "--db", str(db))
        assert result.returncode == 2
        assert message in result.stderr and "Traceback" not in result.stderr


def test_search_export_and_story_show_the_changes(edited):
    _, _, db = edited
    found = ids(db)
    result = run_cli(
        "search", "--changed-since", "24h", "--all-copies", "--db", str(db), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    changed = {r["id"] for r in json.loads(result.stdout)}
    assert changed == {found["toll"], found["headline"], found["gone"]}  # not the minor one
    result = run_cli(
        "search",
        "Culiacán",
        "--changed-since",
        "24h",
        "--all-copies",
        "--db",
        str(db),
        "-f",
        "json",
    )
    assert result.returncode == 0, result.stderr
    assert {r["id"] for r in json.loads(result.stdout)} == changed
    result = run_cli("export", "--db", str(db), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    versions = {r["id"]: r["versions"] for r in map(json.loads, result.stdout.splitlines())}
    assert versions == {ident: 2 for ident in found.values()}
    result = run_cli("story", str(found["toll"]), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert f"article {found['toll']}: edited, 2 versions" in result.stdout
    result = run_cli("search", "--changed-since", "tomorrow", "--db", str(db))
    assert result.returncode == 2 and "--changed-since" in result.stderr


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spinning(proc: subprocess.Popen, seconds: float, deadline: float) -> bool:
    """True once the process, still alive, has burned ``seconds`` of CPU since it was called.

    Called after the revisited page was served: without the test's endless trigger the crawl
    would extract and store that small page in a fraction of this CPU time and exit, so a live
    process past it is inside the trigger (measured in CPU time, not wall time, so a loaded
    machine only makes the test slower, never wrong)."""
    start = _cpu_seconds(proc.pid)
    while time.monotonic() < deadline and proc.poll() is None:
        if _cpu_seconds(proc.pid) - start >= seconds:
            return True
        time.sleep(0.2)
    return False


def test_a_crawl_killed_mid_update_leaves_the_old_version_whole(site, tmp_path):
    """kill -9 of a real crawl process while it is inside the write transaction that updates
    the article and inserts its version: the window is made deterministic (and endless) by a
    trigger on the version insert that never finishes, so the kill always lands after the
    article row was updated and before the version was written."""
    base = site.base_url
    site.override("/hist/feed.xml", feed(base), headers={"Content-Type": "application/rss+xml"})
    for slug, title in ARTICLES.items():
        site.override(f"/hist/{slug}/", page(title, PARAGRAPHS, slug=slug))
    cfg, db = sources_toml(tmp_path / "sources.toml", base), tmp_path / "news.sqlite"
    crawl(cfg, db)
    toll = ids(db)["toll"]
    edited = [PARAGRAPHS[0].replace("Tres", "Siete"), *PARAGRAPHS[1:]]
    site.override("/hist/toll/", page(ARTICLES["toll"], edited, slug="toll"))
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE spin (n INTEGER)")
        conn.executemany("INSERT INTO spin VALUES (?)", [(i,) for i in range(2000)])
        conn.execute(
            "CREATE TRIGGER endless BEFORE INSERT ON article_versions BEGIN "
            "SELECT count(*) FROM spin a, spin b, spin c, spin d; END"
        )
        conn.execute("UPDATE articles SET next_revisit_at = NULL")
        conn.execute(
            "UPDATE articles SET next_revisit_at = '2000-01-01 00:00:00.000000' WHERE id = ?",
            (toll,),
        )
    site.clear_log()
    env = {**os.environ, "NEWSWATCH_ALLOW_PRIVATE": "1"}
    env.pop("NEWSWATCH_DB", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "crawl", "--config", str(cfg), "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 400
        while not site.requests_for("/hist/toll/") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert site.requests_for("/hist/toll/"), "the revisit never reached the server"
        assert _spinning(proc, 8.0, deadline), "the crawl never reached the version write"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    with sqlite3.connect(db) as conn:
        text = conn.execute("SELECT text FROM articles WHERE id = ?", (toll,)).fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM article_versions").fetchone()[0]
        conn.execute("DROP TRIGGER endless")
    assert rows == 0 and "Tres personas" in text and "Siete" not in text
    make_due(db)
    crawl(cfg, db)
    versions = json.loads(history(db, toll, "--format", "json"))
    assert [v["version"] for v in versions] == [1, 2]
    assert "[-Tres-]{+Siete+}" in history(db, toll, "--diff", "1")


def test_revisits_take_at_most_their_share_of_a_run(site, tmp_path):
    base = site.base_url
    site.override("/hist/feed.xml", feed(base), headers={"Content-Type": "application/rss+xml"})
    for slug, title in ARTICLES.items():
        site.override(f"/hist/{slug}/", page(title, PARAGRAPHS, slug=slug))
    cfg, db = sources_toml(tmp_path / "sources.toml", base), tmp_path / "news.sqlite"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "max_items = 10\n", encoding="utf-8")
    crawl(cfg, db)
    site.clear_log()
    make_due(db)
    crawl(cfg, db)
    revisited = [r for r in site.requests if r.path.startswith("/hist/") and "feed" not in r.path]
    assert len(revisited) == 3  # 30 % of max_items = 10, though all four are due
    with sqlite3.connect(db) as conn:
        due = conn.execute(
            "SELECT count(*) FROM articles WHERE next_revisit_at < '2001-01-01'"
        ).fetchone()[0]
    assert due == 1  # the fourth waits for the next run
