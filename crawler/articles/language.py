"""Language of a text when neither the page nor the source says: a tiny stopword vote.

The corpus is Spanish and English (with the odd Portuguese wire story), so a few hundred
function words decide reliably on any paragraph-sized text, in microseconds, with no model to
download. Short or mixed texts return None rather than a guess, so callers fall back to the
source's configured language.
"""

from __future__ import annotations

import re
import unicodedata


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "es": _set(
        "el la los las un una unos unas de del al y e o u que en por para con sin sobre entre "
        "se su sus es son fue fueron ha han había este esta estos estas ese esa eso lo le les "
        "como más pero muy ya también porque cuando donde durante tras hasta desde según ante "
        "mientras aunque sino ni nos yo él ella ellos ellas usted ustedes mi mis tu tus "
        "está están estaba será serán hay dijo año años sido otro otra otros otras"
    ),
    "en": _set(
        "the a an of and or to in on at by for with without from into over about between is "
        "are was were be been being has have had this that these those it its he she they "
        "them his her their we our you your not but as than then which who whom whose what "
        "when where while after before during said says will would could should can also "
        "more most there here do does did"
    ),
    "pt": _set(
        "o os as um uma uns umas do da dos das no na nos nas ao aos pelo pela pelos pelas e "
        "ou que em por para com sem sobre entre seu sua seus suas é são foi foram tem têm às à "
        "este esta isto esse essa isso não mais mas muito já também porque quando onde "
        "durante até desde segundo ele ela eles elas você disse ano anos outro outra"
    ),
}
_EXCLUSIVE: dict[str, frozenset[str]] = {
    lang: stops - frozenset().union(*(o for other, o in _STOPWORDS.items() if other != lang))
    for lang, stops in _STOPWORDS.items()
}
"""Only words of one language vote: "que", "de", "por" say nothing between Spanish and Portuguese."""
_WORD = re.compile(r"[^\W\d_]+")

MIN_WORDS = 8
MIN_SHARE = 0.15
MIN_MARGIN = 1.5


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", text.lower()))


def language_scores(text: str) -> dict[str, int]:
    """How many words of ``text`` are stopwords of each language and of no other."""
    words = _words(text)
    return {lang: sum(1 for w in words if w in stops) for lang, stops in _EXCLUSIVE.items()}


def detect_language(text: str | None, *, max_chars: int = 4000) -> str | None:
    """``es``, ``en`` or ``pt`` when the text clearly is one of them, else None.

    "Clearly": at least :data:`MIN_WORDS` words, stopwords of the winner make up at least
    :data:`MIN_SHARE` of them, and the winner has :data:`MIN_MARGIN` times the runner-up's count.
    Only the first ``max_chars`` characters are read; a lead is enough.
    """
    if not text:
        return None
    sample = text[:max_chars]
    words = _words(sample)
    if len(words) < MIN_WORDS:
        return None
    scores = language_scores(sample)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < MIN_SHARE * len(words) or top < MIN_MARGIN * second:
        return None
    return best
