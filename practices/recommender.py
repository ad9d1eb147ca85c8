"""Advisory recommendations: which practices fit a question, how strong their evidence is, and
which passages say so.

A practice scores by two kinds of relevance: its own profile (summary and EMMIE notes) and the
passages of the evidence linked to it (``linking.py``). Relevance is then weighted by the
strength of evidence. Practices rated harmful or no effect are never recommended: when they
match they are listed under "avoid", with the evidence against them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hub.errors import InvalidQuery
from practices.forums import Forum, forums_for
from practices.profile import PRACTICE_TYPE, Practice, document_path, source_path
from search.hybrid import query_language
from search.query import parse_query
from search.snippets import make_snippet, marked_words

PROFILE_SHARE = 0.7
#: How much the evidence rating moves a score: 1 - EVIDENCE_SHARE * (1 - weight).
EVIDENCE_SHARE = 0.4
REASONS = 3
#: Lift for a practice whose profile names the asked population, setting, level or theme.
CONTEXT_BONUS = 1.2
#: Share of relevance that comes from thesaurus concepts shared by question and profile.
CONCEPT_SHARE = 0.15
#: Steepness of the rank-to-score curve for profiles and evidence documents.
RANK_K = 2
#: How close to a matched harmful practice's relevance its named alternatives are lifted.
ALTERNATIVE_SHARE = 0.9
#: A harmful practice goes under "avoid" when it ranks this high on relevance alone ...
AVOID_RANK = 3
#: ... and is at least this relevant compared with the best match.
AVOID_SHARE = 0.75
#: Ratings never recommended: rigorous evaluations found that these do not work or do harm.
NOT_RECOMMENDED = {"harmful", "no-effect"}
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

    def to_json(self, language: str | None = None) -> dict[str, Any]:
        """The recommendation's record, its name and summary in ``language`` where the profile
        has them (else the profile's own; ``names`` and ``summaries`` hold every language)."""
        p = self.practice
        return {
            **p.headline_json(language), "score": round(self.score, 6),
            "kind": p.kind, "outcomes": [o.to_json() for o in p.outcomes],
            "relevance": round(self.relevance, 6),
            "summary": p.summary_in(language) if language else p.summary, "summaries": p.summaries,
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
    #: The question's language (en, fr or es): the language the advice is given in.
    language: str = "en"

    def to_json(self, language: str | None = None) -> dict[str, Any]:
        """``language``: the practices' names and summaries in this one rather than the question's
        (a page in the reader's language)."""
        lang = language or self.language
        return {"question": self.question, "language": lang, "context": self.context,
                "took_ms": round(self.took_ms, 1),
                "recommendations": [r.to_json(lang) for r in self.recommendations],
                "avoid": [r.to_json(lang) for r in self.avoid]}


def context_fit(practice: Practice, context: dict[str, str]) -> float:
    """0 when the practice is for other people or places; 1 when it is for everyone; more when
    its profile names the asked population, setting, level or theme explicitly."""
    fit = 1.0
    for key, value in context.items():
        values = getattr(practice, CONTEXT_KEYS[key])
        wanted = value.strip().lower()
        if any(wanted in v or v in wanted for v in values):
            fit *= CONTEXT_BONUS
        elif values and not set(values) & UNIVERSAL:
            return 0.0
    return fit


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
    # The multilingual encoder alone judges meaning here: the same question in English, French
    # or Spanish must rank practices the same way, and the English-only encoder would weigh
    # English questions differently (bench/advice.py, "same first practice").
    share = searcher.settings.advice_model_share
    language = query_language(parsed.text, catalog)
    best_profile, best_profile_chunk = _profile_scores(searcher, catalog, parsed, expansions, share, language)
    # The evidence passages are asked for as the profiles' are (``_profile_scores`` says why).
    evidence_types = sorted(set(catalog.doc_types()) - {PRACTICE_TYPE})
    evidence_scores = (searcher.passages(parsed, "hybrid", {"doc_type": evidence_types}, depth, expansions, share,
                                         center=False, long_questions=False)
                       if evidence_types else {})
    chunks = catalog.chunks_by_ids(list(best_profile_chunk.values()) + list(evidence_scores))
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
    query_text = marked_words(parsed.text, expansions.get("keyword", []))

    # Scores become ranks: fused scores are normalised per query, so many profiles sit close
    # together; the order is what the retrievers agree on (bench/advice.py).
    profile_rank = _ranks(best_profile)
    passage_rank = _ranks(evidence_scores)
    cited = _cited_pages(practices, docs, links)

    concept_scores = _concept_scores(thesaurus, practices, parsed.text) if thesaurus is not None else {}

    scored: list[Recommendation] = []
    for practice in practices:
        fit = context_fit(practice, context)
        if not fit:
            continue
        profile_rel = _rank_score(profile_rank.get(practice.doc_id))
        # The passages that speak for this practice: of its linked documents, only the pages
        # its profile cites (a review covers several practices, one per page).
        support = sorted(
            ((score, cid) for d in linked.get(practice.id, []) for score, cid in doc_passages.get(d, [])
             if _allowed(cited.get((practice.id, d)), chunks[cid].page)),
            key=lambda sc: (-sc[0], sc[1]))
        evidence_rel = _rank_score(passage_rank[support[0][1]]) if support else 0.0
        concept_rel = concept_scores.get(practice.id, 0.0)
        relevance = (1 - CONCEPT_SHARE) * (PROFILE_SHARE * profile_rel + (1 - PROFILE_SHARE) * evidence_rel) \
            + CONCEPT_SHARE * concept_rel
        relevance *= fit
        if relevance <= 0:
            continue
        weight = 1 - EVIDENCE_SHARE * (1 - practice.rating.weight)
        reasons: list[Reason] = []
        seen_docs: set[str] = set()
        for _, cid in support:
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

    # A question that matches a harmful practice is a question about its goal: the practices
    # its profile names as alternatives (related_practices) are lifted towards its relevance.
    by_id = {r.practice.id: r for r in scored}
    for harmful in [r for r in scored if r.practice.rating.key in NOT_RECOMMENDED]:
        for alt_id in harmful.practice.related:
            alt = by_id.get(alt_id)
            if alt is not None and alt.practice.rating.key not in NOT_RECOMMENDED:
                lifted = max(alt.relevance, ALTERNATIVE_SHARE * harmful.relevance)
                alt.score *= lifted / alt.relevance
                alt.relevance = lifted
    adopt = sorted((r for r in scored if r.practice.rating.key not in NOT_RECOMMENDED),
                   key=lambda r: (-r.score, r.practice.id))
    # A harmful practice is shown (under "avoid") when, by relevance alone, it is among the
    # best answers to the question: the manager asking about prison visits for teenagers must
    # see the warning, the one asking about bus stops need not.
    by_relevance = sorted(scored, key=lambda r: -r.relevance)
    top_relevance = by_relevance[0].relevance if by_relevance else 0.0
    head = {id(r) for r in by_relevance[:AVOID_RANK]}
    avoid = [r for r in by_relevance if r.practice.rating.key in NOT_RECOMMENDED and id(r) in head
             and r.relevance >= AVOID_SHARE * top_relevance]
    return Advice(question=question, recommendations=adopt[:limit], avoid=avoid, context=context,
                  took_ms=(time.perf_counter() - started) * 1000, language=language)


def fitting(searcher, catalog, practices: list[Practice], question: str, limit: int = 3,  # type: ignore[no-untyped-def]
            thesaurus=None, language: str | None = None) -> list[tuple[Practice, float]]:  # type: ignore[no-untyped-def]
    """The practices whose profiles best fit a question, best first, each with its profile's
    relevance (1 for the first, then falling as in ``recommend``): the profile half of
    ``recommend``, without the evidence passages (a sixth of its time), for the practices shown
    beside a search's documents. Practices rated harmful or no effect are left out, as
    ``recommend`` leaves them out of its recommendations; the advice shows them as ones to avoid."""
    parsed = parse_query(question or "")
    if parsed.empty or limit < 1 or not practices:
        return []
    expansions = thesaurus.expansions(thesaurus.find(parsed.text), parsed.text) if thesaurus is not None else {}
    best, _ = _profile_scores(searcher, catalog, parsed, expansions, searcher.settings.advice_model_share,
                              language or query_language(parsed.text, catalog))
    by_doc = {p.doc_id: p for p in practices if p.rating.key not in NOT_RECOMMENDED}
    ranked = sorted((doc_id for doc_id in best if doc_id in by_doc), key=lambda d: (-best[d], by_doc[d].id))
    return [(by_doc[d], _rank_score(rank)) for rank, d in enumerate(ranked[:limit], start=1)]


def _profile_scores(searcher, catalog, parsed, expansions: dict[str, list[str]],  # type: ignore[no-untyped-def]
                    share: float, language: str) -> tuple[dict[str, float], dict[str, str]]:
    """Each practice profile's fused score for the question (profile document id -> score), and
    the passage it comes from.

    A profile is matched on the passages it has in the question's language (its summary and
    typical situations exist in all three): its notes and body, written in one language only,
    would favour the profiles written in the question's language. A profile without such
    passages is matched on all of its own."""
    # Raw dense scores, without the own-language bonus search gives back: levelling helped search on
    # both judged halves but cost advice 4 points of top-3 on its validation half (bench/advice.py),
    # and the measured bonus changed no figure of its tuning half (bench/RESULTS.md, "The
    # own-language bonus").
    # Nor does a long question lean on the dense ranking as a search does: that changed no answer
    # of advice's tuning half (bench/RESULTS.md, "Long questions lean on the dense ranking").
    scores = searcher.passages(parsed, "hybrid", {"doc_type": [PRACTICE_TYPE]}, searcher.settings.candidates,
                               expansions, share, center=False, long_questions=False)
    chunks = catalog.chunks_by_ids(list(scores), text=False)
    own = _language_headings(language)
    best: dict[str, float] = {}
    best_chunk: dict[str, str] = {}
    speaks = {chunks[cid].doc_id for cid in scores if cid in chunks and chunks[cid].heading in own}
    for cid, score in scores.items():
        chunk = chunks.get(cid)
        if chunk is None or (chunk.doc_id in speaks and chunk.heading not in own):
            continue
        if score > best.get(chunk.doc_id, -1):
            best[chunk.doc_id], best_chunk[chunk.doc_id] = score, cid
    return best, best_chunk


def _language_headings(language: str) -> set[str]:
    from practices.profile import SITUATION_HEADINGS, SUMMARY_HEADINGS

    return {SUMMARY_HEADINGS.get(language, "Summary"), SITUATION_HEADINGS.get(language, "When it fits")}


def _concept_scores(thesaurus, practices: list[Practice], question: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Share of the question's thesaurus concepts that a practice's profile names (in any
    language), each concept weighted by how few practices name it. Language-independent: a
    Spanish question meets an English profile through the concepts they share."""
    import math

    asked = {c.id for c in thesaurus.find(question)}
    if not asked:
        return {}
    named: dict[str, set[str]] = {}
    for p in practices:
        text = " ".join([p.name, *p.names.values(), p.summary, *p.themes, *p.populations, *p.settings,
                         *p.related_tools])
        named[p.id] = {c.id for c in thesaurus.find(text)}
    n = len(practices)
    idf = {c: math.log(1 + n / (1 + sum(c in cs for cs in named.values()))) for c in asked}
    total = sum(idf.values()) or 1.0
    return {pid: sum(idf[c] for c in asked & cs) / total for pid, cs in named.items()}


def _cited_pages(practices: list[Practice], docs: dict, links: list[dict]) -> dict[tuple[str, str], set[int] | None]:
    """(practice, document) -> pages the profile cites; None means the whole document."""
    out: dict[tuple[str, str], set[int] | None] = {}
    by_path = {document_path(doc): doc_id for doc_id, doc in docs.items()}
    for practice in practices:
        for src in practice.sources:
            doc_id = by_path.get(source_path(practice, src))
            if doc_id is not None:
                key = (practice.id, doc_id)
                if not src.pages or (key in out and out[key] is None):
                    out[key] = None
                else:
                    out[key] = (out.get(key) or set()) | set(src.pages)
    return out


def _allowed(pages: set[int] | None, page: int | None) -> bool:
    return pages is None or page is None or page in pages


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    return {key: rank for rank, key in enumerate(sorted(scores, key=lambda k: (-scores[k], k)), start=1)}


def _rank_score(rank: int | None) -> float:
    """1 for the first, then a steep fall: (k + 1) / (k + rank)."""
    return 0.0 if rank is None else (RANK_K + 1) / (RANK_K + rank)


def _reason(chunk, doc, query: str, kind: str) -> Reason:  # type: ignore[no-untyped-def]
    snip = make_snippet(chunk.text, query, chunk.language_in(doc), width=40)
    return Reason(doc_id=doc.id, title=doc.title, source=doc.source, page=chunk.page, chunk_id=chunk.id,
                  snippet=snip.text, snippet_html=snip.html, kind=kind)
