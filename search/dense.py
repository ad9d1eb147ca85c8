"""Dense retrieval over the store's named vectors, one per encoder (search/store.py).

With two encoders (``use-m3+minilm``) each votes only where it reads both the question's and the
passage's language (search/embedder.py ``scores``): MiniLM scores English questions against
English passages, the multilingual encoder everything. So a question asks each encoder that
reads its language for its nearest passages (MiniLM only among English ones), in one call; then
the cosines an encoder has not given for a passage it must vote on are asked for exactly, among
those passages only; the joint score follows. No vector leaves the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from search.store import Ask, Found, PassageStore


@dataclass
class Question:
    """A question as the encoders see it: each reading encoder's unit vector (None for one that
    cannot read its language), its language, and the first encoder's share."""

    parts: dict[str, np.ndarray | None]
    language: str
    share: float | None = None


class DenseRetriever:
    def __init__(self, store: PassageStore, embedder: Any, center: bool = False) -> None:
        self.store = store
        self.embedder = embedder
        self.center = center

    def question(self, text: str, language: str, share: float | None = None) -> Question:
        """The question with every reading encoder's vector (``start``, then ``complete``)."""
        return self.complete(*self.start(text, language, share))

    def start(self, text: str, language: str, share: float | None = None
              ) -> tuple[Question, dict[str, Callable[[], np.ndarray]]]:
        """The question with the vectors of the encoders done so far, and the others still being
        computed (search/embedder.py ``start_question``): ``asks`` skips them until ``complete``."""
        ready, later = self.embedder.start_question(text, language)
        return Question({p: _reading(ready[p]) if p in ready else None for p in self.embedder.parts},
                        language, share), later

    @staticmethod
    def complete(question: Question, later: dict[str, Callable[[], np.ndarray]]) -> Question:
        return Question({**question.parts, **{p: _reading(vector()) for p, vector in later.items()}},
                        question.language, question.share)

    def search(self, question: Question, limit: int, filters: dict | None = None,
               center: bool | None = None) -> list[Found]:
        """The best ``limit`` passages by joint score, best first."""
        asks = self.asks(question, limit, filters)
        return self.collect(question, asks, self.store.search(asks), limit, filters, center)

    def asks(self, question: Question, limit: int, filters: dict | None = None,
             parts: Sequence[str] | None = None) -> list[Ask]:
        """The nearest passages each encoder that reads the question's language (of ``parts``,
        or all) is asked for: to send with others. (An encoder of some languages only is not
        told to keep to them: a filtered graph search costs it three times as much, and
        ``collect`` drops the others.)"""
        return [Ask(part, vector.tolist(), limit, filters or None)
                for part, vector in question.parts.items() if vector is not None and (parts is None or part in parts)]

    def collect(self, question: Question, asks: Sequence[Ask], answers: Sequence[list[Found]], limit: int,
                filters: dict | None = None, center: bool | None = None) -> list[Found]:
        """Joint scores from the answers to ``asks``, the missing cosines asked for exactly."""
        found: dict[str, Found] = {}
        cosines: dict[str, dict[str, float]] = {}
        for ask, answer in zip(asks, answers):
            reads = self._reading(ask.using, {f.language for f in answer})
            answer = [f for f in answer if f.language in reads]
            cosines[ask.using] = {f.chunk_id: f.score for f in answer}
            for f in answer:
                found.setdefault(f.chunk_id, f)
        return self._joint(question, list(found.values()), cosines, limit, filters, center)

    def rescore(self, question: Question, among: Sequence[Found], limit: int, filters: dict | None = None,
                center: bool | None = None) -> list[Found]:
        """These passages scored again for ``question`` (a moved one: feedback), best first."""
        return self._joint(question, list(among), {}, limit, filters, center)

    def _joint(self, question: Question, found: list[Found], cosines: dict[str, dict[str, float]],
               limit: int, filters: dict | None, center: bool | None) -> list[Found]:
        if not found:
            return []
        languages = [f.language for f in found]
        # The cosines each reading encoder owes: exactly, among the passages concerned only.
        asks = []
        for part, vector in question.parts.items():
            if vector is None or not self.embedder.reads(part, question.language):
                continue
            known = cosines.setdefault(part, {})
            reads = self._reading(part, set(languages))
            owed = [f.chunk_id for f in found if f.chunk_id not in known and f.language in reads]
            if owed:
                asks.append((part, Ask(part, vector.tolist(), len(owed), filters, within=owed)))
        for (part, _), answer in zip(asks, self.store.search([a for _, a in asks])):
            cosines[part].update((f.chunk_id, f.score) for f in answer)
        matrix = np.array([[cosines.get(p, {}).get(f.chunk_id, 0.0) for f in found] for p in self.embedder.parts],
                          dtype=np.float32)
        scores = self.embedder.weigh(matrix, question.language, languages, question.share)
        if self.center if center is None else center:
            bonus = self.embedder.language_bonus(question.language, question.share)
            # A passage in a language outside the table (Portuguese, Chinese...) gets nothing back:
            # nothing was measured for it, and such files answered none of the judged questions
            # (bench/quality.py, "library among unrelated files").
            scores = center_by_language(scores, languages) if bonus is None else \
                scores + np.array([bonus.get(lang, 0.0) for lang in languages], dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [Found(found[i].chunk_id, float(scores[i]), found[i].doc_id, found[i].language) for i in order]

    def _reading(self, part: str, languages: set[str]) -> set[str]:
        """Those of ``languages`` the encoder reads (asked once per language, not per passage)."""
        return {lang for lang in languages if self.embedder.reads(part, lang)}

    def feedback(self, question: Question, chunk_ids: Sequence[str], weight: float) -> Question:
        """Rocchio: the question moved towards the mean of these passages' vectors."""
        found, parts = self.store.vectors(chunk_ids)
        if not found:
            return question
        moved: dict[str, np.ndarray | None] = {}
        for part, vector in question.parts.items():
            if vector is None:
                moved[part] = None
                continue
            m = vector + weight * parts[part].mean(axis=0)
            moved[part] = m / (float(np.linalg.norm(m)) or 1.0)
        return Question(moved, question.language, question.share)


def _reading(vector: np.ndarray) -> np.ndarray | None:
    """An encoder's question vector, or None where it cannot read the question (all zeros)."""
    return vector.ravel() if float(np.abs(vector).sum()) > 0 else None


#: A language needs this many passages among the candidates for its mean to be trusted.
CENTER_MIN_GROUP = 5


def center_by_language(scores: np.ndarray, languages: list[str]) -> np.ndarray:
    """Dense scores with each passage language's mean moved to the mean of all candidates: for a
    model whose own-language bonus was not measured (search/embedder.py ``language_bonus``).

    A multilingual encoder still scores a question higher against any passage in its own
    language than against one in another: a Spanish question about cameras finds Spanish texts
    on other subjects before the English evaluation of cameras. Among a question's candidates,
    the gap between the languages' mean scores is that bias, not relevance (most candidates of
    every language are not relevant), so it is removed; the order within a language is kept.
    On the judged library: dense nDCG@10 0.902 -> 0.932 on the tuning half, 0.854 -> 0.890 on
    the validation half (bench/quality.py). But it lifts a language whose candidates are mostly
    unrelated files as much as one whose candidates are on the subject: with 230 unrelated files
    beside the library, hybrid 0.848 on the tuning half against 0.884 with the measured bonus
    (bench/RESULTS.md, "The own-language bonus"). Advice keeps raw scores (practices/recommender.py)."""
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
