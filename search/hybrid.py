"""Hybrid search: dense passages from Qdrant and BM25F passages from Whoosh, fused, then
grouped so each hit is a document shown through its best passages (with their pages).

The steps, each in its own module: the query is understood (``query.py``), expanded across
languages (``thesaurus.py``), run by both retrievers, fused (``fusion.py``), filtered by what
the syntax demands (phrases, exclusions, title words), grouped by document, optionally
diversified (MMR), and dressed with snippets (``snippets.py``), facets and a spelling suggestion.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from hub.errors import InvalidQuery
from hub.settings import Settings
from search.analysis import LANGUAGES, fold, words
from search.dense import DenseRetriever
from search.fusion import fuse
from search.query import ParsedQuery, clean_words, parse_query
from search.request import SearchRequest, clean_filters
from search.snippets import make_snippet, marked_words
from search.sparse import query_vector, query_words
from search.store import KEYWORD, Ask, Found

#: Passages each encoder's first pass keeps for the feedback pass to re-score (with the keyword
#: candidates). 300 instead gave Cranfield hybrid nDCG@10 0.431 against 0.430 (recall@100
#: 0.818 against 0.811) and the same on the library (bench/quality.py), but the engine's
#: graph search and payload reads for 300 points per encoder cost 12 ms more at 100,000.
FEEDBACK_POOL = 100
PASSAGES_PER_HIT = 3
#: A word the lexicon carried into another language weighs as the question's own word: it is that
#: word, in the language of the passages it can match (a thesaurus label weighs 0.5). Tuning half
#: (bench/tune.py): 0.968 at 0.5, 0.978 at 1.0 and at 1.5 (bench/RESULTS.md, "The lexicon").
CARRIED_WEIGHT = 1.0
#: A ``title:`` word's weight in the keyword question, against 1 for a free word: enough that a
#: passage whose title has it outranks any that has only the free words.
TITLE_WEIGHT = 100.0


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
    #: The question's words as the lexicon carried them into the library's other languages.
    carried: list[str] = field(default_factory=list)
    #: Records shown beside the documents, not among them: the hub puts there the practices whose
    #: profiles fit the question (``SearchRequest.practices``), each a dict of its JSON.
    practices: list[dict[str, Any]] = field(default_factory=list)
    #: The language the question was read in (en, fr or es).
    language: str = "en"

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "language": self.language, "mode": self.mode, "total": self.total,
                "offset": self.offset,
                "took_ms": round(self.took_ms, 1), "filters": self.filters,
                "facets": {k: [{"value": v, "count": c} for v, c in vs] for k, vs in self.facets.items()},
                "suggestion": self.suggestion, "concepts": self.concepts, "carried": self.carried,
                "practices": self.practices, "hits": [h.to_json() for h in self.hits]}


def query_language(text: str, catalog: Any = None) -> str:
    """en, fr or es: which encoders read the question, and which way the lexicon carries its
    words. The identifier cannot tell a text of a word or two ("alumbrado", "éclairage public"):
    with a ``catalog``, the library's own word counts decide then, else English."""
    from ingest.language import detect, likeliest

    lang = detect(text, default="")
    if not lang and catalog is not None:
        asked = words(text)
        lang = likeliest(asked, catalog.word_languages(asked, LANGUAGES), catalog.language_sizes())
    return lang if lang in ("fr", "es") else "en"


class HybridSearcher:
    def __init__(self, settings: Settings, catalog, index, embedder: Callable[[], Any],  # type: ignore[no-untyped-def]
                 thesaurus=None, speller=None, lexicon=None, apart: str | None = None) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        #: A document type kept out of the results unless a filter asks for it (the hub's own
        #: practice profiles, which it shows beside them).
        self.apart = apart
        #: Carries a question's words into the other languages for the keyword ranking (search/lexicon.py).
        self.lexicon = lexicon
        self.catalog = catalog
        self.index = index
        self._embedder = embedder
        self.thesaurus = thesaurus
        self.speller = speller
        #: Each candidate passage's document and language, as the retrievers found them.
        self.found: dict[str, Found] = {}
        #: The language the last question was read in.
        self.language = "en"
        #: The words the lexicon carried into other languages for the last question.
        self.carried: list[str] = []

    # --- retrieval ---------------------------------------------------------------------------
    def passages(self, parsed: ParsedQuery, mode: str, filters: dict[str, Any], depth: int,
                 expansions: dict[str, list[str]] | None = None, share: float | None = None,
                 center: bool | None = None, long_questions: bool = True) -> dict[str, float]:
        """Fused passage scores (chunk id -> score) for one understood query. ``share``: the
        first encoder's share where two read (None: the setting); ``center``: level the dense
        scores of each passage language (None: the setting); ``long_questions``: a question of
        ``long_question_words`` words or more gives the dense ranking at least
        ``dense_weight_long``."""
        return self.rankings(parsed, mode, filters, depth, expansions, share, center,
                             long_questions=long_questions)[0]

    def rankings(self, parsed: ParsedQuery, mode: str, filters: dict[str, Any], depth: int,
                 expansions: dict[str, list[str]] | None = None, share: float | None = None,
                 center: bool | None = None, carry: bool = True, long_questions: bool = True
                 ) -> tuple[dict[str, float], dict[str, list[tuple[str, float]]]]:
        """Fused passage scores, and the retrievers' own rankings they came from. ``carry``: let
        the lexicon carry the question's words into the other languages (a search asked not to
        expand keeps to the question's own words)."""
        expansions = expansions or {}
        found: dict[str, list[Found]] = {}
        language = self.language = query_language(parsed.text, self.catalog)
        wants_keyword = mode in ("hybrid", "keyword")
        # The lexicon carries the question's words into the other languages (search/lexicon.py):
        # at once when the library has them all, their nearest words looked up; otherwise on its
        # own thread, while the encoders and the engine find the dense neighbours.
        carrying = carried = None
        if carry and wants_keyword and self.lexicon is not None:
            carried = self.lexicon.known_translations(" ".join(parsed.words), language)
            if carried is None:
                carrying = self.lexicon.translate_later(" ".join(parsed.words), language)
            elif carried:
                expansions = {**expansions, "carried": carried}
        self.carried = carried or []
        dense = question = None
        later: dict[str, Any] = {}
        asks: list[Ask] = []
        if mode in ("hybrid", "dense"):
            text = parsed.text
            if expansions.get("dense") and self.settings.dense_expansion:
                # The concepts' English labels carry a French or Spanish question to English
                # evidence (bench/quality.py, cross-lingual).
                text = f"{text} ({'; '.join(expansions['dense'])})"
            dense = DenseRetriever(self.index.store, self._embedder(), self.settings.center_languages)
            question, later = dense.start(text, language, share)
            asks = dense.asks(question, max(depth, FEEDBACK_POOL), filters)
        keyword = self._keyword_ask(parsed, expansions, depth, filters) if wants_keyword and not carrying else None
        # The retrievers ready in one call to the engine; the keyword answer comes last. An
        # English question's MiniLM vector is computed meanwhile on another thread, and its
        # neighbours asked for next: p50 1.6 to 4.3 ms lower than waiting for both vectors at
        # 100,000 passages, the same results (bench/RESULTS.md, "Where a search's time goes"); so is the
        # keyword question the lexicon was carrying.
        answers = self.index.store.search(asks + ([keyword] if isinstance(keyword, Ask) else []))
        answers, keyword_answer = answers[:len(asks)], answers[len(asks):]
        late: list[Ask] = []
        if dense is not None and later:
            question = dense.complete(question, later)
            late = dense.asks(question, max(depth, FEEDBACK_POOL), filters, parts=list(later))
        if carrying:
            carried = self.carried = carrying()
            expansions = {**expansions, "carried": carried}
            keyword = self._keyword_ask(parsed, expansions, depth, filters)
        rest = late + ([keyword] if carrying and isinstance(keyword, Ask) else [])
        if rest:
            answered = self.index.store.search(rest)
            answers += answered[:len(late)]
            keyword_answer = answered[len(late):] if carrying else keyword_answer
            asks += late
        if dense is not None and question is not None:
            found["dense"] = dense.collect(question, asks, answers, max(depth, FEEDBACK_POOL), filters, center)
        if isinstance(keyword, Ask):
            found["keyword"] = keyword_answer[0]
        elif keyword is not None or mode == "keyword":
            found["keyword"] = keyword or []
        for ranking in found.values():
            for f in ranking:
                self.found.setdefault(f.chunk_id, f)
        pool = found.get("dense", [])
        if "dense" in found:
            found["dense"] = pool[:depth]
        rankings = {name: [(f.chunk_id, f.score) for f in ranking] for name, ranking in found.items()}
        if mode != "hybrid":
            return dict(next(iter(rankings.values()))), rankings
        english = language == "en"
        # The share of the best dense passages in the question's language: how far the keyword
        # ranking (and feedback, which follows the fused top) can be trusted for this question.
        same = _same_language(found["dense"][:10], language)
        w = self.settings.dense_weight if english else self.settings.dense_weight_other
        length = len(words(parsed.text))
        if long_questions and length >= self.settings.long_question_words:
            w = max(w, self.settings.dense_weight_long)
        if len(self._embedder().parts) > 1 and self.settings.keyword_confidence:
            # The keyword index matches the question's own words: when the passages that the
            # multilingual encoder finds best are written in other languages, those words cannot
            # be in them, and the keyword ranking is a guess. Its weight follows the share of
            # the best dense passages written in the question's language.
            # Where the lexicon carried the question's words into the other languages, the keyword
            # ranking reaches passages in them too, and keeps part of its weight.
            reach = self.settings.lexicon_reach if carried else 0.0
            w = 1.0 - (1.0 - w) * (same + (1.0 - same) * reach)
        if length <= 2:
            # A subject looked up, not a question asked: the encoders read too little in a word
            # or two for their ranking to weigh more, whatever the languages of their best
            # passages say. Capped after that share, which would raise it again (from 0.2 to
            # 0.76 when 3 of the 10 best dense passages are in the search's language and the
            # lexicon carried nothing: bench/RESULTS.md, "Short searches").
            w = min(w, self.settings.dense_weight_short)
        weights = {"dense": w, "keyword": 1.0 - w}
        fused = fuse(rankings, self.settings.fusion, weights)
        k = self.settings.feedback_passages
        if (k > 0 and fused and dense is not None and question is not None and english
                and same >= self.settings.feedback_same_language):
            # Rocchio feedback: what both retrievers agree on says more about the topic than the
            # query's few words; worth +2 points nDCG@10 on Cranfield (bench/quality.py). Not
            # when the best dense passages are mostly in other languages: the keyword ranking,
            # blind to them, then picks the top, and feedback cost the library's tuning half a
            # point (0.950 without it, 0.940 with it; gated, 0.955 and Cranfield unchanged).
            top = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
            moved = dense.feedback(question, top, self.settings.feedback_weight)
            # The moved question is scored against the first pass's best passages and the
            # keyword candidates, not the whole collection again: half the cost of a second search.
            within = list({f.chunk_id: f for f in [*pool, *found.get("keyword", [])]}.values())
            rankings["dense"] = [(f.chunk_id, f.score) for f in dense.rescore(moved, within, depth, filters, center)]
            fused = fuse(rankings, self.settings.fusion, weights)
        return fused, rankings

    def _keyword_ask(self, parsed: ParsedQuery, expansions: dict[str, list[str]], depth: int,
                     filters: dict[str, Any]) -> Ask | list[Found] | None:
        """The keyword question: for the store's sparse vectors (an Ask to send with the dense
        ones), or, for quoted phrases and ``title:`` words in embedded mode, answered here by
        Whoosh. With a Qdrant server no local index file answers a question: phrases ask for the
        sparse vectors' adjacent-word entries, and ``title:`` words for title entries only,
        weighted so that passages whose title has them come first, as Whoosh's AND does. Either
        way, what the syntax demands exactly is then checked on the passages' text
        (``_syntax_filter``)."""
        expanded = [clean_words(e) for e in expansions.get("keyword", [])]
        if (parsed.phrases or parsed.title) and self.index.keeps_words:
            keyword = self.index.keyword
            # The carried words are asked as the question's own, as in the sparse question below.
            query = keyword.build_query([*parsed.words, *expansions.get("carried", [])], parsed.phrases,
                                        parsed.title, expansions.get("keyword", []))
            # Whoosh matches phrases position by position in Python: a phrase of common words
            # ("boundary layer") took 0.5 to 1.2 s at 100,000 passages. Past a number of postings
            # the sparse vectors answer, as with a server (25 ms).
            hits = keyword.search(query, depth, filters, max_postings=self.settings.phrase_max_postings or None)
            if hits is not None:
                return [Found(c, s, "", "") for c, s in hits]
        asked = query_words([clean_words(w) for w in parsed.words], expanded)
        asked += [(clean_words(p), 1.0, True) for p in parsed.phrases if clean_words(p)]
        asked += [(clean_words(c), CARRIED_WEIGHT, False) for c in expansions.get("carried", []) if clean_words(c)]
        indices, values = query_vector(asked)
        if parsed.title:
            title = query_vector([(clean_words(t), TITLE_WEIGHT, False) for t in parsed.title if clean_words(t)],
                                 fields=("title",))
            merged = dict(zip(indices, values))
            for i, v in zip(*title):
                merged[i] = max(merged.get(i, 0.0), v)
            indices, values = sorted(merged), [merged[i] for i in sorted(merged)]
        return Ask(KEYWORD, (indices, values), depth, filters or None) if indices else None

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
        scores, rankings = self.rankings(parsed, mode, self._documents_only(flt), depth, expansions, carry=expand)
        syntax = bool(parsed.phrases or parsed.excluded or parsed.title)
        candidates = {c for r in rankings.values() for c, _ in r}
        chunks: dict[str, Any] = {}
        if syntax:  # the syntax is checked on the passages' text
            chunks = self.catalog.chunks_by_ids(candidates)
            doc_of = {c: chunk.doc_id for c, chunk in chunks.items()}
        else:  # ranking needs only each passage's document, which the retrievers returned
            doc_of = {c: f.doc_id for c in candidates if (f := self.found.get(c)) is not None and f.doc_id}
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
        doc_scores = {d: passages[0][0] for d, passages in by_doc.items()}
        prior = self.settings.length_prior
        if mode == "hybrid" and prior > 0 and self.settings.fusion == "weighted":
            # The best of a document's passages is high by chance alone when it has many: among
            # 230 unrelated files (a 90-page transport plan, a 73-part novel) beside the judged
            # library, they took first places from the short documents that answer. Measured on
            # the weighted fusion's scores, which run from 0 to 1 (RRF's stay under 1/60).
            counts = self.catalog.passage_counts_of(by_doc)
            doc_scores = {d: s - prior * math.log(max(counts.get(d, 1), 1)) for d, s in doc_scores.items()}
        ranked = sorted(by_doc, key=lambda d: (-doc_scores.get(d, 0.0), d))
        if diversify and len(ranked) > 1:
            ranked = self._mmr(ranked, by_doc)

        facets = _facets([docs_meta[d] for d in ranked])
        snippet_query = marked_words(parsed.text, [*expansions.get("keyword", []), *self.carried])
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
                snip = make_snippet(chunk.text, snippet_query, chunk.language_in(doc))
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
                             offset=offset, carried=list(self.carried), language=self.language)

    def _documents_only(self, filters: dict[str, Any]) -> dict[str, Any]:
        """The filters, with the ``apart`` type left out when they name no type. The practice
        profiles are written as managers describe their problems, so they took 60% of the first
        three places of the judged questions, above the library's documents that answer them
        (bench/quality.py's "library as served"; bench/RESULTS.md, "Practice profiles beside the
        documents"); the hub lists them beside the documents instead. A library of nothing else
        keeps them in its results."""
        if self.apart is None or filters.get("doc_type"):
            return filters
        types = self.catalog.doc_types()
        others = [t for t in types if t != self.apart]
        return {**filters, "doc_type": others} if others and len(others) < len(types) else filters

    def _mmr(self, ranked: list[str], by_doc: dict[str, list[tuple[float, str]]],
             pool: int = 50, lam: float = 0.7) -> list[str]:
        """Maximal marginal relevance over documents: near-duplicates of a hit already shown
        (another chapter of the same report, a translation) give way to different evidence."""
        head, tail = ranked[:pool], ranked[pool:]
        vectors = self.index.vectors([by_doc[d][0][1] for d in head])
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


def _same_language(ranking: list[Found], language: str) -> float:
    """The share of these passages written in ``language``."""
    if not ranking:
        return 1.0
    return sum(f.language == language for f in ranking) / len(ranking)


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
