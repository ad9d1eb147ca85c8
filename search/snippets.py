"""Snippets: the stretch of a passage that best shows why it matched, with the matches marked.

Matching uses the same analysis as the keyword index (stemming, folded accents), so a search
for "sécurité" highlights "securite" and "Sécurités" too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from search.analysis import field_language, terms

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


@lru_cache(maxsize=200_000)
def _word_terms(word: str, lang: str) -> frozenset[str]:
    return frozenset(terms(word, lang))


def query_terms(query: str, lang: str) -> frozenset[str]:
    return frozenset(terms(query, field_language(lang)))


def make_snippet(text: str, query: str, language: str, width: int = 36,
                 extra_terms: frozenset[str] = frozenset()) -> Snippet:
    """The window of about ``width`` words holding the most distinct query terms."""
    lang = field_language(language)
    wanted = query_terms(query, lang) | extra_terms
    words = list(_WORD.finditer(text))
    if not words:
        return Snippet(text[:240], [])
    hits = [bool(wanted and (_word_terms(m.group(0), lang) & wanted)) for m in words]

    best_start, best_score = 0, -1.0
    if any(hits):
        matched = [(_word_terms(m.group(0), lang) & wanted) if h else frozenset()
                   for m, h in zip(words, hits)]
        counts: dict[str, int] = {}
        n_hits = 0
        # slide a window of `width` words; keep term counts incrementally (linear time)
        for i in range(len(words)):
            for t in matched[i]:
                counts[t] = counts.get(t, 0) + 1
            n_hits += hits[i]
            start = i - width + 1
            if start > 0:
                out = start - 1
                for t in matched[out]:
                    counts[t] -= 1
                    if not counts[t]:
                        del counts[t]
                n_hits -= hits[out]
            if start >= 0 or i == len(words) - 1:
                # distinct terms first, then how many hits, then an earlier start
                score = len(counts) + 0.1 * n_hits
                if score > best_score + 1e-9:
                    best_start, best_score = max(0, start), score
        # a few words of lead-in, so the first match is not the snippet's first word
        best_start = max(0, min(best_start - 3, len(words) - width)) if best_start > 0 else 0
    window = words[best_start:best_start + width]
    begin, end = window[0].start(), window[-1].end()
    while end < len(text) and text[end] in ".,;:!?)»”\"'":  # keep the sentence's closing mark
        end += 1
    body = text[begin:end]
    prefix = "… " if best_start > 0 else ""
    suffix = " …" if best_start + width < len(words) else ""
    snippet_text = prefix + re.sub(r"\s+", " ", body) + suffix
    # recompute highlight offsets in the whitespace-normalised text
    highlights: list[tuple[int, int]] = []
    for m in _WORD.finditer(snippet_text):
        if wanted and _word_terms(m.group(0), lang) & wanted:
            highlights.append((m.start(), m.end()))
    return Snippet(snippet_text, highlights)
