"""BM25 over the same analysed terms as the Whoosh index, as a sparse matrix: the fast keyword path.

Whoosh scores an OR query posting by posting in Python, through a matcher tree with one branch per
field and language: 100 ms to over a second per query at 10,000 passages, and it grows with the
collection. Here each passage is a row of (term, frequency) pairs, analysed with the very same
analysers (search/analysis.py, terms keyed by language); BM25 weights are computed for all rows in
NumPy whenever the collection changed, and a query sums a few columns of a SciPy CSC matrix.
Filters are masks over rows (search/rows.py). Whoosh stays the index for phrases, ``title:`` and
the rest of the query syntax; bag-of-words queries, nearly all of them, take this path.

As in Whoosh's BM25F, title, heading and body are separate fields (a term in the title is scored
against title lengths), with Whoosh's idf and parameters, so the rankings agree closely.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from search.analysis import LANGUAGES, OTHER, field_language, query_terms, terms
from search.rows import PASSAGE_COLUMNS, Rows, RowStore, passage_payload, passage_values

K1 = 1.2
B = 0.75
_ALL = (*LANGUAGES, OTHER)
SCHEMA = """
CREATE TABLE IF NOT EXISTS vocab (term TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS passages (
    """ + PASSAGE_COLUMNS + """,
    term_ids BLOB NOT NULL,
    tfs BLOB NOT NULL,
    lengths BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id);
"""


FIELDS = ("title", "heading", "body")


def passage_terms(title: str, heading: str | None, body: str, language: str,
                  tokens: Sequence[list[str]] | None = None) -> tuple[Counter, list[int]]:
    """Terms per field, and adjacent-term pairs (they stand in for Whoosh's phrase matching of
    multi-word thesaurus expansions, "hot spots policing"); with each field's length in terms.
    ``tokens``: the fields already analysed (as the Whoosh batch does)."""
    lang = field_language(language)
    counts: Counter = Counter()
    lengths = []
    if tokens is None:
        tokens = [terms(part, lang) for part in (title, heading or "", body)]
    for field, tokens in zip(FIELDS, tokens):
        lengths.append(len(tokens))
        counts.update(f"{lang}:{field}:{t}" for t in tokens)
        counts.update(f"{lang}:{field}:{a} {b}" for a, b in zip(tokens, tokens[1:]))
    return counts, lengths


def whoosh_lengths(lengths: np.ndarray) -> np.ndarray:
    """Field lengths as Whoosh stores them (one byte each, exact to 108, then coarser): the same
    rounding makes the two engines' scores agree to the last digit."""
    from whoosh.util.numeric import byte_to_length, length_to_byte

    top = int(lengths.max()) if lengths.size else 0
    table = np.array([byte_to_length(length_to_byte(i)) for i in range(top + 1)], dtype=np.float32)
    return table[lengths.astype(np.int64)]


def _slot(term: str) -> int:
    """Which Whoosh field a term belongs to: language and part, e.g. "fr:title:..." -> one of 12."""
    lang, field = term.split(":", 2)[:2]
    return _ALL.index(lang) * len(FIELDS) + FIELDS.index(field)


class TermStore(RowStore):
    TABLE = "passages"

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)
        self._matrix = None

    # --- memory ------------------------------------------------------------------------------------
    def _from_table(self) -> None:
        self._vocab = {t: i for t, i in self._db.execute("SELECT term, id FROM vocab")}
        self._slots = [0] * len(self._vocab)
        for term, i in self._vocab.items():
            self._slots[i] = _slot(term)
        rows = self._db.execute("SELECT chunk_id, doc_id, doc_type, language, tags, year, term_ids, tfs, lengths"
                                " FROM passages ORDER BY rowid").fetchall()
        self._rows = Rows(max(1024, int(len(rows) * 1.25)))
        # Flat arrays for all rows (one NumPy buffer each, sliced by offsets), not one small
        # array per row: loading and weighting 100,000 passages stays about a second.
        self._flat_ids = np.zeros(0, dtype=np.int32)
        self._flat_tfs = np.zeros(0, dtype=np.float32)
        self._sizes = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros((0, len(FIELDS)), dtype=np.int32)
        self._matrix = None
        if rows:
            self._append([r[0] for r in rows],
                         [passage_payload(r) for r in rows],
                         np.frombuffer(b"".join(r[6] for r in rows), dtype=np.int32),
                         np.frombuffer(b"".join(r[7] for r in rows), dtype=np.uint16).astype(np.float32),
                         np.fromiter((len(r[6]) // 4 for r in rows), dtype=np.int64, count=len(rows)),
                         np.frombuffer(b"".join(r[8] for r in rows), dtype=np.int32).reshape(-1, len(FIELDS)))

    def _to_snapshot(self) -> tuple[dict[str, np.ndarray], dict]:
        from search.snapshot import pack

        if self._matrix is None:
            self._build()  # weighted now, at the end of a write, rather than at the next search
        arrays, meta = self._rows.to_arrays()
        terms = [""] * len(self._vocab)
        for term, i in self._vocab.items():
            terms[i] = term
        matrix = self._matrix
        arrays.update(vocab=pack(terms), slots=np.asarray(self._slots, dtype=np.int8), flat_ids=self._flat_ids,
                      flat_tfs=self._flat_tfs, sizes=self._sizes, lengths=self._lengths,
                      data=matrix.data, indices=matrix.indices, indptr=matrix.indptr)  # type: ignore[union-attr]
        meta.update(vocab=len(terms), shape=list(matrix.shape))  # type: ignore[union-attr]
        return arrays, meta

    def _from_snapshot(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        from scipy.sparse import csc_matrix

        from search.snapshot import unpack

        self._rows = Rows.from_arrays(arrays, meta)
        terms = unpack(arrays["vocab"], meta["vocab"])
        self._vocab = dict(zip(terms, range(len(terms))))
        self._slots = arrays["slots"].tolist()
        self._flat_ids = arrays["flat_ids"]
        self._flat_tfs = arrays["flat_tfs"]
        self._sizes = arrays["sizes"]
        self._lengths = arrays["lengths"]
        self._matrix = csc_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(meta["shape"]))

    def _append(self, chunk_ids: Sequence[str], payloads: Sequence[dict], ids: np.ndarray, tfs: np.ndarray,
                sizes: np.ndarray, lengths: np.ndarray) -> None:
        self._rows.append(chunk_ids, payloads)
        self._flat_ids = np.concatenate([self._flat_ids, ids])
        self._flat_tfs = np.concatenate([self._flat_tfs, tfs])
        self._sizes = np.concatenate([self._sizes, sizes])
        self._lengths = np.concatenate([self._lengths, lengths])
        self._matrix = None

    def _build(self) -> None:
        """BM25 weights for every live row: idf and length normalisation change with the collection."""
        from scipy.sparse import csc_matrix

        rows = self._rows
        n = rows.n
        alive = np.flatnonzero(rows.alive[:n])
        vocab = max(len(self._vocab), 1)
        if not len(alive):
            self._matrix = csc_matrix((n, vocab), dtype=np.float32)
            return
        row_of_entry = np.repeat(np.arange(n), self._sizes[:n])
        keep = rows.alive[:n][row_of_entry]
        cols = self._flat_ids[keep]
        tf = self._flat_tfs[keep]
        entry_row = row_of_entry[keep]
        lengths = self._lengths[:n].astype(np.float32)
        position = entry_row
        slot = np.zeros(vocab, dtype=np.int64)  # (language, field) of each term, as Whoosh's field
        slot[: len(self._slots)] = self._slots
        entry_slot = slot[cols]
        df = np.bincount(cols, minlength=vocab).astype(np.float32)
        count = float(len(alive))
        idf = np.log(count / (df + 1.0)) + 1.0  # Whoosh's idf
        # One average length per part (title, heading, body) over all passages: per language and
        # part, as Whoosh keeps them, scored lower on the judged library (0.910 against 0.927).
        average = np.maximum(lengths[alive].mean(axis=0), 1e-3)
        part = entry_slot % len(FIELDS)
        dl = whoosh_lengths(lengths)[position, part]
        norm = K1 * (1 - B + B * dl / average[part])
        weights = idf[cols] * tf * (K1 + 1) / (tf + norm)
        self._matrix = csc_matrix((weights.astype(np.float32), (entry_row, cols)), shape=(n, vocab))

    # --- writes --------------------------------------------------------------------------------------
    def add(self, passages: Sequence[dict]) -> None:
        """``passages``: dicts with chunk_id, doc_id, doc_type, language, tags, year, title, heading, body."""
        if not passages:
            return
        with self._lock:
            self._load()
            new_terms: list[tuple[str, int]] = []
            ids: list[np.ndarray] = []
            tfs: list[np.ndarray] = []
            lens: list[np.ndarray] = []
            records = []
            for p in passages:
                counts, lengths = passage_terms(p["title"], p.get("heading"), p["body"], p["language"],
                                                p.get("tokens"))
                for term in counts:
                    if term not in self._vocab:
                        self._vocab[term] = len(self._vocab)
                        self._slots.append(_slot(term))
                        new_terms.append((term, self._vocab[term]))
                term_ids = np.array([self._vocab[t] for t in counts], dtype=np.int32)
                freq = np.array([min(c, 65535) for c in counts.values()], dtype=np.uint16)
                field_lengths = np.array(lengths, dtype=np.int32)
                ids.append(term_ids)
                tfs.append(freq.astype(np.float32))
                lens.append(field_lengths)
                records.append((*passage_values(p["chunk_id"], p), term_ids.tobytes(), freq.tobytes(),
                                field_lengths.tobytes()))
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vocab (term, id) VALUES (?, ?)", new_terms)
            self._db.executemany("INSERT OR REPLACE INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", records)
            self._bump()
            self._db.execute("COMMIT")
            self._rows.kill_chunks([p["chunk_id"] for p in passages])
            self._append([p["chunk_id"] for p in passages], passages, np.concatenate(ids), np.concatenate(tfs),
                         np.array([len(i) for i in ids], dtype=np.int64), np.stack(lens))

    def _changed(self) -> None:
        self._matrix = None  # weights depend on every row: recomputed at the next search
        super()._changed()

    # --- reads ---------------------------------------------------------------------------------------
    def search(self, words: Sequence[tuple[str, float, bool]], limit: int, filters: dict | None = None
               ) -> list[tuple[str, float]]:
        """(text, weight, phrase) triples. A text is analysed for every language, like Whoosh's
        multi-field parser, and a term asked for twice counts once, as in Whoosh's OR query. A
        phrase scores like Whoosh's: the sum of its words' scores, in passages where its words
        stand side by side (all its adjacent pairs occur in that field)."""
        self._load()
        with self._lock:
            weights: dict[int, float] = {}
            phrases: list[tuple[float, list[int], list[int]]] = []
            for text, weight, phrase in words:
                for lang in _ALL:
                    tokens = query_terms(text, lang)
                    for field in FIELDS:
                        keys = [f"{lang}:{field}:{t}" for t in tokens]
                        if phrase and len(tokens) > 1:
                            pairs = [self._vocab.get(f"{lang}:{field}:{a} {b}") for a, b in zip(tokens, tokens[1:])]
                            singles = [self._vocab.get(k) for k in keys]
                            if None not in pairs and None not in singles:
                                phrases.append((weight, singles, pairs))  # type: ignore[arg-type]
                            continue
                        for key in keys:
                            col = self._vocab.get(key)
                            if col is not None:
                                weights[col] = max(weights.get(col, 0.0), weight)
            if (not weights and not phrases) or not self._rows.n:
                return []
            if self._matrix is None:
                self._build()
            n = self._rows.n
            scores = np.zeros(n, dtype=np.float32)
            if weights:
                rows, values = self._columns(list(weights), list(weights.values()))
                scores += np.bincount(rows, weights=values, minlength=n).astype(np.float32)
            matched = scores > 0  # every entry's BM25 weight is positive
            for weight, singles, pairs in phrases:
                pair_rows, _ = self._columns(pairs, [1.0] * len(pairs))
                together = np.bincount(pair_rows, minlength=n) == len(pairs)
                if together.any():
                    rows, values = self._columns(singles, [weight] * len(singles))
                    words_score = np.bincount(rows, weights=values, minlength=n).astype(np.float32)
                    scores[together] += words_score[together]
                    matched |= together
            candidates = np.flatnonzero(matched & self._rows.mask(filters))
            return _best(self._rows.ids, candidates, scores[candidates], limit)

    def _columns(self, cols: list[int], weights: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """The rows of these columns' entries, and their BM25 weights times the given ones:
        read straight from the CSC arrays (SciPy's column slicing copies whole matrices)."""
        matrix = self._matrix
        indptr, indices, data = matrix.indptr, matrix.indices, matrix.data  # type: ignore[union-attr]
        spans = [(indptr[c], indptr[c + 1], w) for c, w in zip(cols, weights)]
        rows = np.concatenate([indices[a:b] for a, b, _ in spans]) if spans else np.zeros(0, np.int32)
        values = np.concatenate([data[a:b] * w for a, b, w in spans]) if spans else np.zeros(0, np.float32)
        return rows, values

    def warm(self) -> None:
        self._load()
        with self._lock:
            if self._matrix is None:
                self._build()


def _best(ids: list[str], rows: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[str, float]]:
    """The ``limit`` best of these rows, best first; ties go to the earlier row."""
    if not len(rows) or limit <= 0:
        return []
    if len(rows) > limit:
        keep = np.argpartition(-scores, limit - 1)[:limit]
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))
    return [(ids[r], s) for r, s in zip(rows[order].tolist(), scores[order].tolist())]


def query_words(words: Sequence[str], expansions: Sequence[str], expansion_boost: float = 0.5
                ) -> list[tuple[str, float, bool]]:
    """Query words weigh 1 each; a thesaurus expansion weighs ``expansion_boost``, and a multi-word
    one is a phrase, as in the Whoosh query (search/keyword.py build_query)."""
    return ([(w, 1.0, False) for w in words if w.strip()]
            + [(e, expansion_boost, " " in e.strip()) for e in expansions if e.strip()])
