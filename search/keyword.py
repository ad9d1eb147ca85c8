"""The keyword index: BM25F over passages in Whoosh, with per-language analysis.

Each passage fills the title/heading/body fields of its own language (en, fr, es, or xx for
anything else); a query is parsed against all of them at once, so every language's stemmer sees
the query words.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from whoosh import index, scoring
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup
from whoosh.query import And, NumericRange, Or, Query, Term

from search.analysis import LANGUAGES, OTHER, analyzer, field_language, terms
from search.query import clean_words

_ALL = (*LANGUAGES, OTHER)
#: Relative weight of a match in each part of a passage. Equal weights won on both benchmarks
#: (bench/quality.py: title 2 / heading 1.5 gave hybrid 0.952 on the library and 0.433 on
#: Cranfield; title 3 / heading 2 gave 0.943 and 0.428; equal weights 0.957 and 0.435).
FIELD_BOOSTS = {"title": 1.0, "heading": 1.0, "body": 1.0}


def build_schema() -> Schema:
    fields: dict = {
        "chunk_id": ID(stored=True, unique=True),
        "doc_id": ID(stored=True),
        "doc_type": ID(stored=True),
        "language": ID(stored=True),
        "tags": KEYWORD(stored=True, commas=True, lowercase=True),
        "year": NUMERIC(stored=True),
    }
    for lang in _ALL:
        for part in FIELD_BOOSTS:
            fields[f"{part}_{lang}"] = TEXT(analyzer=analyzer(lang), phrase=True)
    return Schema(**fields)


class KeywordIndex:
    """Whoosh: the index for phrases, ``title:`` and the rest of the query syntax, and for
    highlighting. Bag-of-words questions are answered by the sparse vectors that the same
    analysis gives (search/sparse.py), in the passage store."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if index.exists_in(str(path)):
            self.ix = index.open_dir(str(path))
        else:
            self.ix = index.create_in(str(path), build_schema())
        self.fields = [f"{part}_{lang}" for lang in _ALL for part in FIELD_BOOSTS]
        self._parser = MultifieldParser(
            self.fields, self.ix.schema, group=OrGroup,
            fieldboosts={f: FIELD_BOOSTS[f.split("_")[0]] for f in self.fields},
        )
        self._lock = threading.Lock()
        self._searcher = None

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        self.ix.close()

    @contextmanager
    def writer(self) -> Iterator["_Batch"]:
        """One Whoosh commit for a whole batch; nothing is committed if the batch fails."""
        w = self.ix.writer(limitmb=128)
        batch = _Batch(w)
        try:
            yield batch
        except BaseException:
            w.cancel()
            raise
        else:
            w.commit()
            self._invalidate()

    def _invalidate(self) -> None:
        # Not closed here: another thread may still be reading it; it closes when dropped.
        with self._lock:
            self._searcher = None

    def searcher(self):  # type: ignore[no-untyped-def]
        """A shared searcher, reopened only when the index has changed since it was opened.

        Whoosh's own ``refresh()`` misses commits that only delete, so we reopen instead.
        """
        with self._lock:
            if self._searcher is not None and not self._searcher.up_to_date():
                self._searcher = None
            if self._searcher is None:
                self._searcher = self.ix.searcher(weighting=scoring.BM25F())
            return self._searcher

    def parse(self, text: str) -> Query:
        return self._parser.parse(text)

    def build_query(self, words: list[str], phrases: list[str] = (), title: list[str] = (),
                    expansions: list[str] = (), expansion_boost: float = 0.5) -> Query | None:
        """A Whoosh query from already-understood parts; user text never reaches Whoosh's syntax."""
        parts = [clean_words(w) for w in words] + [f'"{clean_words(p)}"' for p in phrases]
        parts = [p for p in parts if p.strip('" ')]
        extra = [f'"{clean_words(e)}"^{expansion_boost}' if " " in clean_words(e) else f"{clean_words(e)}^{expansion_boost}"
                 for e in expansions if clean_words(e)]
        clauses: list[Query] = []
        if parts or extra:
            clauses.append(self._parser.parse(" ".join(parts + extra)))
        title_words = [clean_words(t) for t in title if clean_words(t)]
        if title_words:
            title_fields = [f"title_{lang}" for lang in _ALL]
            title_parser = MultifieldParser(title_fields, self.ix.schema, group=AndGroup)
            clauses.append(title_parser.parse(" ".join(title_words)))
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else And(clauses)

    def search(self, query: str | Query | None, limit: int, filters: dict | None = None,
               max_postings: int | None = None) -> list[tuple[str, float]] | None:
        """The best ``limit`` passages, or None when the query's terms have more than
        ``max_postings`` documents between them: Whoosh matches phrases position by position
        in Python, 2 to 5 µs a posting (a phrase of common words, "boundary layer", read 104,000
        of them in 0.47 s at 100,000 passages)."""
        if isinstance(query, str):
            from search.query import parse_query

            parsed = parse_query(query)
            query = self.build_query(parsed.words, parsed.phrases, parsed.title)
        q = query
        if q is None:
            return []
        searcher = self.searcher()
        if max_postings and sum(searcher.doc_frequency(f, t) for f, t in q.iter_all_terms()) > max_postings:
            return None
        collector = searcher.collector(limit=limit, filter=_filter(filters))
        searcher.search_with_collector(q, collector)
        return [(hit["chunk_id"], float(hit.score)) for hit in collector.results()]

    def count(self) -> int:
        return self.searcher().doc_count()


class _Batch:
    def __init__(self, writer) -> None:  # type: ignore[no-untyped-def]
        self._w = writer
        self._titles: dict[tuple[str, str], list[str]] = {}

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            self._w.delete_by_term("doc_id", doc_id)

    def delete_chunks(self, chunk_ids: Iterable[str]) -> None:
        for chunk_id in chunk_ids:
            self._w.delete_by_term("chunk_id", chunk_id)

    def add(self, *, chunk_id: str, doc_id: str, doc_type: str, language: str, tags: list[str],
            year: int | None, title: str, heading: str | None, body: str) -> tuple[list[str], ...]:
        """Index one passage; returns its three fields' terms (the sparse vector is made of them)."""
        lang = field_language(language)
        # Each text is analysed once, here: Whoosh takes the terms as a list (and skips its own
        # analysis), and the keyword sparse vector takes the same lists. A document's title, the same for
        # all its passages, is analysed once per batch.
        key = (title, lang)
        if key not in self._titles:
            self._titles[key] = terms(title, lang)
        tokens = (self._titles[key], terms(heading or "", lang), terms(body, lang))
        fields = {
            "chunk_id": chunk_id, "doc_id": doc_id, "doc_type": doc_type, "language": language,
            "tags": ",".join(t.lower() for t in tags), f"title_{lang}": list(tokens[0]),
            f"heading_{lang}": list(tokens[1]), f"body_{lang}": list(tokens[2]),
        }
        if year is not None:
            fields["year"] = year
        self._w.add_document(**fields)
        return tokens


def _filter(filters: dict | None) -> Query | None:
    if not filters:
        return None
    clauses: list[Query] = []
    for key, value in filters.items():
        if value in (None, "", []):
            continue
        if key == "year":
            start, end = value
            clauses.append(NumericRange("year", start, end))
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        field = key
        terms = [Term(field, v.lower() if field == "tags" else v) for v in values]
        clauses.append(terms[0] if len(terms) == 1 else Or(terms))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else And(clauses)
