"""Snippets: the stretch of a passage that best shows why it matched, with the matches marked.

Matching uses the same analysis as the keyword index (stemming, folded accents), so a search
for "sécurité" highlights "securite" and "Sécurités" too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from search.analysis import LANGUAGES, field_language, irregular_forms, query_terms, stop_words

_WORD = re.compile(r"\w+(?:-\w+)*", re.UNICODE)


@dataclass
class Snippet:
    text: str
    #: (start, end) character offsets of highlighted words in ``text``.
    highlights: list[tuple[int, int]]

    @property
    def html(self) -> str:
        """Escaped text with ``<mark>`` around matches: safe to insert into a page as is."""
        out, pos = [], 0
        for start, end in self.highlights:
            out.append(html.escape(self.text[pos:start]))
            out.append(f"<mark>{html.escape(self.text[start:end])}</mark>")
            pos = end
        out.append(html.escape(self.text[pos:]))
        return "".join(out)

    def marked(self, before: str = "**", after: str = "**") -> str:
        out, pos = [], 0
        for start, end in self.highlights:
            out.append(self.text[pos:start] + before + self.text[start:end] + after)
            pos = end
        out.append(self.text[pos:])
        return "".join(out)




class _Matcher:
    """The query terms a word of a passage carries, remembered per word for one query: the 25 or
    so snippets of a results page share most of their words."""

    def __init__(self, wanted: frozenset[str], lang: str) -> None:
        self.wanted = wanted
        self.lang = lang
        self.memo: dict[str, frozenset[str]] = {}
        # Words that may carry a query term: those starting like one of its stems, accents and
        # case aside. A regex finds them in C; only they are analysed (a passage's 200 words
        # one by one in Python cost half of a search's time at 100,000 passages). A plain
        # alternation, longest first: the regex compiler factors shared prefixes itself, and
        # builds it in 150 µs where a hand-made trie took 380 (a results page builds two or three).
        starts = {t if len(t) <= 3 else t[:min(len(t) - 1, 5)] for t in wanted}
        starts.update(w for w in irregular_forms(lang) if wanted.intersection(query_terms(w, lang)))
        prefixes = sorted(starts, key=lambda t: (-len(t), t))
        self._candidates = (re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")\w*")
                            if prefixes else None)

    def matches(self, text: str) -> list[tuple[int, int, frozenset[str]]]:
        """The words of ``text`` that carry query terms: their spans and the terms they carry."""
        if self._candidates is None:
            return []
        out = []
        for m in self._candidates.finditer(_fold(text)):
            left, right = m.span()
            if found := self(text[left:right]):
                out.append((left, right, found))
        return out

    def __call__(self, word: str) -> frozenset[str]:
        found = self.memo.get(word)
        if found is None:
            found = self.memo[word] = self.wanted.intersection(query_terms(word, self.lang))
        return found


def _fold_table() -> dict[int, str]:
    """Latin letters, with or without accents, to their plain lower case: one character each, so
    offsets in a folded text are offsets in the original."""
    from whoosh.support.charset import accent_map

    table = {code: chr(code).lower() for code in range(ord("A"), ord("Z") + 1)}
    table.update({code: chr(code).lower() for code in range(0xC0, 0x180) if len(chr(code).lower()) == 1})
    for code, base in accent_map.items():
        if isinstance(base, str) and len(base) == 1 and code <= 0x17F:
            table[code] = base.lower()
    return table


_FOLD = _fold_table()
_ACCENTED_CHARS = {chr(code): base for code, base in _FOLD.items() if code > 127}
_ACCENTED = re.compile("[" + "".join(sorted(_ACCENTED_CHARS)) + "]")


def _fold(text: str) -> str:
    """``text`` in lower case without accents, of the same length (offsets stay valid).
    ``str.translate`` does this in one call, but takes 130 µs for a passage that is not pure
    ASCII (a lookup that fails for most characters); lower case first, then replacing the few
    accented letters, takes a few."""
    folded = text.lower()
    if text.isascii():
        return folded
    if len(folded) != len(text):  # a letter whose lower case is two characters
        return text.translate(_FOLD)
    return _ACCENTED.sub(_unaccent, folded)


def _unaccent(match: re.Match) -> str:
    return _ACCENTED_CHARS[match.group()]


@lru_cache(maxsize=64)
def _matcher(query: str, lang: str, extra_terms: frozenset[str]) -> _Matcher:
    return _Matcher(frozenset(query_terms(query, lang)) | extra_terms, lang)


def marked_words(question: str, added: list[str]) -> str:
    """The text whose words a snippet marks: the question, and the words the thesaurus and the
    lexicon added to it in the three languages, less those languages' function words. A passage
    is analysed in its own language, where another's function words are words: "parada de
    autobús" added to an English question marked every "de" of an English passage."""
    function_words = _function_words()
    return " ".join([question, *(w for text in added for w in _WORD.findall(text) if w.lower() not in function_words)])


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    return frozenset().union(*(stop_words(lang) for lang in LANGUAGES))


_WORD_START = re.compile(r"(?<![\w-])\w")
_SPACES = re.compile(r"\s+")
#: Characters per word, space included, on average in the library: a window of ``width`` words
#: is taken as ``width * 7`` characters, which spares counting words in every passage.
_CHARS_PER_WORD = 7


def make_snippet(text: str, query: str, language: str, width: int = 36,
                 extra_terms: frozenset[str] = frozenset()) -> Snippet:
    """The window of about ``width`` words holding the most distinct query terms (then the most
    matches, then the earliest)."""
    lang = field_language(language)
    match = _matcher(query, lang, extra_terms)
    if _WORD.search(text) is None:
        return Snippet(text[:240], [])
    span = width * _CHARS_PER_WORD
    begin = 0
    matches = match.matches(text) if match.wanted else []
    if matches:
        # Slide the window over the matches, starting on each in turn (the best window can
        # always start on one): most distinct terms, then most matches, then the earliest.
        best_left, best_score = 0, -1.0
        counts: dict[str, int] = {}
        upto = 0
        for a, (left, _, found_a) in enumerate(matches):
            while upto < len(matches) and matches[upto][0] < left + span:
                for t in matches[upto][2]:
                    counts[t] = counts.get(t, 0) + 1
                upto += 1
            score = len(counts) + 0.1 * (upto - a)
            if score > best_score + 1e-9:
                best_left, best_score = left, score
            for t in found_a:
                counts[t] -= 1
                if not counts[t]:
                    del counts[t]
        if best_left > 0:
            # a few words of lead-in, so the first match is not the snippet's first word; and
            # a full window when the match is near the end
            begin = max(0, min(best_left - 3 * _CHARS_PER_WORD, len(text) - span))
            if begin > 0:
                first = _WORD_START.search(text, begin)
                begin = first.start() if first and first.start() <= best_left else best_left
    end = begin + span
    if end >= len(text):
        end = len(text)
    else:
        cut = max(text.rfind(" ", begin, end), text.rfind("\n", begin, end))
        if cut > begin:
            end = cut
    raw = text[begin:end]
    body = raw.strip()
    prefix = "… " if begin > 0 and _WORD.search(text, 0, begin) else ""
    suffix = " …" if _WORD.search(text, end) else ""
    collapsed = _SPACES.sub(" ", body)
    snippet_text = prefix + collapsed + suffix
    if collapsed == body:
        # The passage's own matches, moved into the snippet, without reading it again: the same
        # words at the same places, since passages are stored with single spaces. (A word that
        # the window cuts is not marked.)
        start = begin + len(raw) - len(raw.lstrip())
        shift = len(prefix) - start
        highlights = [(left + shift, right + shift) for left, right, _ in matches if start <= left and right <= end]
    else:
        highlights = [(left, right) for left, right, _ in match.matches(snippet_text)]
    return Snippet(snippet_text, highlights)
