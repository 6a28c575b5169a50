"""Article extraction, split along its steps.

``page`` orchestrates one page; ``metadata`` and ``jsonld`` gather candidates, ``fields`` picks
the winner for each field, ``body`` extracts and cleans the text (``furniture`` trims its start
and end), ``rules`` applies a site's selectors. Pages are loaded by :mod:`crawler.articles.html`.
"""

from crawler.articles.extraction.body import (
    EMBED_XPATH,
    drop_boilerplate_paragraphs,
    drop_leading_title,
    remove_embeds,
)
from crawler.articles.extraction.metadata import clean_author, normalize_language, strip_site_suffix
from crawler.articles.extraction.page import extract
from crawler.articles.extraction.rules import ExtractRules, apply_removals, element_paragraphs
from crawler.items import Extracted

__all__ = [
    "EMBED_XPATH",
    "ExtractRules",
    "Extracted",
    "apply_removals",
    "clean_author",
    "drop_boilerplate_paragraphs",
    "drop_leading_title",
    "element_paragraphs",
    "extract",
    "normalize_language",
    "remove_embeds",
    "strip_site_suffix",
]
