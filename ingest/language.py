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

import math
import re
import unicodedata
from array import array
from pathlib import Path
from typing import Any, Mapping, Sequence

SUPPORTED = ("en", "fr", "es")
#: A language the hub has no analyser for (search/analysis.py indexes it as OTHER, unstemmed).
OTHER = "other"
#: The identifier's share (normalised over its candidates) above which it is believed.
_SURE = 0.8
_WORD = re.compile(r"[^\W\d_]{2,}")
_CANDIDATES = ["en", "fr", "es", "pt", "it", "de", "nl", "ca"]


_LOADED: list = []  # the identifier, once loaded (warm) or first asked for


def warm(cache: Path | None = None) -> None:
    """Load the identifier now; from an unpacked copy in ``cache`` (hub/unpacked.py) if given:
    0.05 s instead of 0.4 s of LZMA, and only the candidate languages' columns (28 MB less)."""
    if _LOADED:
        return
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    from hub.unpacked import unpacked

    copy = unpacked(cache, Path(MODEL_DIR) / MODEL_FILE, _unpack, recipe="languages " + " ".join(_CANDIDATES))
    if copy is None:
        _identifier()
        return
    with np.load(copy, allow_pickle=False) as data:
        identifier = LanguageIdentifier(
            data["ptc"], data["pc"], data["classes"].tolist(), _array(data["nextmove"]), data["out_feat"].tolist(),
            norm_probs=True, tk_row=_array(data["nextmove_row"]))
    _LOADED[:] = [identifier]


def _identifier():  # type: ignore[no-untyped-def]
    if not _LOADED:
        from py3langid.langid import _load_identifier

        _LOADED[:] = [_load_identifier(norm_probs=True, langs=_CANDIDATES)]
    return _LOADED[0]


def _unpack(source: Path, target: Path) -> None:
    """The package's model restricted to the candidate languages, as an uncompressed npz."""
    import numpy as np
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(source)
    keep = [i for i, c in enumerate(classes) if c in _CANDIDATES]  # set_languages' order
    with open(target, "wb") as out:
        np.savez(out, ptc=np.ascontiguousarray(np.asarray(ptc)[:, keep]), pc=np.asarray(pc)[keep],
                 classes=np.array([classes[i] for i in keep]), nextmove=np.frombuffer(nextmove, dtype=_DTYPE[nextmove.itemsize]),
                 nextmove_row=np.frombuffer(row, dtype=_DTYPE[row.itemsize]), out_feat=np.asarray(output, dtype=np.int32))


_DTYPE = {2: "uint16", 4: "uint32", 8: "uint64"}
_TYPECODE = {2: "H", 4: "I", 8: "L"}


def _array(values: Any) -> array:
    """The stdlib array the identifier's state machine walks (as py3langid's loader builds it)."""
    out = array(_TYPECODE[values.dtype.itemsize])
    out.frombytes(values.tobytes())
    return out


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


#: How many times likelier a short text's words must be in another language than in the default
#: for that language to be chosen: "police", "mobile" or "contact" are words of all three.
LIKELIER = 4.0


def likeliest(words: Sequence[str], counts: Mapping[str, Mapping[str, int]], sizes: Mapping[str, int],
              default: str = "en") -> str:
    """For a text too short for the identifier (a search of a word or two): the language in
    whose part of the library its words are likeliest, each word's occurrences there over the
    language's size. ``counts``: word -> language -> occurrences; words the library lacks in
    every language say nothing, and with none known ``default`` stands."""
    known = [w for w in words if counts.get(w)]
    scores = {lang: sum(math.log((counts[w].get(lang, 0) + 0.5) / sizes[lang]) for w in known)
              for lang in SUPPORTED if sizes.get(lang)}
    if not known or not scores:
        return default
    best = max(scores, key=scores.__getitem__)
    if default in scores and scores[best] - scores[default] < math.log(LIKELIER):
        return default
    return best


def _mostly_non_latin(text: str) -> bool:
    """Most letters outside the Latin script (a few letters do not decide).

    The letters of Latin's first blocks (below U+0250) are counted by a regular expression and
    only the others looked at one by one: checking every character in Python took 0.2 ms a
    document, a third of detecting its language."""
    if text.isascii():
        return False
    rest = [c for c in _PAST_EARLY_LATIN.findall(text) if c.isalpha()]
    if not rest:
        return False
    early = len(_EARLY_LATIN_LETTER.findall(text))
    letters = early + len(rest)
    if letters < 4:
        return False
    latin = early + sum(1 for c in rest if unicodedata.name(c, "").startswith("LATIN"))
    return latin < 0.5 * letters


_PAST_EARLY_LATIN = re.compile(r"[^\x00-\u024f]")
#: The characters below U+0250 that are letters (str.isalpha): word characters that are neither
#: digits, "_", superscripts nor fractions.
_EARLY_LATIN_LETTER = re.compile(r"[^\W\d_\u00b2\u00b3\u00b9\u00bc-\u00be\u0250-\U0010ffff]")


def _table_like(text: str, words: int) -> bool:
    """Mostly numbers and short labels: under 60% of its tokens are words, or its lines are
    short cells (four words or fewer on most lines)."""
    tokens = len(text.split())
    if words < 0.6 * tokens:
        return True
    lines = [len(line.split()) for line in text.splitlines() if line.strip()]
    return len(lines) >= 4 and sorted(lines)[len(lines) // 2] <= 4
