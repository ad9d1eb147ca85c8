"""Hybrid search: dense passages from Qdrant and BM25F passages from Whoosh, fused, then
grouped so each hit is a document shown through its best passage (with that passage's page).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from hub.errors import InvalidQuery
from hub.settings import Settings
from search.fusion import fuse
from search.snippets import make_snippet

MODES = ("hybrid", "dense", "keyword")
FILTER_KEYS = ("doc_type", "language", "tags")
MAX_LIMIT = 100


@dataclass
class Hit:
    """One document in the results. The first eight fields are the public JSON contract."""

    doc_id: str
    source: str
    title: str
    doc_type: str
    language: str
    page: int | None
    score: float
    snippet: str
    snippet_html: str = ""
    highlights: list[tuple[int, int]] = field(default_factory=list)
    chunk_id: str = ""
    heading: str | None = None
    tags: list[str] = field(default_factory=list)
    year: int | None = None
    format: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 6)
        data["highlights"] = [list(h) for h in self.highlights]
        return data


@dataclass
class SearchResults:
    query: str
    hits: list[Hit]
    total: int
    mode: str
    took_ms: float
    filters: dict[str, list[str]] = field(default_factory=dict)


def clean_filters(filters: dict[str, Any] | None) -> dict[str, list[str]]:
    """Accept str or list values, drop empty ones, refuse unknown keys with a clear message."""
    out: dict[str, list[str]] = {}
    for key, value in (filters or {}).items():
        key = {"tag": "tags", "type": "doc_type", "lang": "language"}.get(key, key)
        if key not in FILTER_KEYS:
            raise InvalidQuery(f"unknown filter {key!r}; use one of doc_type, language, tag")
        values = [value] if isinstance(value, str) else list(value or [])
        values = [v.strip() for v in values if v and v.strip()]
        if key in ("tags", "language"):
            values = [v.lower() for v in values]
        if values:
            out[key] = values
    return out


class HybridSearcher:
    def __init__(self, settings: Settings, catalog, semantic, keyword,  # type: ignore[no-untyped-def]
                 embedder: Callable[[], Any]) -> None:
        self.settings = settings
        self.catalog = catalog
        self.semantic = semantic
        self.keyword = keyword
        self._embedder = embedder

    def passages(self, query: str, mode: str, filters: dict[str, list[str]],
                 depth: int) -> dict[str, float]:
        """Fused passage scores (chunk id -> score) for one query."""
        rankings: dict[str, list[tuple[str, float]]] = {}
        vector = None
        if mode in ("hybrid", "dense"):
            vector = self._embedder().embed_query(query)
            rankings["dense"] = self.semantic.search(vector, depth, filters)
        if mode in ("hybrid", "keyword"):
            rankings["keyword"] = self.keyword.search(query, depth, filters)
        if mode != "hybrid":
            return dict(next(iter(rankings.values())))
        w = self.settings.dense_weight
        weights = {"dense": w, "keyword": 1.0 - w}
        fused = fuse(rankings, self.settings.fusion, weights)
        k = self.settings.feedback_passages
        if k > 0 and fused and vector is not None:
            # Rocchio feedback: what both retrievers agree on says more about the topic than the
            # query's few words; worth +2 points nDCG@10 on Cranfield (bench/quality.py).
            top = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
            feedback = self.semantic.vectors(top)
            if len(feedback):
                moved = vector + self.settings.feedback_weight * feedback.mean(axis=0)
                moved /= float(np.linalg.norm(moved)) or 1.0
                rankings["dense"] = self.semantic.search(moved, depth, filters)
                fused = fuse(rankings, self.settings.fusion, weights)
        return fused

    def search(self, query: str, limit: int = 10, offset: int = 0, filters: dict[str, Any] | None = None,
               mode: str = "hybrid") -> SearchResults:
        started = time.perf_counter()
        query = (query or "").strip()
        if not query:
            raise InvalidQuery("empty query: type some words to search for")
        if mode not in MODES:
            raise InvalidQuery(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")
        if offset < 0:
            raise InvalidQuery("offset cannot be negative")
        flt = clean_filters(filters)

        scores = self.passages(query, mode, flt, self.settings.candidates)
        chunks = self.catalog.chunks_by_ids(scores)
        best: dict[str, tuple[float, str]] = {}
        for chunk_id, score in scores.items():
            chunk = chunks.get(chunk_id)
            if chunk is None:  # in an index but not the catalog: `hub check` reports it
                continue
            if chunk.doc_id not in best or score > best[chunk.doc_id][0]:
                best[chunk.doc_id] = (score, chunk_id)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        page = ranked[offset:offset + limit]
        docs = self.catalog.documents_by_ids(doc_id for doc_id, _ in page)
        hits = []
        for doc_id, (score, chunk_id) in page:
            doc, chunk = docs[doc_id], chunks[chunk_id]
            snip = make_snippet(chunk.text, query, doc.language)
            hits.append(Hit(
                doc_id=doc.id, source=doc.source, title=doc.title, doc_type=doc.doc_type,
                language=doc.language, page=chunk.page, score=score, snippet=snip.text,
                snippet_html=snip.html, highlights=snip.highlights, chunk_id=chunk.id,
                heading=chunk.heading, tags=doc.tags, year=doc.year, format=doc.format,
            ))
        took = (time.perf_counter() - started) * 1000
        return SearchResults(query=query, hits=hits, total=len(ranked), mode=mode, took_ms=took, filters=flt)
