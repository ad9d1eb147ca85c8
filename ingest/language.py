"""Language detection for documents that do not declare one.

py3langid ships its model inside the package, so detection works offline. It is restricted to
the hub's languages plus a few neighbours, so a short French text is not called Catalan.

The answer is always one the analysers know (search/analysis.py: en, fr, es) or ``OTHER``:
text mostly in another script (Chinese, Korean, Arabic, Cyrillic...) is ``OTHER`` before the
identifier is asked (restricted to Latin-script languages, it called Chinese "ca"); a neighbour
it is sure of (Portuguese, German...) is ``OTHER``; and where it is unsure, or the text is a table
(numbers and labels, which it called "fr" or "pt"), the caller's ``default`` stands.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SUPPORTED = ("en", "fr", "es")
#: A language the hub has no analyser for (search/analysis.py indexes it as OTHER, unstemmed).
OTHER = "other"
#: The identifier's share (normalised over its candidates) above which it is believed.
_SURE = 0.8
_WORD = re.compile(r"[^\W\d_]{2,}")
_CANDIDATES = ["en", "fr", "es", "pt", "it", "de", "nl", "ca"]


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=_CANDIDATES)


_NAMES = {
    "english": "en", "anglais": "en", "inglés": "en", "ingles": "en", "eng": "en",
    "french": "fr", "français": "fr", "francais": "fr", "francés": "fr", "frances": "fr", "fra": "fr", "fre": "fr",
    "spanish": "es", "espagnol": "es", "español": "es", "espanol": "es", "castellano": "es", "spa": "es",
}


def normalise(code: str | None) -> str | None:
    """'fr-CA', 'FR', 'fr_FR', 'French', 'español' -> 'fr' / 'es'; empty -> None."""
    if not code:
        return None
    text = str(code).strip().lower()
    if text in _NAMES:
        return _NAMES[text]
    base = re.split(r"[-_\s]", text)[0]
    return _NAMES.get(base, base) or None


def detect(text: str, default: str = "en") -> str:
    """en, fr, es or ``OTHER``; ``default`` (the declared language, say) when the text is too
    short or too table-like to tell."""
    sample = text[:5000]
    if _mostly_non_latin(sample):
        return OTHER
    if len(sample.split()) < 3:
        return default
    words = _WORD.findall(sample)
    if len(words) < 3:
        return default
    table = _table_like(sample, len(words))
    # A table's numbers and units mislead the identifier: its labels alone are asked.
    lang, share = _identifier().classify(" ".join(words) if table else sample)
    if share >= _SURE:
        return lang if lang in SUPPORTED else OTHER
    if lang in SUPPORTED and not table:
        return lang
    return default


def _mostly_non_latin(text: str) -> bool:
    """Most letters outside the Latin script (a few letters do not decide)."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 4:
        return False
    latin = sum(1 for c in letters if c < "\u0250" or unicodedata.name(c, "").startswith("LATIN"))
    return latin < 0.5 * len(letters)


def _table_like(text: str, words: int) -> bool:
    """Mostly numbers and short labels: under 60% of its tokens are words, or its lines are
    short cells (four words or fewer on most lines)."""
    tokens = len(text.split())
    if words < 0.6 * tokens:
        return True
    lines = [len(line.split()) for line in text.splitlines() if line.strip()]
    return len(lines) >= 4 and sorted(lines)[len(lines) // 2] <= 4
