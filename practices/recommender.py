"""Advisory recommendations: which practices fit a question, how strong their evidence is, and
which passages say so.

A practice scores by two kinds of relevance: its own profile (summary and EMMIE notes) and the
passages of the evidence linked to it (``linking.py``). Relevance is then weighted by the
strength of evidence. Practices rated harmful are never recommended: when they match they are
listed under "avoid", with the evidence against them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hub.errors import InvalidQuery
from practices.forums import Forum, forums_for
from practices.profile import Practice
from search.query import parse_query
from search.snippets import make_snippet

PROFILE_SHARE = 0.55
#: How much the evidence rating moves a score: 1 - EVIDENCE_SHARE * (1 - weight).
EVIDENCE_SHARE = 0.4
REASONS = 3
#: A harmful practice goes under "avoid" when it ranks this high on relevance alone ...
AVOID_RANK = 3
#: ... and is at least this relevant compared with the best match.
AVOID_SHARE = 0.75
CONTEXT_KEYS = {"population": "populations", "setting": "settings", "level": "levels", "theme": "themes"}
UNIVERSAL = {"general", "all", "everyone", "general population", "any"}


@dataclass
class Reason:
    doc_id: str
    title: str
    source: str
    page: int | None
    chunk_id: str
    snippet: str
    snippet_html: str
    kind: str  # "evidence" (a linked document) or "profile" (the practice's own notes)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("doc_id", "title", "source", "page", "chunk_id", "snippet", "kind")}


@dataclass
class Recommendation:
    practice: Practice
    score: float
    relevance: float
    reasons: list[Reason]
    supporting_documents: int
    forums: list[Forum] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        p = self.practice
        return {
            "practice_id": p.id, "name": p.name, "names": p.names, "rating": p.rating.key,
            "rating_label": p.rating.label, "rating_meaning": p.rating.meaning, "score": round(self.score, 6),
            "relevance": round(self.relevance, 6), "summary": p.summary,
            "prevention_level": p.levels, "themes": p.themes,
            "implementation": p.emmie.get("implementation"), "economic_cost": p.emmie.get("economic_cost"),
            "supporting_documents": self.supporting_documents,
            "reasons": [r.to_json() for r in self.reasons],
            "forums": [{"id": f.id, "name": f.name, "url": f.url, "language": f.language} for f in self.forums],
        }


@dataclass
class Advice:
    question: str
    recommendations: list[Recommendation]
    avoid: list[Recommendation]
    context: dict[str, str]
    took_ms: float

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "context": self.context, "took_ms": round(self.took_ms, 1),
                "recommendations": [r.to_json() for r in self.recommendations],
                "avoid": [r.to_json() for r in self.avoid]}


def matches_context(practice: Practice, context: dict[str, str]) -> bool:
    for key, value in context.items():
        values = getattr(practice, CONTEXT_KEYS[key])
        wanted = value.strip().lower()
        if not values or set(values) & UNIVERSAL:
            continue
        if not any(wanted in v or v in wanted for v in values):
            return False
    return True


def recommend(searcher, catalog, practices: list[Practice], links: list[dict], forums: list[Forum],  # type: ignore[no-untyped-def]
              question: str, limit: int = 5, context: dict[str, str] | None = None,
              thesaurus=None) -> Advice:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    parsed = parse_query(question or "")
    if parsed.empty:
        raise InvalidQuery("empty question: describe the problem you want advice on")
    if not 1 <= limit <= 50:
        raise InvalidQuery("limit must be between 1 and 50")
    context = {k: v for k, v in (context or {}).items() if v and str(v).strip()}
    unknown = set(context) - set(CONTEXT_KEYS)
    if unknown:
        raise InvalidQuery(f"unknown context {', '.join(sorted(unknown))}; use population, setting, level, theme")

    expansions: dict[str, list[str]] = {}
    if thesaurus is not None:
        expansions = thesaurus.expansions(thesaurus.find(parsed.text), parsed.text)
    depth = searcher.settings.candidates
    profile_scores = searcher.passages(parsed, "hybrid", {"doc_type": ["practice"]}, depth, expansions)
    evidence_types = sorted({d.doc_type for d in catalog.documents()} - {"practice"})
    evidence_scores = (searcher.passages(parsed, "hybrid", {"doc_type": evidence_types}, depth, expansions)
                       if evidence_types else {})
    chunks = catalog.chunks_by_ids(list(profile_scores) + list(evidence_scores))

    best_profile: dict[str, float] = {}
    best_profile_chunk: dict[str, str] = {}
    for cid, score in profile_scores.items():
        chunk = chunks.get(cid)
        if chunk and score > best_profile.get(chunk.doc_id, -1):
            best_profile[chunk.doc_id], best_profile_chunk[chunk.doc_id] = score, cid
    doc_passages: dict[str, list[tuple[float, str]]] = {}
    for cid, score in evidence_scores.items():
        chunk = chunks.get(cid)
        if chunk:
            doc_passages.setdefault(chunk.doc_id, []).append((score, cid))
    for items in doc_passages.values():
        items.sort(reverse=True)

    linked: dict[str, list[str]] = {}
    for link in links:
        linked.setdefault(link["practice_id"], []).append(link["doc_id"])
    docs = catalog.documents_by_ids({d for ds in linked.values() for d in ds} | {p.doc_id for p in practices})
    query_text = " ".join([parsed.text, *expansions.get("keyword", [])])

    scored: list[Recommendation] = []
    for practice in practices:
        if not matches_context(practice, context):
            continue
        profile_rel = best_profile.get(practice.doc_id, 0.0)
        evidence = sorted(((doc_passages[d][0][0], d) for d in linked.get(practice.id, []) if d in doc_passages),
                          reverse=True)
        evidence_rel = evidence[0][0] if evidence else 0.0
        relevance = PROFILE_SHARE * profile_rel + (1 - PROFILE_SHARE) * evidence_rel
        if relevance <= 0:
            continue
        weight = 1 - EVIDENCE_SHARE * (1 - practice.rating.weight)
        reasons: list[Reason] = []
        candidates = sorted(((s, c) for _, d in evidence for s, c in doc_passages[d][:2]), reverse=True)
        seen_docs: set[str] = set()
        for _, cid in candidates:
            chunk = chunks[cid]
            if chunk.doc_id in seen_docs:
                continue
            seen_docs.add(chunk.doc_id)
            reasons.append(_reason(chunk, docs[chunk.doc_id], query_text, "evidence"))
            if len(reasons) == REASONS:
                break
        if len(reasons) < REASONS and practice.doc_id in best_profile_chunk:
            chunk = chunks[best_profile_chunk[practice.doc_id]]
            reasons.append(_reason(chunk, docs[practice.doc_id], query_text, "profile"))
        scored.append(Recommendation(
            practice=practice, score=relevance * weight, relevance=relevance, reasons=reasons,
            supporting_documents=len(set(linked.get(practice.id, []))),
            forums=forums_for(forums, practice.id, practice.themes),
        ))

    adopt = sorted((r for r in scored if r.practice.rating.key != "harmful"), key=lambda r: (-r.score, r.practice.id))
    # A harmful practice is shown (under "avoid") when, by relevance alone, it is among the
    # best answers to the question: the manager asking about prison visits for teenagers must
    # see the warning, the one asking about bus stops need not.
    by_relevance = sorted(scored, key=lambda r: -r.relevance)
    top_relevance = by_relevance[0].relevance if by_relevance else 0.0
    head = {id(r) for r in by_relevance[:AVOID_RANK]}
    avoid = [r for r in by_relevance if r.practice.rating.key == "harmful" and id(r) in head
             and r.relevance >= AVOID_SHARE * top_relevance]
    return Advice(question=question, recommendations=adopt[:limit], avoid=avoid, context=context,
                  took_ms=(time.perf_counter() - started) * 1000)


def _reason(chunk, doc, query: str, kind: str) -> Reason:  # type: ignore[no-untyped-def]
    snip = make_snippet(chunk.text, query, doc.language, width=40)
    return Reason(doc_id=doc.id, title=doc.title, source=doc.source, page=chunk.page, chunk_id=chunk.id,
                  snippet=snip.text, snippet_html=snip.html, kind=kind)
