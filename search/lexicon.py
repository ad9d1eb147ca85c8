"""The library's own words in each language, placed by the multilingual encoder: a question's
words carried into the other two languages for the keyword ranking.

Why: the keyword ranking matches a question's words, so a French question's words find French
passages only, and its evidence is often in English or Spanish. The thesaurus bridges the
concepts its curators wrote down (search/thesaurus.py); the lexicon bridges any word the library
holds. Each word of the question is embedded alone by the multilingual encoder, and the nearest
word of each other language's vocabulary, when its cosine is at least ``threshold``, joins the
keyword question at the weight of the question's own words ("éclairage" finds "lighting" and
"alumbrado", "abribus" finds "shelter"; search/hybrid.py ``CARRIED_WEIGHT``). On the judged
library (``python bench/quality.py``), keyword mode rose from 0.844 to 0.944 on the tuning half
and from 0.782 to 0.873 on the validation half; hybrid from 0.955 to 0.978 and from 0.896 to
0.934 (bench/RESULTS.md, "The lexicon").

The vocabulary is every word of the catalog's passages and titles, with the counts per passage
language that the catalog keeps at every write; the ``max_words`` most frequent of each language
are kept (a word met once is a word a stranger's question may use). The words, their vectors and
each one's nearest words in the other languages are kept in one file under the home; a count
embeds only the words new since the last one, and compares only those with the others.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, Callable

import numpy as np

from search.analysis import LANGUAGES, fold, stop_words, words
from search.follow import Follower

log = logging.getLogger(__name__)

#: Words of one question carried over, at most: a pasted paragraph must not cost more.
MAX_QUESTION_WORDS = 16
#: Seconds between two counts in the background while another process changes the catalog.
REFRESH_EVERY_S = 60.0


def words_of(text: str, language: str) -> list[str]:
    """The words of ``text`` that carry meaning in ``language``: lower case, three letters or
    more, not its stop words, in order, each once."""
    stops = stop_words(language)
    return list(dict.fromkeys(w for w in words(text) if w not in stops))


class Lexicon:
    def __init__(self, catalog: Any, embed: Callable[[list[str]], np.ndarray] | None, path: Path | None,
                 model: str = "", max_words: int = 20_000, threshold: float = 0.7) -> None:
        """``embed``: the multilingual encoder's batch function (None: the home's model has none,
        and nothing is carried over); ``model``: its name, kept with the vectors."""
        self.catalog = catalog
        self.embed = embed
        self.path = path
        self.model = model
        self.max_words = max_words
        self.threshold = threshold
        self.follower = Follower(catalog, self._make, "lexicon", REFRESH_EVERY_S)
        self._worker_lock = threading.Lock()
        self._worker: ThreadPoolExecutor | None = None  # started at the first question, again in a forked child
        self._worker_pid = 0
        self._version: list | None = None
        #: Each language's vocabulary and the projection on the lexicon's main directions:
        #: replaced together, so that a question read while the words are counted again sees
        #: one or the other.
        self._state: tuple[dict[str, Vocabulary], np.ndarray] = ({}, np.zeros((0, 0), np.float32))
        #: The last questions' translations: advice asks for the same question twice.
        self._recent: dict[tuple[str, str], list[str]] = {}

    @property
    def enabled(self) -> bool:
        return self.embed is not None and self.max_words > 0

    # --- the vocabulary ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the words again if the catalog changed since, embedding those not yet known."""
        if self.enabled:
            self.follower.refresh()

    def _make(self) -> None:
        run = self.catalog.last_run()
        version = [str(v) for v in (self.model, self.max_words, self.catalog.counts()["passages"],
                                    run["id"] if run else None)]
        if version == self._version:
            return
        known = self._load()
        projection = known.pop("projection", None)
        tables = known.pop("nearest", {})
        before: dict[str, list[str]] = {}  # the words the kept tables were made for
        counted = known.pop("version", None) == version and projection is not None
        if not counted:
            before = {lang: words for lang, (words, _) in known.items()}
            known = self._count_and_embed(known)
            projection = _main_directions([vectors for _, vectors in known.values()])
        vocabularies = {lang: Vocabulary(words, vectors, projection) for lang, (words, vectors) in known.items()}
        if not counted or (not tables and sum(bool(v.words) for v in vocabularies.values()) > 1):
            # new words, or a file from before the tables
            tables = _nearest_tables(vocabularies, before, tables)
            self._save(version, known, projection, tables)
        for (a, b), table in tables.items():
            vocabularies[a].nearest_in[b] = table
        self._state = (vocabularies, projection)
        self._version = version
        self._recent.clear()

    def _count_and_embed(self, known: dict[str, Any]) -> dict[str, tuple[list[str], np.ndarray]]:
        out = {}
        for lang in LANGUAGES:
            stops = stop_words(lang)
            kept = list(islice((w for _, w, _ in self.catalog.word_counts(lang) if w not in stops), self.max_words))
            old_words, old_vectors = known.get(lang, ([], np.zeros((0, 0), np.float32)))
            old = {w: i for i, w in enumerate(old_words)}
            new = [w for w in kept if w not in old]
            fresh = dict(zip(new, _unit(self.embed(new)))) if new else {}
            vectors = [old_vectors[old[w]].astype(np.float32) if w in old else fresh[w] for w in kept]
            out[lang] = (kept, np.stack(vectors).astype(np.float16) if kept else np.zeros((0, 0), np.float16))
        return out

    def _load(self) -> dict[str, Any]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                out: dict[str, Any] = {"version": data["version"].tolist(), "projection": data["projection"]}
                for lang in LANGUAGES:
                    if f"{lang}_words" in data:
                        out[lang] = (data[f"{lang}_words"].tolist(), data[f"{lang}_vectors"])
                out["nearest"] = {(a, b): (data[f"{a}_to_{b}_rows"], data[f"{a}_to_{b}_cosines"])
                                  for a in LANGUAGES for b in LANGUAGES if f"{a}_to_{b}_rows" in data}
                if data["model"].item() != self.model:  # another encoder's vectors: none reusable
                    return {"version": None}
                return out
        except Exception as exc:  # noqa: BLE001 - a damaged file (a bad zip, a missing array) is counted again
            log.warning("the lexicon in %s could not be read (%s): counting again", self.path, exc)
            return {}

    def _save(self, version: list, words: dict[str, tuple[list[str], np.ndarray]], projection: np.ndarray,
              tables: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]) -> None:
        if self.path is None:
            return
        arrays: dict[str, np.ndarray] = {"version": np.array(version), "model": np.array(self.model),
                                         "projection": projection}
        for lang, (w, vectors) in words.items():
            arrays[f"{lang}_words"] = np.array(w, dtype=str)
            arrays[f"{lang}_vectors"] = vectors  # half precision: half the file; cosines move < 0.001
        for (a, b), (rows, cosines) in tables.items():
            arrays[f"{a}_to_{b}_rows"], arrays[f"{a}_to_{b}_cosines"] = rows, cosines
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp.npz")  # two writers never share one
        try:
            np.savez(tmp, **arrays)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only home counts again next time

    def warm(self) -> None:
        """Read the words back, or count and embed them, in the background (a server calls this
        at start-up): the first questions go without translations rather than wait."""
        if self.enabled:
            self.follower.start()

    def close(self) -> None:
        """Let the worker thread go (a translation under way finishes first)."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None

    # --- questions ------------------------------------------------------------------------------
    def known_translations(self, text: str, language: str) -> list[str] | None:
        """``translations`` at once, when every word of ``text`` is in the library's vocabulary
        of its language: each one's nearest words are then looked up, not searched for. None
        when some word has to be embedded first (``translate_later``)."""
        if not self.enabled or language not in LANGUAGES or self._version is None:
            return None
        own = self._state[0].get(language)
        if own is None or not own.nearest_in or \
                any(w not in own.rows for w in words_of(text, language)[:MAX_QUESTION_WORDS]):
            return None
        return self.translations(text, language)

    def translate_later(self, text: str, language: str) -> Callable[[], list[str]] | None:
        """``translations`` on the lexicon's own thread; returns the function that waits for
        them (None: nothing to carry). For a question with words the library lacks, which are
        embedded and searched for (1 to 4 ms at 100,000 passages): a search asks the engine for
        its dense neighbours meanwhile."""
        if not self.enabled or language not in LANGUAGES:
            return None
        with self._worker_lock:  # not the count's lock: a question never waits for a count
            if self._worker is None or self._worker_pid != os.getpid():
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lexicon")
                self._worker_pid = os.getpid()
        return self._worker.submit(self.translations, text, language).result

    def translations(self, text: str, language: str) -> list[str]:
        """For each word of ``text`` (written in ``language``), its nearest word in each other
        language's vocabulary, where the two are close enough; best first per word."""
        if not self.enabled or language not in LANGUAGES:
            return []
        self.follower.keep_current()  # a question never waits, but a command's first (search/follow.py)
        if self._version is None:
            return []  # nothing counted yet: the first count is under way, or failed
        key = (text, language)
        if key not in self._recent:
            if len(self._recent) >= 256:
                self._recent.pop(next(iter(self._recent)))
            self._recent[key] = self._translate(words_of(text, language)[:MAX_QUESTION_WORDS], language)
        return list(self._recent[key])

    def _translate(self, words: list[str], language: str) -> list[str]:
        vocabularies, projection = self._state
        own = vocabularies.get(language)
        others = {lang: v for lang, v in vocabularies.items() if lang != language and v.words}
        if not words or not others:
            return []  # no other language to carry them into: nothing is embedded
        # The library's own words have their nearest words looked up (``_nearest_tables``); the
        # others are embedded and searched for, the same way.
        looked_up = own is not None and all(lang in own.nearest_in for lang in others)
        missing = [w for w in words if not (looked_up and w in own.rows)]  # type: ignore[union-attr]
        found: dict[tuple[str, str], tuple[int, float]] = {}
        if missing:
            question = _unit(self.embed(missing))
            reduced = question @ projection
            for other, vocabulary in others.items():
                rows, cosines = np.full(len(missing), -1, np.int32), np.full(len(missing), -np.inf, np.float32)
                _nearest_into(question, reduced, vocabulary, np.arange(len(missing)),
                              np.arange(len(vocabulary.words)), rows, cosines)
                found.update(((other, w), (int(i), float(c))) for w, i, c in zip(missing, rows, cosines))
        out: list[str] = []
        for other, vocabulary in others.items():
            for w in words:
                if (other, w) in found:
                    i, cosine = found[(other, w)]
                else:
                    table_rows, table_cosines = own.nearest_in[other]  # type: ignore[union-attr]
                    i, cosine = int(table_rows[own.rows[w]]), float(table_cosines[own.rows[w]])  # type: ignore[union-attr]
                # The nearest word, unless it is the question's own as written (a French word
                # quoted in an English text), which the keyword question already asks for. Taking
                # the next one instead raised the tuning half (0.978 to 0.981) and lowered the
                # validation half (0.934 to 0.930): not done.
                if i >= 0 and cosine >= self.threshold and fold(vocabulary.words[i]) != fold(w):
                    out.append(vocabulary.words[i])
        return list(dict.fromkeys(out))


#: The words whose projected cosine is highest are scored exactly: against the exact nearest word
#: over the 18,600 words of bench/scale.py's home, the best of 8 shortlisted by 128 directions
#: missed it 0.7% of the time (64 directions: 5.2%; 192: 0.1%), for a quarter of the work.
SHORTLIST = 8
DIRECTIONS = 128


class Vocabulary:
    """One language's words: their unit vectors in half precision, and the same projected on the
    lexicon's main directions, in which a question's word finds its shortlist."""

    def __init__(self, words: list[str], vectors: np.ndarray, projection: np.ndarray) -> None:
        self.words = words
        self.rows = {w: i for i, w in enumerate(words)}
        self.vectors = vectors.astype(np.float16, copy=False)
        #: Each other language: the row of each of these words' nearest word there, and its cosine.
        self.nearest_in: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # In blocks, so that a server's start-up never holds the vectors in full precision.
        self.reduced = (np.vstack([self.vectors[i:i + 4096].astype(np.float32) @ projection
                                   for i in range(0, len(words), 4096)]) if len(words) else np.zeros((0, 0), np.float32))


def _nearest_tables(vocabularies: dict[str, Vocabulary], before: dict[str, list[str]],
                    old: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]
                    ) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """For every word of each language, its nearest word in each other language and their cosine,
    found as a question's word finds them (``Vocabulary.nearest``). A count that adds words
    reuses the last tables (``before``: the words they were made for): a kept word is compared
    with the other language's new words only, unless its nearest word is gone."""
    tables = {}
    for a, va in vocabularies.items():
        for b, vb in vocabularies.items():
            if a == b or not va.words or not vb.words:
                continue
            rows = np.full(len(va.words), -1, np.int32)
            cosines = np.full(len(va.words), -np.inf, np.float32)
            kept = np.zeros(len(va.words), bool)
            added = np.arange(len(vb.words))
            if (a, b) in old and a in before and b in before:
                old_rows, old_cosines = old[(a, b)]
                was = {w: i for i, w in enumerate(before[a])}
                for i, word in enumerate(va.words):
                    j = was.get(word)
                    if j is not None and old_rows[j] >= 0 and (k := vb.rows.get(before[b][old_rows[j]])) is not None:
                        rows[i], cosines[i], kept[i] = k, old_cosines[j], True
                known = set(before[b])
                added = np.array([k for k, w in enumerate(vb.words) if w not in known], dtype=np.int64)
            for which, among in ((np.flatnonzero(kept), added), (np.flatnonzero(~kept), np.arange(len(vb.words)))):
                _nearest_into(va.vectors, va.reduced, vb, which, among, rows, cosines)
            tables[(a, b)] = (rows, cosines.astype(np.float16))
    return tables


def _nearest_into(vectors: np.ndarray, reduced: np.ndarray, vb: Vocabulary, which: np.ndarray, among: np.ndarray,
                  rows: np.ndarray, cosines: np.ndarray, block: int = 512) -> None:
    """For the words ``which`` (rows of ``vectors``, unit, and of ``reduced``, their projection on
    the main directions): ``vb``'s nearest word among its words ``among``, where nearer than the
    one in ``rows`` and ``cosines``. The ``SHORTLIST`` words nearest on the main directions are
    scored exactly. A vocabulary's tables and a question's words it lacks are found this way."""
    if not len(which) or not len(among):
        return
    candidates, candidate_vectors = vb.reduced[among], vb.vectors[among]
    m = min(SHORTLIST, len(among))
    for start in range(0, len(which), block):
        part = which[start:start + block]
        scores = candidates @ reduced[part].T
        shortlist = np.argpartition(-scores, m - 1, axis=0)[:m] if m < len(among) else \
            np.repeat(np.arange(len(among))[:, None], len(part), axis=1)
        exact = np.einsum("kpd,pd->kp", candidate_vectors[shortlist].astype(np.float32),
                          vectors[part].astype(np.float32))
        best = exact.argmax(axis=0)
        columns = np.arange(len(part))
        pick, cosine = among[shortlist[best, columns]], exact[best, columns]
        better = cosine > cosines[part]
        rows[part[better]], cosines[part[better]] = pick[better], cosine[better]


def _main_directions(matrices: list[np.ndarray]) -> np.ndarray:
    """The ``DIRECTIONS`` main directions of all the lexicon's vectors, as columns."""
    stacked = [m for m in matrices if m.size]
    if not stacked:
        return np.zeros((0, 0), np.float32)
    _, _, vt = np.linalg.svd(np.vstack(stacked).astype(np.float32), full_matrices=False)
    return np.ascontiguousarray(vt[:DIRECTIONS].T, dtype=np.float32)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
