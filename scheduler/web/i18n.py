"""Interface text in Spanish (the default) and English: one table, one date format.

Every string a page shows comes from :data:`STRINGS`, so a page never mixes languages and a
translation is one line. The language is ``?lang_ui=es|en``, else the browser's
``Accept-Language``, else Spanish (the monitored press is Mexican).
"""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("es", "en")
DEFAULT = "es"

STRINGS: dict[str, tuple[str, str]] = {
    # key: (español, English)
    "app": ("newswatch", "newswatch"),
    "search": ("Búsqueda", "Search"),
    "sources": ("Fuentes", "Sources"),
    "query_label": ("Buscar en las noticias", "Search the news"),
    "query_placeholder": ('misión cortafuegos, "frase exacta", fentanilo OR fentanyl, NOT palabra',
                          'misión cortafuegos, "exact phrase", fentanilo OR fentanyl, NOT word'),
    "submit": ("Buscar", "Search"),
    "since": ("Desde", "Since"),
    "until": ("Hasta", "Until"),
    "all_copies": ("Todas las copias", "All copies"),
    "stories_view": ("Agrupar por historia", "Group by story"),
    "newest": ("Historias más recientes", "Newest stories"),
    "results": ("Resultados", "Results"),
    "no_results": ("Sin resultados. Pruebe con menos palabras o quite filtros.",
                   "No results. Try fewer words or remove filters."),
    "outlets_one": ("1 medio", "1 outlet"),
    "outlets_many": ("{n} medios", "{n} outlets"),
    "copies_one": ("1 copia", "1 copy"),
    "copies_many": ("{n} copias", "{n} copies"),
    "show_copies": ("Ver todas las copias", "Show all copies"),
    "articles_one": ("1 artículo", "1 article"),
    "articles_many": ("{n} artículos", "{n} articles"),
    "stories_one": ("1 historia", "1 story"),
    "stories_many": ("{n} historias", "{n} stories"),
    "approximate": ("(aproximado)", "(approximate)"),
    "facet_source": ("Fuente", "Source"),
    "facet_lang": ("Idioma", "Language"),
    "facet_topic": ("Tema", "Topic"),
    "facet_entity": ("Entidad", "Entity"),
    "facet_relevant": ("Relevancia", "Relevance"),
    "relevant_true": ("Relevante", "Relevant"),
    "relevant_false": ("No relevante", "Not relevant"),
    "relevant_unknown": ("Sin evaluar", "Not scored"),
    "remove_filter": ("Quitar filtro", "Remove filter"),
    "clear_filters": ("Quitar todos los filtros", "Clear all filters"),
    "histogram": ("Historias por {bucket}", "Stories per {bucket}"),
    "bucket_day": ("día", "day"),
    "bucket_week": ("semana", "week"),
    "bucket_month": ("mes", "month"),
    "bar_title": ("{start} – {end}: {n} historias", "{start} – {end}: {n} stories"),
    "prev": ("Anterior", "Previous"),
    "next": ("Siguiente", "Next"),
    "page_n": ("Página {n}", "Page {n}"),
    "bad_query": ("Consulta no válida", "Invalid query"),
    "not_found": ("No encontrado", "Not found"),
    "no_story": ("No hay artículo ni historia con el número {id}.",
                 "There is no article or story number {id}."),
    "story": ("Historia", "Story"),
    "timeline": ("Cronología de las copias", "Timeline of the copies"),
    "original": ("Original", "Original"),
    "representative": ("Representante", "Representative"),
    "credited": ("Fuente: {name}", "Source: {name}"),
    "similarity": ("Similitud {pct}", "Similarity {pct}"),
    "open_original": ("Abrir el original", "Open the original"),
    "text": ("Texto", "Text"),
    "posts": ("Publicaciones citadas", "Embedded posts"),
    "article": ("Artículo", "Article"),
    "authors": ("Autores", "Authors"),
    "published": ("Publicado", "Published"),
    "updated": ("Actualizado", "Updated"),
    "first_seen": ("Visto por primera vez", "First seen"),
    "fetched": ("Descargado", "Fetched"),
    "date_source": ("Origen de la fecha", "Date source"),
    "section": ("Sección", "Section"),
    "tags": ("Etiquetas", "Tags"),
    "language": ("Idioma", "Language"),
    "topics": ("Temas", "Topics"),
    "entities": ("Entidades", "Entities"),
    "relevance": ("Relevancia", "Relevance"),
    "matched_terms": ("Términos encontrados", "Matched terms"),
    "see_story": ("Ver la historia", "See the story"),
    "raw_html": ("HTML tal como se guardó", "Raw HTML as stored"),
    "yes": ("sí", "yes"),
    "no": ("no", "no"),
    "none": ("—", "—"),
    "source": ("Fuente", "Source"),
    "health": ("Estado de las fuentes", "Source health"),
    "last_success": ("Último éxito", "Last success"),
    "last_error": ("Último error", "Last error"),
    "failures": ("Fallos seguidos", "Failures in a row"),
    "next_poll": ("Próxima consulta", "Next poll"),
    "articles_24h": ("Artículos 24 h", "Articles 24 h"),
    "articles_7d": ("Artículos 7 d", "Articles 7 d"),
    "per_day": ("Artículos por día (30 días)", "Articles per day (30 days)"),
    "failing": ("Fallando", "Failing"),
    "ok": ("Bien", "OK"),
    "disabled": ("Desactivada", "Disabled"),
    "never": ("nunca", "never"),
    "versions": ("Versiones", "Versions"),
    "versions_intro": ("Cada vez que el medio cambió el artículo se guardó la versión anterior.",
                       "Each time the outlet changed the article, the previous version was kept."),
    "version": ("Versión", "Version"),
    "current": ("actual", "current"),
    "replaced": ("Reemplazada", "Replaced"),
    "changed": ("Cambios", "Changes"),
    "chars_added": ("+ caracteres", "+ characters"),
    "chars_removed": ("− caracteres", "− characters"),
    "minor": ("menor", "minor"),
    "minor_note": ("Cambio menor (espacios, puntuación, lugar y fecha o crédito): {what}",
                   "Minor change (whitespace, punctuation, dateline or credit): {what}"),
    "change_title": ("Versión {old} → {new}", "Version {old} → {new}"),
    "diff_old": ("Antes", "Before"),
    "diff_new": ("Después", "After"),
    "no_field_change": ("Ningún campo del texto cambió.", "No field of the text changed."),
    "field_title": ("título", "title"),
    "field_text": ("texto", "text"),
    "field_authors": ("autores", "authors"),
    "field_published_at": ("fecha de publicación", "publication date"),
    "field_updated_at": ("fecha de actualización", "update date"),
    "field_description": ("descripción", "description"),
    "field_withdrawn": ("retirado", "withdrawn"),
    "field_restored": ("restaurado", "restored"),
    "withdrawn_banner": ("la página del medio ya no existe (404/410) desde {when}; aquí se "
                         "conserva la última versión descargada.",
                         "the outlet's page is gone (404/410) since {when}; the last version "
                         "fetched is kept here."),
    "withdrawn_badge": ("retirado", "withdrawn"),
    "edits_one": ("editado 1 vez", "edited once"),
    "edits_many": ("editado {n} veces", "edited {n} times"),
    "edits_minor": ("solo cambios menores", "only minor changes"),
    "last_change": ("último cambio: {when}", "last change: {when}"),
    "alerts": ("Alertas con entregas pendientes o fallidas",
               "Alerts with pending or failing deliveries"),
    "alert_rule": ("Regla", "Rule"),
    "pending": ("Pendientes", "Pending"),
    "failing_deliveries": ("Fallidas", "Failing"),
    "last_sent": ("Último envío", "Last sent"),
    "language_switch": ("English", "Español"),
    "months": ("ene feb mar abr may jun jul ago sep oct nov dic",
               "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"),
}  # fmt: skip


def pick_language(explicit: str | None, accept_language: str | None) -> str:
    """``?lang_ui=`` when it names a known language, else the first known one the browser
    prefers (by q-value), else Spanish."""
    if explicit and explicit.strip().lower()[:2] in LANGUAGES:
        return explicit.strip().lower()[:2]
    choices: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        code = tag.strip().lower()[:2]
        if code in LANGUAGES and q > 0:
            choices.append((-q, i, code))
    return min(choices)[2] if choices else DEFAULT


def translate(lang: str, key: str, **values: object) -> str:
    """The interface string ``key`` in ``lang``, with ``{name}`` placeholders filled."""
    es, en = STRINGS[key]
    text = en if lang == "en" else es
    return text.format(**values) if values else text


def field_label(lang: str, name: str) -> str:
    """A version field or event (``title``, ``withdrawn``…) by its interface name; an unknown
    one as stored, so a field added later still shows."""
    key = f"field_{name}"
    return translate(lang, key) if key in STRINGS else name


def plural(lang: str, key: str, n: int) -> str:
    """``key_one`` for exactly one, else ``key_many`` with ``{n}`` filled (both languages
    pluralize the same way)."""
    return translate(lang, f"{key}_one") if n == 1 else translate(lang, f"{key}_many", n=n)


def format_offset(when: datetime) -> str:
    """The UTC offset as ``−07:00`` (a true minus sign, as typeset)."""
    offset = when.utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    sign = "−" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def format_datetime(lang: str, value: str | datetime | None, *, with_time: bool = True) -> str:
    """``11 dic 2025 09:15 (−07:00)``: the time in the offset it was stored with (the
    outlet's own zone), never converted to the reader's."""
    if value is None or value == "":
        return translate(lang, "none")
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    month = translate(lang, "months").split()[when.month - 1]
    day = f"{when.day} {month} {when.year}"
    if not with_time:
        return day
    return f"{day} {when:%H:%M} ({format_offset(when)})"
