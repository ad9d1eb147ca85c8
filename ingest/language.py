"""Language detection for documents that do not declare one.

py3langid ships its model inside the package, so detection works offline. It is restricted to
the hub's languages plus a few neighbours, so a short French text is not called Catalan.
"""

from __future__ import annotations

import re
from functools import lru_cache

SUPPORTED = ("en", "fr", "es")
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


def detect(text: str) -> str:
    """Best guess among the hub's languages; English when the text is too short to tell."""
    sample = text[:5000]
    if len(sample.split()) < 3:
        return "en"
    lang, _ = _identifier().classify(sample)
    return lang
