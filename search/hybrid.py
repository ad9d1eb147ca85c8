"""Hybrid search: dense passages from Qdrant and BM25F passages from Whoosh, fused, then
grouped so each hit is a document shown through its best passages (with their pages).

The steps, each in its own module: the query is understood (``query.py``), expanded across
languages (``thesaurus.py``), run by both retrievers, fused (``fusion.py``), filtered by what
the syntax demands (phrases, exclusions, title words), grouped by document, optionally
diversified (MMR), and dressed with snippets (``snippets.py``), facets and a spelling suggestion.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from hub.errors import InvalidQuery
from hub.settings import Settings
from search.analysis import fold
from search.fusion import fuse
from search.query import ParsedQuery, parse_query
from search.request import SearchRequest, clean_filters
from search.snippets import make_snippet

#: Passages the first dense pass keeps for the feedback pass to re-score. 1,000 gave the same
#: nDCG@10 and recall@100 on every collection of bench/quality.py, and cost 2 ms more at 100k.
FEEDBACK_POOL = 300
PASSAGES_PER_HIT = 3


@dataclass
class Passage:
    chunk_id: str
    page: int | None
    heading: str | None
    score: float
    snippet: str
    snippet_html: str
    highlights: list[tuple[int, int]]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 6)
        data["highlights"] = [list(h) for h in self.highlights]
        return data


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
    #: The document's best passages (the first is the one above), each with its page.
    passages: list[Passage] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 6)
        data["highlights"] = [list(h) for h in self.highlights]
        data["passages"] = [p.to_json() for p in self.passages]
        return data


@dataclass
class SearchResults:
    query: str
    hits: list[Hit]
    total: int
    mode: str
    took_ms: float
    filters: dict[str, list[str]] = field(default_factory=dict)
    #: value -> count of matching documents, for doc_type, language, tags and year.
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    #: "Did you mean": the query with unknown words corrected, or None.
    suggestion: str | None = None
    #: Thesaurus concepts found in the query, with their labels and related concepts.
    concepts: list[dict[str, Any]] = field(default_factory=list)
    offset: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "mode": self.mode, "total": self.total, "offset": self.offset,
                "took_ms": round(self.took_ms, 1), "filters": self.filters,
                "facets": {k: [{"value": v, "count": c} for v, c in vs] for k, vs in self.facets.items()},
                "suggestion": self.suggestion, "concepts": self.concepts,
                "hits": [h.to_json() for h in self.hits]}


def query_language(text: str) -> str:
    """en, fr or es: which share the dense model gets depends on it."""
    from ingest.language import detect

    lang = detect(text)
    return lang if lang in ("fr", "es") else "en"


class HybridSearcher:
    def __init__(self, settings: Settings, catalog, semantic, keyword,  # type: ignore[no-untyped-def]
                 embedder: Callable[[], Any], thesaurus=None, speller=None) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.catalog = catalog
        self.semantic = semantic
        self.keyword = keyword
        self._embedder = embedder
        self.thesaurus = thesaurus
        self.speller = speller
        self._english = True

    # --- retrieval ---------------------------------------------------------------------------
    def passages(self, parsed: ParsedQuery, mode: str, filters: dict[str, Any], depth: int,
                 expansions: dict[str, list[str]] | None = None, share: float | None = None,
                 center: bool | None = None) -> dict[str, float]:
        """Fused passage scores (chunk id -> score) for one understood query. ``share``: the
        first encoder's share where two read (None: the setting); ``center``: level the dense
        scores of each passage language (None: the setting)."""
        return self.rankings(parsed, mode, filters, depth, expansions, share, center)[0]

    def rankings(self, parsed: ParsedQuery, mode: str, filters: dict[str, Any], depth: int,
                 expansions: dict[str, list[str]] | None = None, share: float | None = None,
                 center: bool | None = None) -> tuple[dict[str, float], dict[str, list[tuple[str, float]]]]:
        """Fused passage scores, and the retrievers' own rankings they came from."""
        expansions = expansions or {}
        center = self.settings.center_languages if center is None else center
        rankings: dict[str, list[tuple[str, float]]] = {}
        vector = None
        language = query_language(parsed.text)
        if mode in ("hybrid", "dense"):
            text = parsed.text
            if expansions.get("dense") and self.settings.dense_expansion:
                # The default model reads English best: the concepts' English labels carry a
                # French or Spanish question to English evidence (bench/quality.py, cross-lingual).
                text = f"{text} ({'; '.join(expansions['dense'])})"
            vector = self._embedder().embed_query(text, language) if share is None else \
                self._embedder().embed_query(text, language, share)
        if mode in ("hybrid", "keyword"):
            if self.keyword.terms is not None and not parsed.phrases and not parsed.title:
                rankings["keyword"] = self.keyword.search_words(parsed.words, expansions.get("keyword", []),
                                                                depth, filters)
            else:
                query = self.keyword.build_query(parsed.words, parsed.phrases, parsed.title,
                                                 expansions.get("keyword", []))
                rankings["keyword"] = self.keyword.search(query, depth, filters)
        embedder = self._embedder() if vector is not None else None
        joint = vector is not None and len(getattr(embedder, "parts", ())) > 1
        if vector is not None:
            pool = self.semantic.search(vector, max(depth, FEEDBACK_POOL), filters)
            if joint:
                # Two encoders: the scan's shortlist is scored again with each encoder voting
                # only on passages in a language it reads (search/embedder.py).
                question = embedder.query_parts(text, language)
                pool = self._joint_scores(embedder, question, language, [c for c, _ in pool], len(pool), share, center)
            rankings = {"dense": pool[:depth], **rankings}
        if mode != "hybrid":
            return dict(next(iter(rankings.values()))), rankings
        english = self._english = language == "en"
        w = self.settings.dense_weight if english else self.settings.dense_weight_other
        if joint and self.settings.keyword_confidence:
            # The keyword index matches the question's own words: when the passages that the
            # multilingual encoder finds best are written in other languages, those words cannot
            # be in them, and the keyword ranking is a guess. Its weight follows the share of
            # the best dense passages written in the question's language.
            w = 1.0 - (1.0 - w) * self._same_language(rankings["dense"][:10], language)
        self._dense_share = w
        weights = {"dense": w, "keyword": 1.0 - w}
        fused = fuse(rankings, self.settings.fusion, weights)
        k = self.settings.feedback_passages
        if k > 0 and fused and vector is not None and english:
            # Rocchio feedback: what both retrievers agree on says more about the topic than the
            # query's few words; worth +2 points nDCG@10 on Cranfield (bench/quality.py).
            top = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
            feedback = self.semantic.vectors(top)
            if len(feedback):
                # The moved query is scored against the first pass's best passages and the keyword
                # candidates, not the whole collection again: half the cost of a second search.
                within = list(dict.fromkeys([c for c, _ in pool] + [c for c, _ in rankings.get("keyword", [])]))
                if joint:
                    moved_parts = []
                    for q, f in zip(question, embedder.split(feedback)):
                        m = q.ravel() + self.settings.feedback_weight * f.mean(axis=0)
                        moved_parts.append(m / (float(np.linalg.norm(m)) or 1.0))
                    rankings["dense"] = self._joint_scores(embedder, moved_parts, language, within, depth, share, center)
                else:
                    moved = vector + self.settings.feedback_weight * feedback.mean(axis=0)
                    moved /= float(np.linalg.norm(moved)) or 1.0
                    rankings["dense"] = self.semantic.rescore(moved, within, depth, filters)
                fused = fuse(rankings, self.settings.fusion, weights)
        return fused, rankings

    def _same_language(self, ranking: list[tuple[str, float]], language: str) -> float:
        if not ranking:
            return 1.0
        ids = [c for c, _ in ranking]
        held = self.semantic.with_languages(ids)
        languages = held[2] if held is not None else self._catalog_languages(ids)[1]
        return sum(lang == language for lang in languages) / len(ids)

    def _catalog_languages(self, chunk_ids: list[str]) -> tuple[list[str], list[str]]:
        """The passages the catalog holds among these, and each one's language (its own, else
        its document's): on a Qdrant server, where no in-memory copy knows them."""
        chunks = self.catalog.chunks_by_ids(chunk_ids, text=False)
        found = [c for c in chunk_ids if c in chunks]
        docs = self.catalog.documents_by_ids({chunks[c].doc_id for c in found})
        return found, [chunks[c].language or (docs[chunks[c].doc_id].language if chunks[c].doc_id in docs else "")
                       for c in found]

    def _joint_scores(self, embedder, question: list[np.ndarray], language: str, chunk_ids: list[str],  # type: ignore[no-untyped-def]
                      limit: int, share: float | None = None, center: bool = False) -> list[tuple[str, float]]:
        """These passages scored by every encoder that reads both languages, best first;
        ``center``: with each passage language's scores levelled (center_by_language)."""
        if not chunk_ids:
            return []
        held = self.semantic.with_languages(chunk_ids)
        if held is not None:
            chunk_ids, vectors, languages = held
        else:  # a Qdrant server: vectors from it, languages from the catalog
            chunk_ids, languages = self._catalog_languages(chunk_ids)
            vectors = self.semantic.vectors(chunk_ids)
            if len(vectors) != len(chunk_ids):
                return []
        if not chunk_ids:
            return []
        scores = embedder.scores(question, vectors, language, languages, share)
        if center:
            scores = center_by_language(scores, languages)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(chunk_ids[i], float(scores[i])) for i in order]

    def _document_scores(self, rankings: dict[str, list[tuple[str, float]]], doc_of: dict[str, str],
                         by_doc: dict[str, list[tuple[float, str]]]) -> dict[str, float]:
        """Fusion at document level: each retriever's best passage per document, then fused.
        A document whose best dense passage differs from its best keyword passage is not
        penalised for it, as it is when passages are fused first. ``by_doc``: the passages
        that passed the query's syntax, by document."""
        kept = {c for passages in by_doc.values() for _, c in passages}
        per_doc: dict[str, list[tuple[str, float]]] = {}
        for name, ranking in rankings.items():
            best: dict[str, float] = {}
            for chunk_id, score in ranking:
                doc_id = doc_of.get(chunk_id)
                if chunk_id in kept and score > best.get(doc_id, float("-inf")):  # type: ignore[arg-type]
                    best[doc_id] = score  # type: ignore[index]
            per_doc[name] = sorted(best.items(), key=lambda kv: -kv[1])
        if len(per_doc) == 1:
            return dict(next(iter(per_doc.values())))
        w = getattr(self, "_dense_share", self.settings.dense_weight if self._english
                    else self.settings.dense_weight_other)
        return fuse(per_doc, self.settings.fusion, {"dense": w, "keyword": 1.0 - w})

    # --- the whole search ----------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResults:
        started = time.perf_counter()
        query, limit, offset, mode = request.query, request.limit, request.offset, request.mode
        diversify, expand = request.diversify, request.expand
        parsed = parse_query(query)
        if parsed.empty:
            raise InvalidQuery("empty query: type some words to search for")
        flt = {**request.filters, **clean_filters(parsed.filters)}
        if parsed.years:
            flt["year"] = parsed.years

        concepts, expansions = [], {}
        if expand and self.thesaurus is not None:
            found = self.thesaurus.find(parsed.text)
            concepts = [self.thesaurus.describe(c) for c in found]
            expansions = self.thesaurus.expansions(found, parsed.text)

        depth = self.settings.candidates
        scores, rankings = self.rankings(parsed, mode, flt, depth, expansions)
        syntax = bool(parsed.phrases or parsed.excluded or parsed.title)
        candidates = {c for r in rankings.values() for c, _ in r}
        chunks: dict[str, Any] = {}
        if syntax:  # the syntax is checked on the passages' text
            chunks = self.catalog.chunks_by_ids(candidates)
            doc_of = {c: chunk.doc_id for c, chunk in chunks.items()}
        else:  # ranking needs only each passage's document, which the in-memory copy knows
            doc_of = self.semantic.doc_ids(candidates)
            if len(doc_of) < len(candidates):
                missing = self.catalog.chunks_by_ids(candidates - doc_of.keys(), text=False)
                doc_of.update((c, chunk.doc_id) for c, chunk in missing.items())
        docs_meta = self.catalog.documents_by_ids(set(doc_of.values()))
        keep = _syntax_filter(parsed, docs_meta)

        by_doc: dict[str, list[tuple[float, str]]] = {}
        for chunk_id, score in scores.items():
            doc_id = doc_of.get(chunk_id)
            if doc_id not in docs_meta:  # `hub check` reports such drift
                continue
            if syntax and not keep(chunks[chunk_id]):
                continue
            by_doc.setdefault(doc_id, []).append((score, chunk_id))
        for passages in by_doc.values():
            passages.sort(key=lambda p: (-p[0], p[1]))
        if self.settings.fusion_level == "document":
            doc_scores = self._document_scores(rankings, doc_of, by_doc)
        else:
            doc_scores = {d: passages[0][0] for d, passages in by_doc.items()}
        ranked = sorted(by_doc, key=lambda d: (-doc_scores.get(d, 0.0), d))
        if diversify and len(ranked) > 1:
            ranked = self._mmr(ranked, by_doc)

        facets = _facets([docs_meta[d] for d in ranked])
        snippet_query = " ".join([parsed.text, *expansions.get("keyword", [])])
        if not syntax:  # the texts of the passages shown, now that they are known
            shown = [c for d in ranked[offset:offset + limit] for _, c in by_doc[d][:PASSAGES_PER_HIT]]
            chunks.update(self.catalog.chunks_by_ids(shown))
        hits = []
        for doc_id in ranked[offset:offset + limit]:
            doc = docs_meta[doc_id]
            passages = []
            for score, chunk_id in by_doc[doc_id][:PASSAGES_PER_HIT]:
                chunk = chunks.get(chunk_id)
                if chunk is None:  # in the indexes but no longer in the catalog: `hub check` says so
                    continue
                snip = make_snippet(chunk.text, snippet_query, doc.language)
                passages.append(Passage(chunk.id, chunk.page, chunk.heading, score, snip.text,
                                        snip.html, snip.highlights))
            if not passages:
                continue
            best = passages[0]
            hits.append(Hit(
                doc_id=doc.id, source=doc.source, title=doc.title, doc_type=doc.doc_type,
                language=doc.language, page=best.page, score=doc_scores.get(doc_id, best.score), snippet=best.snippet,
                snippet_html=best.snippet_html, highlights=best.highlights, chunk_id=best.chunk_id,
                heading=best.heading, tags=doc.tags, year=doc.year, format=doc.format, passages=passages,
            ))
        suggestion = self.speller.suggest(query) if self.speller is not None else None
        took = (time.perf_counter() - started) * 1000
        return SearchResults(query=query, hits=hits, total=len(ranked), mode=mode, took_ms=took,
                             filters=flt, facets=facets, suggestion=suggestion, concepts=concepts,
                             offset=offset)

    def _mmr(self, ranked: list[str], by_doc: dict[str, list[tuple[float, str]]],
             pool: int = 50, lam: float = 0.7) -> list[str]:
        """Maximal marginal relevance over documents: near-duplicates of a hit already shown
        (another chapter of the same report, a translation) give way to different evidence."""
        head, tail = ranked[:pool], ranked[pool:]
        vectors = self.semantic.vectors([by_doc[d][0][1] for d in head])
        if len(vectors) != len(head):
            return ranked
        rel = np.array([by_doc[d][0][0] for d in head], dtype=np.float32)
        span = float(rel.max() - rel.min()) or 1.0
        rel = (rel - rel.min()) / span
        sims = vectors @ vectors.T
        chosen: list[int] = []
        left = list(range(len(head)))
        while left:
            if chosen:
                penalty = sims[np.ix_(left, chosen)].max(axis=1)
            else:
                penalty = np.zeros(len(left))
            scores = lam * rel[left] - (1 - lam) * penalty
            pick = left[int(np.argmax(scores))]
            chosen.append(pick)
            left.remove(pick)
        return [head[i] for i in chosen] + tail


#: A language needs this many passages among the candidates for its mean to be trusted.
CENTER_MIN_GROUP = 5


def center_by_language(scores: np.ndarray, languages: list[str]) -> np.ndarray:
    """Dense scores with each passage language's mean moved to the mean of all candidates.

    A multilingual encoder still scores a question higher against any passage in its own
    language than against one in another: a Spanish question about cameras finds Spanish texts
    on other subjects before the English evaluation of cameras. Among a question's candidates,
    the gap between the languages' mean scores is that bias, not relevance (most candidates of
    every language are not relevant), so it is removed; the order within a language is kept.
    On the judged library: dense nDCG@10 0.902 -> 0.932 on the tuning half, 0.854 -> 0.890 on
    the validation half (bench/quality.py). Advice keeps raw scores (practices/recommender.py)."""
    if len(scores) == 0:
        return scores
    out = scores.astype(np.float32, copy=True)
    overall = float(scores.mean())
    kinds: dict[str, list[int]] = {}
    for i, lang in enumerate(languages):
        kinds.setdefault(lang, []).append(i)
    if len(kinds) < 2:
        return out
    for rows in kinds.values():
        if len(rows) >= CENTER_MIN_GROUP:
            out[rows] -= float(scores[rows].mean()) - overall
    return out


def _syntax_filter(parsed: ParsedQuery, docs: dict[str, Any]) -> Callable[[Any], bool]:
    """What quoted phrases, -exclusions and title: words demand of a passage, checked on its text
    (accents and case folded), so both retrievers obey the syntax alike."""
    phrases = [f" {_norm(p)} " for p in parsed.phrases]
    excluded = [f" {_norm(e)} " for e in parsed.excluded]
    titles = [f" {_norm(t)}" for t in parsed.title]
    if not (phrases or excluded or titles):
        return lambda chunk: True

    def keep(chunk) -> bool:  # type: ignore[no-untyped-def]
        doc = docs[chunk.doc_id]
        text = f" {_norm(doc.title)} {_norm(chunk.heading or '')} {_norm(chunk.text)} "
        if any(p not in text for p in phrases):
            return False
        if any(e in text for e in excluded):
            return False
        title = f" {_norm(doc.title)} "
        return all(t in title for t in titles)  # prefix match: title:polic matches "policing"

    return keep


def _norm(text: str) -> str:
    import re

    return re.sub(r"[^\w]+", " ", fold(text.lower())).strip()


def _facets(docs: list[Any]) -> dict[str, list[tuple[str, int]]]:
    from collections import Counter

    counters: dict[str, Counter] = {"doc_type": Counter(), "language": Counter(), "tags": Counter(),
                                    "year": Counter()}
    for doc in docs:
        counters["doc_type"][doc.doc_type] += 1
        counters["language"][doc.language] += 1
        counters["tags"].update(doc.tags)
        if doc.year:
            counters["year"][str(doc.year)] += 1
    out = {k: c.most_common() for k, c in counters.items()}
    out["year"] = sorted(out["year"], key=lambda vc: vc[0], reverse=True)
    out["tags"] = out["tags"][:30]
    return out
