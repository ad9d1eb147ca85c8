"""What a person types, understood: free words, "quoted phrases", field prefixes and exclusions.

    how to light "bus stops" title:women tag:transit -cctv lang:fr year:2015..2020

Free words and phrases go to both retrievers; ``title:`` words must appear in the title;
``tag:``, ``type:``, ``lang:`` and ``year:`` become filters; ``-word`` drops passages that
contain it, but a minus before a digit is a negative number ("nights at -10 degrees"), a word.
Anything that is not valid syntax is read as plain words, never as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hub.errors import InvalidQuery
from search.request import year_range

_TOKEN = re.compile(r'(?P<neg>-)?(?:(?P<field>[A-Za-z_]+):)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
FIELD_ALIASES = {
    "title": "title", "tag": "tags", "tags": "tags", "type": "doc_type", "doc_type": "doc_type",
    "lang": "language", "language": "language", "year": "year",
}


@dataclass
class ParsedQuery:
    raw: str
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    years: tuple[int | None, int | None] | None = None

    @property
    def text(self) -> str:
        """The query as meaning: words, phrases and title words, for the dense model and snippets."""
        return " ".join([*self.words, *self.phrases, *self.title]).strip()

    @property
    def empty(self) -> bool:
        return not self.text


#: Bounds on what one query may ask for, so that no query costs much more than a normal one: a
#: question a manager writes is rarely over 400 characters; the syntax parts each add a pass
#: over the candidate passages (phrases, exclusions) or a filter.
MAX_QUERY_CHARS = 2000
MAX_PHRASES = 10
MAX_EXCLUDED = 20
MAX_FIELDS = 20


def parse_query(raw: str) -> ParsedQuery:
    """Read a query; raises InvalidQuery (a one-line reason) for one beyond the bounds above."""
    raw = raw or ""
    if len(raw) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"the query is {len(raw):,} characters long; the limit is {MAX_QUERY_CHARS:,}: "
                           "shorten it to the situation and what you want to know")
    parsed = ParsedQuery(raw=raw)
    for m in _TOKEN.finditer(raw):
        neg, fname, phrase, word = m.group("neg"), m.group("field"), m.group("phrase"), m.group("word")
        value = (phrase if phrase is not None else word or "").strip()
        key = FIELD_ALIASES.get(fname.lower()) if fname else None
        if fname and key is None:
            # "a:b" that is not one of ours (a URL, a ratio): keep it as ordinary words
            value = f"{fname}:{value}"
        if not value:
            continue
        if key == "title":
            parsed.title.append(value)
        elif key == "year":
            parsed.years = year_range(value)
        elif key:
            parsed.filters.setdefault(key, []).append(value.lower() if key != "doc_type" else value)
        elif neg and phrase is None and value[0].isdigit():
            parsed.words.append(f"-{value}")  # a negative number, not an exclusion
        elif neg:
            parsed.excluded.append(value)
        elif phrase is not None:
            if len(value.split()) > 1:
                parsed.phrases.append(value)
            else:
                parsed.words.append(value)
        else:
            parsed.words.append(value)
    fields = len(parsed.title) + sum(len(v) for v in parsed.filters.values()) + (parsed.years is not None)
    for count, limit, what in ((len(parsed.phrases), MAX_PHRASES, "quoted phrases"),
                               (len(parsed.excluded), MAX_EXCLUDED, "excluded words (-word)"),
                               (fields, MAX_FIELDS, "field filters (title:, tag:, type:, lang:, year:)")):
        if count > limit:
            raise InvalidQuery(f"the query has {count} {what}; the limit is {limit}")
    return parsed


def clean_words(text: str) -> str:
    """Words only: lowercase (so AND/OR/NOT are words) and no query-syntax characters."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s-]", " ", text.lower())).strip()
