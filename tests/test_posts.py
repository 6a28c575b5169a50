"""Embedded posts: markup embeds and flattened text forms become records, out of the body."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.articles.extraction import extract
from crawler.articles.posts import extract_posts, iso_date, parse_flattened, split_flattened_posts

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_HTML = FIXTURES / "extract" / "tribuna_seed_article.html"
SEED_SITE_HTML = (
    FIXTURES
    / "tribuna/2025/12/11/realizan-segunda-reunion-del-grupo-de-implementacion-de-seguridad"
    "-mexico-estados-unidos/index.html"
)
SEED_FLAT = FIXTURES / "posts" / "seed_flattened.txt"
POST_FRAGMENTS = ("Esta mañana, el encargado", "socios soberanos", "pic.twitter.com", "uD83")


def _check_seed_posts(posts: list[dict]) -> None:
    assert [(p["platform"], p["handle"]) for p in posts] == [
        ("twitter", "SRE_mx"),
        ("twitter", "USAmbMex"),
    ]
    sre, embassy = posts
    assert sre["author"] == "Relaciones Exteriores"
    assert embassy["author"] == "Embajador Ronald Johnson"
    assert sre["date"] == embassy["date"] == "2025-12-11"
    assert sre["text"].startswith("📸 Esta mañana")
    assert "Grupo de Implementación de Seguridad 🇺🇸🇲🇽, resultado" in embassy["text"]
    for post in posts:
        assert "uD83" not in post["text"] and "pic.twitter.com" not in post["text"]


@pytest.mark.parametrize("page", [SEED_HTML, SEED_SITE_HTML], ids=["extract-fixture", "site"])
def test_seed_page_posts_become_records_and_leave_the_body(page):
    html = page.read_text(encoding="utf-8").replace("{{BASE}}", "http://example.test")
    ex = extract(html, "http://example.test/tribuna/2025/12/11/realizan/")
    _check_seed_posts(ex.posts)
    assert all("/status/" in p["url"] for p in ex.posts)
    for fragment in POST_FRAGMENTS:
        assert fragment not in ex.text
    assert "calendario de reuniones periódicas" in ex.text


def test_flattened_seed_text_gives_the_same_posts_and_a_clean_body():
    from crawler.articles.textrepair import repair_text

    body, posts = split_flattened_posts(repair_text(SEED_FLAT.read_text(encoding="utf-8")))
    _check_seed_posts(posts)
    assert posts[0]["url"] == "https://pic.twitter.com/ON1oCnEQh1"
    for fragment in POST_FRAGMENTS:
        assert fragment not in body
    paragraphs = body.split("\n\n")
    assert paragraphs[0].startswith("Ciudad de México.- Este jueves")
    assert paragraphs[-1] == "Fuente: Tribuna del Yaqui"
    assert len(paragraphs) == 8


def test_spanish_dates_and_en_dash_signatures():
    post = parse_flattened(
        "Seguiremos trabajando con nuestros socios. – Marcelo Ebrard (@m_ebrard) 3 de marzo de 2025"
    )
    assert post is not None
    assert (post["author"], post["handle"], post["date"]) == (
        "Marcelo Ebrard",
        "m_ebrard",
        "2025-03-03",
    )
    assert post["url"] is None


@pytest.mark.parametrize(
    "paragraph",
    [
        "El embajador habló con la prensa — dijo Ronald Johnson el 11 de diciembre de 2025",
        "— Relaciones Exteriores (@SRE_mx) December 11, 2025",
        "Sin firma alguna, un párrafo normal con la fecha December 11, 2025 al final",
    ],
)
def test_ordinary_paragraphs_are_not_posts(paragraph):
    assert parse_flattened(paragraph) is None
    body, posts = split_flattened_posts(f"Primero.\n\n{paragraph}")
    assert posts == [] and body == f"Primero.\n\n{paragraph}"


def test_other_platforms_from_markup():
    html = """<html><body><article><p>Texto.</p>
    <blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/XyZ123/?utm_source=ig_embed">
      <p><a href="https://www.instagram.com/p/XyZ123/">Visita oficial del gabinete de seguridad</a></p>
      <p>A post shared by Guardia Nacional (@gn_mexico_)</p>
      <time datetime="2025-12-10T18:30:00+00:00">Dec 10, 2025</time></blockquote>
    <div class="fb-post" data-href="https://www.facebook.com/SREMexico/posts/12345">
      <blockquote cite="https://www.facebook.com/SREMexico/posts/12345" class="fb-xfbml-parse-ignore">
      <p>Comunicado conjunto sobre seguridad fronteriza.</p>Publicado por
      <a href="https://www.facebook.com/SREMexico">SRE México</a> el
      <a href="https://www.facebook.com/SREMexico/posts/12345">miércoles, 10 de diciembre de 2025</a>
      </blockquote></div>
    <iframe title="Conferencia matutina" src="https://www.youtube.com/embed/AbC123xyz?si=q"></iframe>
    <blockquote class="tiktok-embed" cite="https://www.tiktok.com/@cbp/video/7312345">
      <section><a title="@cbp" href="https://www.tiktok.com/@cbp">@cbp</a>
      <p>Officers at the port of entry</p></section></blockquote>
    <iframe src="https://ads.example.com/banner"></iframe>
    </article></body></html>"""
    posts = extract_posts(html, "https://example.test/nota/")
    by = {p["platform"]: p for p in posts}
    assert list(by) == ["instagram", "facebook", "youtube", "tiktok"]
    assert by["instagram"]["url"] == "https://www.instagram.com/p/XyZ123/"
    assert by["instagram"]["handle"] == "gn_mexico_"
    assert by["instagram"]["author"] == "Guardia Nacional"
    assert by["instagram"]["date"] == "2025-12-10T18:30:00+00:00"
    assert by["instagram"]["text"] == "Visita oficial del gabinete de seguridad"
    assert by["facebook"]["handle"] == "SREMexico"
    assert by["facebook"]["author"] == "SRE México"
    assert by["facebook"]["text"] == "Comunicado conjunto sobre seguridad fronteriza."
    assert by["youtube"]["url"] == "https://www.youtube.com/watch?v=AbC123xyz"
    assert by["youtube"]["text"] == "Conferencia matutina"
    assert by["tiktok"]["handle"] == "cbp"
    assert by["tiktok"]["text"] == "Officers at the port of entry"


def test_iso_date_keeps_a_bare_date_and_an_aware_time():
    assert iso_date("December 11, 2025") == "2025-12-11"
    assert iso_date("11 de diciembre de 2025") == "2025-12-11"
    assert iso_date("2025-12-11T09:15:00-07:00") == "2025-12-11T09:15:00-07:00"
    assert iso_date("not a date") is None
