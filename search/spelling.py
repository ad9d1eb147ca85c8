""""Did you mean": corrections drawn from the words the library actually contains.

The vocabulary is every word of the catalog's passages and titles (accents folded), with the
counts the catalog keeps;
an unknown query word is replaced by the most frequent known word within one edit (two for long
words). Lookups use a deletion index (the SymSpell idea), so they cost microseconds.
"""

from __future__ import annotations

import re
from collections import Counter

from search.analysis import LANGUAGES, fold, query_terms, words
from search.follow import Follower



#: Longer words are not corrected: few words of the three languages are this long, and the
#: deletion search grows with the cube of a word's length (a 1,600-letter word took 5 s).
MAX_WORD = 30
#: Unknown words corrected per query: a pasted paragraph of typos must not cost more.
MAX_CORRECTIONS = 8


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _same_word(a: str, b: str) -> bool:
    """Whether two words are forms of one word in any of the languages (the same analysed terms)."""
    return any((ta := query_terms(a, lang)) and ta == query_terms(b, lang) for lang in LANGUAGES)


class Speller:
    def __init__(self, catalog) -> None:  # type: ignore[no-untyped-def]
        self.catalog = catalog
        self.follower = Follower(catalog, self._make, "spelling dictionary")
        self._version: object = None
        self.counts: Counter[str] = Counter()
        self._index: dict[str, list[str]] = {}

    def _make(self) -> None:
        run = self.catalog.last_run()
        version = (self.catalog.counts()["passages"], run["id"] if run else None)
        if version == self._version:
            return
        counts = self._count()
        index: dict[str, list[str]] = {}
        for word in counts:
            for d in _deletes(word) | {word}:
                index.setdefault(d, []).append(word)
        self.counts, self._index, self._version = counts, index, version  # swapped in together

    def _count(self) -> Counter[str]:
        # The catalog counts words as written, in each language; fold each distinct word once.
        counts: Counter[str] = Counter()
        for _, word, n in self.catalog.word_counts():
            for folded in words(fold(word)):
                counts[folded] += n
        return counts

    def correct(self, word: str) -> str | None:
        """The best known word near ``word``, or None if it is known or nothing is close."""
        w = fold(word.lower())
        if len(w) < 4 or len(w) > MAX_WORD or w in self.counts or not w.isalpha():
            return None
        candidates = set(self._index.get(w, ())) | {c for d in _deletes(w) for c in self._index.get(d, ())}
        limit = 1 if len(w) < 7 else 2
        scored = [(c, _distance(w, c)) for c in candidates]
        scored = [(c, d) for c, d in scored if d <= limit]
        if not scored and limit == 2:
            near = {c for d in _deletes(w) for dd in _deletes(d) for c in self._index.get(dd, ())}
            scored = [(c, _distance(w, c)) for c in near]
            scored = [(c, d) for c, d in scored if d <= 2]
        if not scored:
            return None
        best = min(scored, key=lambda cd: (cd[1], -self.counts[cd[0]], cd[0]))[0]
        # Another form of the same word ("souterrain" for "souterrains") is no correction: the
        # search finds every form of it already.
        return None if _same_word(w, best) else best

    def start(self) -> None:
        """Build the word list in the background (a server calls this at start-up): indexing
        100,000 passages' words takes a second or two, and "did you mean" can wait."""
        self.follower.start()

    def suggest(self, query: str) -> str | None:
        """The query with unknown words corrected, or None when there is nothing to correct."""
        self.follower.keep_current()  # a question never waits, but a command's first (search/follow.py)
        if not self.counts:
            return None  # still counting for the first time: no suggestion rather than a slow answer
        changed = False
        tried = 0

        def fix(m: re.Match) -> str:
            nonlocal changed, tried
            word = m.group(0)
            if tried >= MAX_CORRECTIONS or fold(word.lower()) in self.counts:
                return word
            tried += 1
            better = self.correct(word)
            if better is None:
                return word
            changed = True
            return better

        # field prefixes and quoted phrases are corrected like words; operators are left alone
        fixed = re.sub(r"(?<![\w:])[^\W\d_]{4,}", fix, query)
        return fixed if changed else None
