"""A deterministic generated news site for the benchmarks, and a local server for it.

The site imitates a regional Mexican news outlet: article pages of 30–120 KB in which the story is a
small part (menus, share bars, ad slots, related lists, inline styles and scripts, footer), JSON-LD
and OpenGraph metadata with December 2025 dates in -07:00 (Sonora) or -06:00 (Mexico City), RSS
feeds, a sitemap index found through robots.txt, and 5 % republished copies (same body, another
headline and boilerplate, a "Fuente: …" line). Everything comes from one seeded RNG, so two runs
measure the same bytes; the site is written to disk once per parameter set and reused.

Links in feeds, sitemaps and robots.txt must be absolute, so those few documents are templates with
``{{BASE}}`` rendered when a server starts; article pages use root-relative links only and are
served straight from the cache.
"""

from __future__ import annotations

import html
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GENERATOR_VERSION = 3
PLACEHOLDER = "{{BASE}}"
SITE_NAME = "El Vigía del Noroeste"
SONORA = timezone(timedelta(hours=-7))
CDMX = timezone(timedelta(hours=-6))
DEFAULT_PAGE_KB = (30, 120)

SECTIONS = (
    ("seguridad", "Seguridad"),
    ("frontera", "Frontera"),
    ("nacional", "Nacional"),
    ("politica", "Política"),
    ("economia", "Economía"),
    ("sonora", "Sonora"),
    ("mundo", "Mundo"),
    ("opinion", "Opinión"),
)
SUBSECTIONS = (
    "Hermosillo", "Nogales", "Cajeme", "Guaymas", "San Luis Río Colorado", "Agua Prieta",
    "Navojoa", "Caborca", "Puerto Peñasco", "Culiacán", "Tijuana", "Ciudad Juárez", "Deportes",
    "Espectáculos", "Tecnología", "Salud", "Educación", "Clima", "Tendencias", "Videos",
)  # fmt: skip
SUBJECTS = (
    "la Secretaría de Seguridad y Protección Ciudadana", "la Guardia Nacional",
    "la Fiscalía General de la República", "el Gabinete de Seguridad",
    "la Secretaría de la Defensa Nacional", "la Secretaría de Marina", "el gobierno de Estados Unidos",
    "la DEA", "el Departamento de Justicia", "la Oficina de Aduanas y Protección Fronteriza",
    "el Ejército mexicano", "la presidenta Claudia Sheinbaum", "el secretario Omar García Harfuch",
    "el embajador Ronald Johnson", "la Cancillería", "el gobernador Alfonso Durazo",
    "la Unidad de Inteligencia Financiera", "la Fiscalía de Sonora", "un juez federal de Arizona",
    "el Congreso de la Unión", "la Casa Blanca", "el Departamento de Estado",
    "la Policía Estatal de Seguridad Pública", "el Consulado de México en Tucson",
    "la Agencia de Investigación Criminal", "el fiscal Alejandro Gertz Manero",
    "la Oficina del Alto Comisionado", "el Servicio de Administración Tributaria",
)  # fmt: skip
VERBS = (
    "anunció", "informó sobre", "confirmó", "detuvo a", "aseguró", "desmanteló", "investiga",
    "denunció", "reforzó", "presentó", "acordó", "rechazó", "solicitó", "extraditó a", "decomisó",
    "revisará", "cuestionó", "defendió", "documentó", "negó", "impulsa", "coordinó",
)  # fmt: skip
OBJECTS = (
    "un cargamento de fentanilo", "más de 300 armas de fuego", "el tráfico de armas hacia México",
    "a dos presuntos integrantes del Cártel de Sinaloa", "un laboratorio clandestino",
    "la cooperación bilateral en materia de seguridad", "los aranceles a productos mexicanos",
    "un túnel transfronterizo", "a un objetivo prioritario", "la Misión Cortafuegos",
    "el lavado de dinero", "la extradición de 26 reos", "drogas sintéticas", "precursores químicos",
    "la ruta del huachicol", "a migrantes en la frontera", "el despliegue de 10 mil elementos",
    "la estrategia contra la extorsión", "cartuchos y cargadores", "rifles de asalto Barrett",
    "el flujo de dinero ilícito", "la entrega de capos a Estados Unidos", "el robo de combustible",
    "el contrabando de metanfetamina", "la designación de cárteles como terroristas",
    "el acuerdo de seguridad con Washington", "los homicidios dolosos", "a una célula delictiva",
)  # fmt: skip
PLACES = (
    "en Nogales, Sonora", "en la frontera con Arizona", "durante un operativo en Culiacán",
    "en la garita de San Luis Río Colorado", "en Hermosillo", "en Ciudad Juárez", "en Tijuana",
    "en el puerto de Manzanillo", "en Agua Prieta", "en Caborca", "en la sierra de Chihuahua",
    "en el Valle del Yaqui", "en Sásabe", "en el cruce de Lukeville", "en Washington",
    "en Palacio Nacional", "en la Ciudad de México", "en Phoenix", "en El Paso, Texas",
)  # fmt: skip
TAILS = (
    "tras meses de investigación", "según fuentes oficiales", "de acuerdo con un comunicado",
    "en coordinación con autoridades estadounidenses", "el pasado fin de semana",
    "sin que se reportaran lesionados", "como parte de la estrategia nacional de seguridad",
    "de acuerdo con la carpeta de investigación", "a pesar de las críticas de la oposición",
    "en medio de la presión de Washington", "según datos del Secretariado Ejecutivo",
    "en las primeras horas del día", "luego de una denuncia anónima",
)  # fmt: skip
CONNECTORS = (
    "Además,", "Por otra parte,", "Sin embargo,", "De acuerdo con la dependencia,",
    "En conferencia de prensa,", "Asimismo,", "Mientras tanto,", "En ese sentido,",
    "Cabe recordar que", "Según el reporte,", "Por su parte,", "No obstante,", "En tanto,",
)  # fmt: skip
WORDS = (
    "año", "gobierno", "país", "estado", "municipio", "ciudad", "frontera", "seguridad", "policía",
    "autoridades", "población", "familias", "víctimas", "comunidad", "zona", "región", "carretera",
    "operativo", "investigación", "detenidos", "armas", "droga", "dinero", "empresa", "trabajo",
    "economía", "política", "reunión", "acuerdo", "reforma", "ley", "derechos", "justicia",
    "información", "datos", "cifras", "semana", "mes", "días", "horas", "noche", "mañana",
    "importante", "nacional", "federal", "estatal", "local", "público", "nuevo", "grave", "mayor",
    "última", "reciente", "posible", "necesario", "difícil", "principal", "general", "social",
    "además", "también", "todavía", "siempre", "nunca", "después", "antes", "durante", "mientras",
    "según", "contra", "entre", "hacia", "desde", "sobre", "sin", "con", "para", "por", "ante",
    "tiene", "hizo", "dijo", "explicó", "señaló", "indicó", "agregó", "mencionó", "destacó",
    "aseguró", "consideró", "advirtió", "reconoció", "sostuvo", "planteó", "recordó", "subrayó",
    "mexicanos", "estadounidenses", "sonorenses", "migrantes", "agentes", "elementos", "militares",
    "soldados", "marinos", "fiscales", "jueces", "legisladores", "alcaldes", "vecinos", "testigos",
    "camioneta", "vehículo", "domicilio", "predio", "bodega", "rancho", "aeropuerto", "aduana",
    "cámaras", "drones", "radares", "escáneres", "rayos", "gamma", "inspección", "revisión",
    "niños", "jóvenes", "mujeres", "hombres", "madres", "buscadoras", "colectivos", "fosas",
    "educación", "salud", "agua", "sequía", "calor", "lluvias", "cosecha", "exportaciones", "peso",
    "dólar", "inflación", "empleo", "inversión", "comercio", "T-MEC", "aranceles", "acero", "tomate",
    "ganado", "gusano", "barrenador", "cierre", "reapertura", "puerto", "fronterizo", "cruce",
)  # fmt: skip
FIRST_NAMES = (
    "María", "José", "Juan", "Guadalupe", "Francisco", "Ana", "Luis", "Carmen", "Jesús", "Rosa",
    "Miguel", "Patricia", "Alejandro", "Verónica", "Ramón", "Lucía", "Héctor", "Sofía", "Iván",
)  # fmt: skip
LAST_NAMES = (
    "García", "Hernández", "López", "Martínez", "González", "Pérez", "Rodríguez", "Sánchez",
    "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Núñez",
    "Ortiz", "Peña", "Ibarra", "Valenzuela", "Quiñones", "Robles", "Encinas",
)  # fmt: skip
OUTLETS = (
    "Agencia Reforma", "El Universal", "Milenio", "La Jornada", "Border Report", "Proceso",
    "Expreso", "El Imparcial", "Associated Press", "EFE", "Excélsior", "Tribuna",
)  # fmt: skip


@dataclass(slots=True)
class Article:
    """One generated story, enough to render its page, feed item and sitemap entry."""

    index: int
    path: str
    title: str
    summary: str
    paragraphs: list[str]
    section: tuple[str, str]
    author: str
    published: datetime
    updated: datetime
    tags: list[str]
    source_line: str | None = None
    original: int | None = None


class TextGen:
    """Spanish sentences from word lists; seeded, so the same seed gives the same text."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.subjects: tuple[str, ...] | list[str] = SUBJECTS
        self.objects: tuple[str, ...] | list[str] = OBJECTS
        self.places: tuple[str, ...] | list[str] = PLACES

    def name(self) -> str:
        r = self.rng
        return f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)} {r.choice(LAST_NAMES)}"

    def news_sentence(self) -> str:
        r = self.rng
        parts = [r.choice(self.subjects), r.choice(VERBS), r.choice(self.objects)]
        parts.append(r.choice(self.places))
        if r.random() < 0.6:
            parts.append(r.choice(TAILS))
        if r.random() < 0.4:
            parts.insert(0, r.choice(CONNECTORS))
        sentence = " ".join(parts)
        return sentence[0].upper() + sentence[1:] + "."

    def loose_sentence(self) -> str:
        r = self.rng
        words = self.filler(r.randint(8, 22))
        if r.random() < 0.3:
            words.insert(r.randint(0, len(words)), str(r.randint(2, 950)))
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def filler(self, k: int) -> list[str]:
        return self.rng.choices(WORDS, k=k)

    def quote(self) -> str:
        return f"“{self.loose_sentence()[:-1]}”, {self.rng.choice(('dijo', 'señaló', 'afirmó'))} {self.name()}."

    def paragraph(self) -> str:
        r = self.rng
        makers = (self.news_sentence, self.loose_sentence, self.loose_sentence, self.quote)
        return " ".join(r.choice(makers)() for _ in range(r.randint(2, 5)))

    def headline(self) -> str:
        r = self.rng
        subject = r.choice(self.subjects)
        head = f"{subject[0].upper()}{subject[1:]} {r.choice(VERBS)} {r.choice(self.objects)} {r.choice(self.places)}"
        return head

    def teaser(self) -> str:
        return self.loose_sentence()


def _slug(text: str, limit: int = 70) -> str:
    table = str.maketrans("áéíóúüñÁÉÍÓÚÜÑ", "aeiouunAEIOUUN")
    out = "".join(c if c.isalnum() else "-" for c in text.translate(table).lower())
    return "-".join(p for p in out.split("-") if p)[:limit].rstrip("-")


def generate_articles(count: int, seed: int, copy_share: float = 0.05) -> list[Article]:
    """``count`` stories in December 2025, oldest first; ``copy_share`` of them republish another."""
    rng = random.Random(seed)
    gen = TextGen(rng)
    start = datetime(2025, 12, 1, 6, 0, tzinfo=SONORA)
    span = timedelta(days=30).total_seconds()
    stamps = sorted(rng.uniform(0, span) for _ in range(count))
    articles: list[Article] = []
    for i, offset in enumerate(stamps):
        tz = SONORA if rng.random() < 0.6 else CDMX
        published = (start + timedelta(seconds=offset)).astimezone(tz).replace(microsecond=0)
        updated = published + timedelta(minutes=rng.choice((0, 0, 0, 12, 45, 180)))
        section = rng.choice(SECTIONS)
        title = gen.headline()
        copy_of = (
            articles[rng.randrange(len(articles))]
            if articles and rng.random() < copy_share
            else None
        )
        if copy_of is not None:
            paragraphs = list(copy_of.paragraphs)
            summary = copy_of.summary
            source_line = f"Fuente: {rng.choice(OUTLETS)}"
            title = f"{title.split(' en ')[0]}: lo que se sabe"
        else:
            paragraphs = [gen.paragraph() for _ in range(rng.randint(4, 12))]
            summary = gen.news_sentence()
            source_line = None
        slug = _slug(title)
        path = f"/{section[0]}/{published:%Y/%m/%d}/{slug}-{i:05d}.html"
        articles.append(
            Article(
                index=i,
                path=path,
                title=title,
                summary=summary,
                paragraphs=paragraphs,
                section=section,
                author=gen.name(),
                published=published,
                updated=updated,
                tags=rng.sample(
                    (
                        "Seguridad",
                        "Fentanilo",
                        "Armas",
                        "Frontera",
                        "Sonora",
                        "Estados Unidos",
                        "Migración",
                        "Cárteles",
                        "Aranceles",
                        "Extradición",
                        "Guardia Nacional",
                        "Economía",
                    ),
                    k=3,
                ),
                source_line=source_line,
                original=copy_of.index if copy_of else None,
            )
        )
    return articles


_SPANISH_MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip


def spanish_date(when: datetime) -> str:
    return f"{when.day} de {_SPANISH_MONTHS[when.month - 1]} de {when.year}, {when:%H:%M} h"


class PageRenderer:
    """Renders article pages: a site chrome shared by all pages (like a real CMS) plus per-page
    variety (related lists, ad ids, a state blob), sized to a target between 30 and 120 KB."""

    def __init__(self, seed: int, site_name: str = SITE_NAME):
        self.rng = random.Random(seed * 7919 + 1)
        self.gen = TextGen(self.rng)
        self.site_name = site_name
        self.headlines = [self.gen.headline() for _ in range(400)]
        self.css = self._css()
        self.nav = self._nav()
        self.footer = self._footer()
        self.vendor_js = self._vendor_js()

    def _css(self) -> str:
        r = self.rng
        rules = []
        for i in range(220):
            cls = f".c-{_slug(r.choice(WORDS))}-{i}"
            props = "".join(
                f"{p}:{r.randint(0, 48)}px;"
                for p in r.sample(
                    (
                        "margin",
                        "padding",
                        "font-size",
                        "line-height",
                        "gap",
                        "border-radius",
                        "max-width",
                        "top",
                        "left",
                    ),
                    k=3,
                )
            )
            rules.append(f"{cls}{{{props}color:#{r.randrange(0xFFFFFF):06x}}}")
        return "".join(rules)

    def _nav(self) -> str:
        items = []
        for slug, label in SECTIONS:
            subs = "".join(
                f'<li><a href="/{slug}/{_slug(s)}/">{html.escape(s)}</a></li>'
                for s in self.rng.sample(SUBSECTIONS, k=8)
            )
            items.append(
                f'<li class="menu-item has-children"><a href="/{slug}/">{label}</a>'
                f'<ul class="sub-menu">{subs}</ul></li>'
            )
        ticker = "".join(
            f'<li><a href="/ultima-hora/{i}">{html.escape(h)}</a></li>'
            for i, h in enumerate(self.headlines[:6])
        )
        return (
            '<header class="site-header"><div class="top-bar"><span class="fecha-hoy">'
            f'Hermosillo, Sonora</span><a href="/suscripciones/">Suscríbete</a>'
            '<a href="/newsletter/">Boletín</a><a href="/epaper/">Edición impresa</a></div>'
            f'<a class="logo" href="/"><img src="/static/logo.svg" alt="{self.site_name}"></a>'
            '<form class="buscador" action="/buscar"><input name="q" placeholder="Buscar">'
            "<button>Buscar</button></form>"
            f'<nav class="main-menu" aria-label="Secciones"><ul>{"".join(items)}</ul></nav>'
            f'<div class="breaking"><strong>Última hora</strong><ul>{ticker}</ul></div></header>'
        )

    def _footer(self) -> str:
        cols = []
        for slug, label in SECTIONS:
            links = "".join(
                f'<li><a href="/{slug}/{_slug(s)}/">{html.escape(s)}</a></li>'
                for s in self.rng.sample(SUBSECTIONS, k=10)
            )
            cols.append(f'<div class="footer-col"><h4>{label}</h4><ul>{links}</ul></div>')
        legal = " ".join(self.gen.loose_sentence() for _ in range(6))
        return (
            f'<footer class="site-footer">{"".join(cols)}<div class="legal"><p>{legal}</p>'
            f"<p>© 2025 {self.site_name}. Todos los derechos reservados. Prohibida su reproducción "
            'total o parcial.</p><a href="/aviso-de-privacidad/">Aviso de privacidad</a> '
            '<a href="/terminos/">Términos y condiciones</a></div></footer>'
        )

    def _vendor_js(self) -> str:
        r = self.rng
        body = ";".join(
            f"function _{r.randrange(16**6):06x}(a,b){{return a.{r.choice(('map', 'filter', 'push'))}"
            f"(function(x){{return x+{r.randint(1, 99)}*b}})}}"
            for _ in range(160)
        )
        return f"!function(){{{body}}}();"

    def _related(self, rng: random.Random, count: int, label: str) -> str:
        items = []
        for _ in range(count):
            h = rng.choice(self.headlines)
            slug = rng.choice(SECTIONS)[0]
            items.append(
                f'<li class="card"><a href="/{slug}/2025/12/{rng.randint(1, 31):02d}/{_slug(h)}.html">'
                f'<img loading="lazy" src="/img/{rng.randrange(16**8):08x}.jpg" alt="">'
                f"<h3>{html.escape(h)}</h3></a><p>{html.escape(self.gen.teaser())}</p></li>"
            )
        return f'<section class="related"><h2>{label}</h2><ul>{"".join(items)}</ul></section>'

    def _ad(self, rng: random.Random) -> str:
        slot = rng.randrange(16**8)
        return (
            f'<div class="ad-slot" id="div-gpt-ad-{slot:08x}" data-size="300x250">'
            f"<script>googletag.cmd.push(function(){{googletag.display('div-gpt-ad-{slot:08x}')}});"
            "</script></div>"
        )

    def render(self, art: Article, target_kb: int, base: str = "") -> str:
        """One article page of about ``target_kb`` KB; ``base`` prefixes absolute URLs (og:url)."""
        rng = random.Random(art.index * 104729 + target_kb)
        self.gen.rng = rng
        section_slug, section_label = art.section
        url = base + art.path
        body_parts = []
        if art.source_line and rng.random() < 0.5:
            body_parts.append(f'<p class="fuente"><em>{html.escape(art.source_line)}</em></p>')
        for n, para in enumerate(art.paragraphs):
            body_parts.append(f"<p>{html.escape(para)}</p>")
            if n == 1:
                body_parts.append(self._ad(rng))
            if n == 3:
                h = rng.choice(self.headlines)
                body_parts.append(
                    f'<div class="lee-tambien"><strong>Lee también:</strong> '
                    f'<a href="/{section_slug}/{_slug(h)}.html">{html.escape(h)}</a></div>'
                )
        if art.source_line and not body_parts[0].startswith('<p class="fuente"'):
            body_parts.append(f"<p>{html.escape(art.source_line)}</p>")
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": art.title,
            "description": art.summary,
            "datePublished": art.published.isoformat(),
            "dateModified": art.updated.isoformat(),
            "author": [{"@type": "Person", "name": art.author}],
            "publisher": {"@type": "Organization", "name": self.site_name},
            "articleSection": section_label,
            "keywords": art.tags,
            "inLanguage": "es-MX",
            "mainEntityOfPage": url,
        }
        tags = "".join(f'<a href="/tag/{_slug(t)}/">{html.escape(t)}</a>' for t in art.tags)
        share = "".join(
            f'<a class="share share-{n}" href="https://{n}.com/share?u={url}" rel="nofollow">{label}</a>'
            for n, label in (
                ("facebook", "Compartir"),
                ("x", "Postear"),
                ("whatsapp", "Enviar"),
                ("telegram", "Telegram"),
                ("linkedin", "LinkedIn"),
            )
        )
        head = (
            '<!DOCTYPE html><html lang="es-MX"><head><meta charset="utf-8">'
            f"<title>{html.escape(art.title)} | {self.site_name}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="description" content="{html.escape(art.summary)}">'
            f'<link rel="canonical" href="{url}">'
            f'<meta property="og:type" content="article"><meta property="og:title" content="{html.escape(art.title)}">'
            f'<meta property="og:url" content="{url}"><meta property="og:site_name" content="{self.site_name}">'
            '<meta property="og:locale" content="es_MX">'
            f'<meta property="og:image" content="/img/{art.index:05d}.jpg">'
            f'<meta property="article:published_time" content="{art.published.isoformat()}">'
            f'<meta property="article:modified_time" content="{art.updated.isoformat()}">'
            f'<meta property="article:section" content="{section_label}">'
            f'<meta name="author" content="{html.escape(art.author)}">'
            f"<style>{self.css}</style>"
            f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
            f"<script>{self.vendor_js}</script></head>"
        )
        article = (
            f'<main class="contenido"><article class="nota">'
            f'<nav class="breadcrumbs"><a href="/">Inicio</a> › <a href="/{section_slug}/">{section_label}</a></nav>'
            f'<h1>{html.escape(art.title)}</h1><p class="bajada">{html.escape(art.summary)}</p>'
            f'<div class="byline">Por <a href="/autor/{_slug(art.author)}/">{html.escape(art.author)}</a>'
            f' | <time datetime="{art.published.isoformat()}">{spanish_date(art.published)}</time></div>'
            f'<div class="share-bar">{share}</div>'
            f'<figure><img src="/img/{art.index:05d}.jpg" alt=""><figcaption>{html.escape(self.gen.teaser())}'
            "</figcaption></figure>"
            f'<div class="article-body">{"".join(body_parts)}</div>'
            f'<div class="tags">{tags}</div><div class="share-bar bottom">{share}</div></article>'
        )
        fixed = len(head) + len(self.nav) + len(article) + len(self.footer) + 600
        budget = max(0, target_kb * 1024 - fixed)
        dom_budget = budget * rng.uniform(0.35, 0.6)
        blocks: list[str] = [self._ad(rng)]
        size = 0
        labels = ("Relacionadas", "Lo más leído", "Más noticias", "Te puede interesar", "Video")
        while size < dom_budget:
            block = self._related(rng, rng.randint(6, 12), rng.choice(labels))
            blocks.append(block)
            blocks.append(self._ad(rng))
            size += len(block) + 200
        aside = f'<aside class="sidebar">{"".join(blocks)}</aside></main>'
        state_items = []
        remaining = budget - size
        while remaining > 0:
            item = {
                "id": f"{rng.randrange(16**12):012x}",
                "headline": rng.choice(self.headlines),
                "teaser": self.gen.teaser(),
                "section": rng.choice(SECTIONS)[1],
                "ts": rng.randrange(1_700_000_000, 1_770_000_000),
            }
            encoded = json.dumps(item, ensure_ascii=False)
            state_items.append(encoded)
            remaining -= len(encoded) + 1
        state = f'<script id="__STATE__">window.__STATE__={{"feed":[{",".join(state_items)}]}};</script>'
        tail = (
            "<script>window.dataLayer=window.dataLayer||[];dataLayer.push({event:'pageview',"
            f"section:'{section_slug}',id:{art.index}}});</script>"
        )
        return f"{head}<body>{self.nav}{article}{aside}{self.footer}{state}{tail}</body></html>"


def _rfc822(when: datetime) -> str:
    return format_datetime(when)


def render_feed(title: str, link: str, items: list[Article]) -> str:
    """RSS 2.0 with ``{{BASE}}`` links; items newest first."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f"<channel><title>{html.escape(title)}</title><link>{PLACEHOLDER}{link}</link>",
        "<language>es-MX</language><description>Noticias de seguridad y frontera</description>",
    ]
    for art in items:
        url = PLACEHOLDER + art.path
        out.append(
            f"<item><title>{html.escape(art.title)}</title><link>{url}</link>"
            f'<guid isPermaLink="true">{url}</guid><pubDate>{_rfc822(art.published)}</pubDate>'
            f"<dc:creator>{html.escape(art.author)}</dc:creator>"
            f"<category>{html.escape(art.section[1])}</category>"
            f"<description>{html.escape(art.summary)}</description></item>"
        )
    out.append("</channel></rss>")
    return "\n".join(out)


def render_sitemap(items: list[Article]) -> str:
    rows = "".join(
        f"<url><loc>{PLACEHOLDER}{a.path}</loc><lastmod>{a.updated.isoformat()}</lastmod></url>"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'
    )


def render_sitemap_index(paths: list[str]) -> str:
    rows = "".join(
        f"<sitemap><loc>{PLACEHOLDER}{p}</loc><lastmod>2025-12-31T23:00:00-07:00</lastmod></sitemap>"
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
    )


@dataclass(slots=True)
class Site:
    """A generated site on disk: ``pages/`` (served as is) and ``templates/`` (with ``{{BASE}}``)."""

    root: Path
    article_paths: list[str]
    feed_paths: list[str]
    poll_feed_paths: list[str]
    copies: int
    html_bytes: int
    seconds_to_build: float = 0.0

    @property
    def pages_dir(self) -> Path:
        return self.root / "pages"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    def page_file(self, path: str) -> Path:
        return self.pages_dir / path.lstrip("/")


def _cache_dir(
    pages: int, feeds: int, feed_items: int, poll_feeds: int, seed: int, page_kb: tuple[int, int]
) -> Path:
    base = Path(
        os.environ.get("NEWSWATCH_BENCH_CACHE", Path(tempfile.gettempdir()) / "newswatch-bench")
    )
    sizes = "" if page_kb == DEFAULT_PAGE_KB else f"-kb{page_kb[0]}-{page_kb[1]}"
    return base / (
        f"site-v{GENERATOR_VERSION}-p{pages}-f{feeds}x{feed_items}-poll{poll_feeds}-s{seed}{sizes}"
    )


def build_site(
    pages: int = 3000,
    *,
    feeds: int = 20,
    feed_items: int = 50,
    poll_feeds: int = 0,
    seed: int = 2025,
    page_kb: tuple[int, int] = DEFAULT_PAGE_KB,
) -> Site:
    """Generate (or reuse) the site for these parameters; safe against a half-written cache.

    ``page_kb`` bounds each page's size in KB (uniform); heavier pages grow the sidebar and the
    embedded state blob, not the story, as on the heavy templates of real outlets."""
    root = _cache_dir(pages, feeds, feed_items, poll_feeds, seed, page_kb)
    meta_file = root / "site.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        return Site(root=root, **meta)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=_mkdir(root.parent)))
    articles = generate_articles(pages, seed)
    renderer = PageRenderer(seed)
    size_rng = random.Random(seed + 1)
    total = 0
    for art in articles:
        target = size_rng.randint(*page_kb)
        data = renderer.render(art, target).encode("utf-8")
        total += len(data)
        file = work / "pages" / art.path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
    templates = work / "templates"
    (templates / "feeds").mkdir(parents=True)
    (templates / "sitemaps").mkdir()
    (templates / "poll").mkdir()
    newest = articles[::-1]
    feed_paths = []
    for k in range(feeds):
        slug, label = SECTIONS[k % len(SECTIONS)]
        chosen = [a for a in newest if a.section[0] == slug][k // len(SECTIONS) :: 3][:feed_items]
        if len(chosen) < feed_items:
            chosen = newest[k::feeds][:feed_items]
        path = f"/feeds/{slug}-{k:02d}.xml"
        (templates / path.lstrip("/")).write_text(
            render_feed(f"{SITE_NAME} · {label}", f"/{slug}/", chosen), encoding="utf-8"
        )
        feed_paths.append(path)
    poll_paths = []
    latest = newest[:feed_items]
    for k in range(poll_feeds):
        path = f"/poll/feed-{k:04d}.xml"
        (templates / path.lstrip("/")).write_text(
            render_feed(f"Fuente de sondeo {k}", "/", latest), encoding="utf-8"
        )
        poll_paths.append(path)
    chunk = 1000
    sitemap_paths = []
    for n, i in enumerate(range(0, len(articles), chunk)):
        path = f"/sitemaps/notas-{n + 1}.xml"
        (templates / path.lstrip("/")).write_text(
            render_sitemap(articles[i : i + chunk]), encoding="utf-8"
        )
        sitemap_paths.append(path)
    (templates / "sitemap.xml").write_text(render_sitemap_index(sitemap_paths), encoding="utf-8")
    (templates / "robots.txt").write_text(
        f"User-agent: *\nDisallow: /buscar\n\nSitemap: {PLACEHOLDER}/sitemap.xml\n",
        encoding="utf-8",
    )
    meta = {
        "article_paths": [a.path for a in articles],
        "feed_paths": feed_paths,
        "poll_feed_paths": poll_paths,
        "copies": sum(1 for a in articles if a.original is not None),
        "html_bytes": total,
        "seconds_to_build": round(time.perf_counter() - started, 1),
    }
    (work / "site.json").write_text(json.dumps(meta), encoding="utf-8")
    try:
        work.rename(root)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
        if not meta_file.exists():
            raise
    return Site(root=root, **json.loads(meta_file.read_text(encoding="utf-8")))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def materialize(site: Site, base: str, into: Path) -> Path:
    """A served root for one server: pages linked from the cache, templates rendered for ``base``."""
    served = _mkdir(into / "www")
    for child in site.pages_dir.iterdir():
        (served / child.name).symlink_to(child, target_is_directory=child.is_dir())
    for template in site.templates_dir.rglob("*"):
        if template.is_file():
            target = served / template.relative_to(site.templates_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                template.read_text(encoding="utf-8").replace(PLACEHOLDER, base), encoding="utf-8"
            )
    return served


_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class _StaticHandler(BaseHTTPRequestHandler):
    """Static files like nginx: ETag from mtime and size, Last-Modified, 304 on either validator."""

    protocol_version = "HTTP/1.1"
    server: _StaticServer

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        self.server.count(self.command)
        rel = self.path.split("?", 1)[0].lstrip("/")
        file = self.server.root / rel
        if ".." in rel.split("/") or not file.is_file():
            self._reply(404, b"not found", {"Content-Type": "text/plain"}, send_body)
            return
        st = file.stat()
        etag = f'"{int(st.st_mtime):x}-{st.st_size:x}"'
        last_modified = formatdate(st.st_mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": last_modified}
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None:
            fresh = any(t.strip().removeprefix("W/") in (etag, "*") for t in inm.split(","))
        elif ims is not None:
            try:
                fresh = parsedate_to_datetime(ims).timestamp() >= int(st.st_mtime)
            except (TypeError, ValueError):
                fresh = False
        else:
            fresh = False
        if fresh:
            self.server.count("304")
            self._reply(304, b"", headers, send_body=False)
            return
        headers["Content-Type"] = _TYPES.get(file.suffix, "application/octet-stream")
        self._reply(200, file.read_bytes(), headers, send_body)

    def _reply(self, status: int, body: bytes, headers: dict[str, str], send_body: bool) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)


class _StaticServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, root: Path, port: int):
        self.root = root
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _StaticHandler)

    def count(self, key: str) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + 1


@dataclass(slots=True)
class ServedSite:
    """A running server for a site; ``kind`` says which server, for the figures' ``detail``."""

    base_url: str
    kind: str
    root: Path
    counts: dict[str, int] = field(default_factory=dict)
    cpu_start: float = 0.0
    pid: int | None = None

    def server_cpu_s(self) -> float | None:
        """CPU used by the server so far (in-process threads: this process's CPU; nginx: its own)."""
        if self.pid is None:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime - self.cpu_start
        return proc_cpu_s(self.pid)


def proc_cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def _nginx_conf(served: Path, prefix: Path, port: int) -> str:
    temp = prefix / "tmp"
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log crit;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    types {{ text/html html; application/xml xml; text/plain txt; }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/html application/xml text/plain;
    server {{
        listen 127.0.0.1:{port};
        root {served};
        location / {{ }}
    }}
}}
"""


@contextmanager
def serve_site(site: Site, *, prefer_nginx: bool = True) -> Iterator[ServedSite]:
    """Serve ``site`` on 127.0.0.1: nginx when installed, else a threaded Python server.

    The Python server runs as threads of this process; the benchmarks run the crawlers as child
    processes, so it competes for the CPU only with them, and its CPU use is reported.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="newswatch-bench-www-") as tmp:
        served = materialize(site, base, Path(tmp))
        nginx = shutil.which("nginx") if prefer_nginx else None
        if nginx:
            prefix = Path(tmp)
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                _mkdir(prefix / "tmp" / sub)
            conf = prefix / "nginx.conf"
            conf.write_text(_nginx_conf(served, prefix, port), encoding="utf-8")
            proc = subprocess.Popen(
                [nginx, "-p", str(prefix), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_for_port(port)
                yield ServedSite(base, "nginx", served, pid=proc.pid)
            finally:
                proc.terminate()
                proc.wait(10)
            return
        server = _StaticServer(served, port)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        try:
            yield ServedSite(
                base,
                "python ThreadingHTTPServer (nginx not installed)",
                served,
                counts=server.counts,
                cpu_start=usage.ru_utime + usage.ru_stime,
            )
        finally:
            server.shutdown()
            server.server_close()
