"""What a search asks for: one object shared by the search page, the JSON API and the CLI.

Each adapter turns its own input (query-string parameters, command-line options) into a
:class:`SearchRequest`; the request checks itself once, here, so a bad mode, limit, filter or year
range gets the same message whichever door it came through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hub.errors import InvalidQuery

MODES = ("hybrid", "dense", "keyword")
FILTER_KEYS = ("doc_type", "language", "tags", "year")
#: The names users type for a filter (``tag=``, ``type=``, ``lang=``), and the key it stands for.
FILTER_ALIASES = {"tag": "tags", "type": "doc_type", "lang": "language"}
MAX_LIMIT = 100
MAX_PRACTICES = 10

YearRange = tuple[int | None, int | None]


@dataclass(frozen=True)
class SearchRequest:
    """A search: the question, which page of results, filters, mode and options.

    ``filters`` maps doc_type, language and tags to lists of values and year to a (start, end)
    range; values may be given as a string, a list, or (year) ``"2010..2020"``. They come back
    cleaned: empty values dropped, languages and tags lower-cased, unknown keys refused.
    """

    query: str
    limit: int = 10
    offset: int = 0
    filters: dict[str, Any] = field(default_factory=dict)
    mode: str = "hybrid"
    #: Spread the results over different evidence (MMR).
    diversify: bool = False
    #: Expand the query across languages: the thesaurus, and the lexicon (search/lexicon.py).
    expand: bool = True
    #: How many practices that fit the question to show beside the documents (the hub's practice
    #: profiles are not among the documents unless ``doc_type`` asks for them).
    practices: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "query", (self.query or "").strip())
        if self.mode not in MODES:
            raise InvalidQuery(f"unknown search mode {self.mode!r}; use one of {', '.join(MODES)}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")
        if self.offset < 0:
            raise InvalidQuery("offset cannot be negative")
        if not 0 <= self.practices <= MAX_PRACTICES:
            raise InvalidQuery(f"practices must be between 0 and {MAX_PRACTICES}")
        object.__setattr__(self, "filters", clean_filters(self.filters))


def clean_filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    """Accept str or list values, drop empty ones, refuse unknown keys with a clear message."""
    out: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        key = FILTER_ALIASES.get(key, key)
        if key not in FILTER_KEYS:
            raise InvalidQuery(f"unknown filter {key!r}; use one of doc_type, language, tag, year")
        if key == "year":
            if value:
                out["year"] = year_range(value)
            continue
        values = [value] if isinstance(value, str) else list(value or [])
        values = [str(v).strip() for v in values if v and str(v).strip()]
        if key in ("tags", "language"):
            values = [v.lower() for v in values]
        if values:
            out[key] = sorted(set(out.get(key, [])) | set(values))
    return out


def year_range(value: Any) -> YearRange:
    """A year or a range: ``2015``, ``2010..2020``, ``2010-2020``, ``2018..``, ``..2012`` or a pair."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            return (int(value[0]) if value[0] else None, int(value[1]) if value[1] else None)
        except (TypeError, ValueError):
            raise InvalidQuery(f"year {value!r} is not a range of years like 2010..2020") from None
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})?(?:(\.\.|-)(\d{4})?)?", text)
    if not m or not (m.group(1) or m.group(3)):
        raise InvalidQuery(f"year:{text} is not a year or a range like year:2010..2020")
    start = int(m.group(1)) if m.group(1) else None
    end = int(m.group(3)) if m.group(3) else (start if not m.group(2) else None)
    return start, end
