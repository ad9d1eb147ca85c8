"""An in-memory copy of the passage vectors for embedded mode: exact search in one matrix product.

qdrant-client's local mode searches in Python, point by point: about 55 ms at 50,000 passages,
ten times that with a payload filter, and 7 s or more to open the store. This copy answers the same
queries with one NumPy matrix-vector product over a float32 matrix (exact cosine, like Qdrant),
with filters applied as boolean masks before ranking, so a filtered query is no slower than an
unfiltered one. Qdrant stays the store of record and the one a server deployment queries; this copy
is written alongside it (``home/vectors.sqlite``) and loads in well under a second at 100,000
passages, so a hub starts without opening the local Qdrant store at all.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from search.rows import PASSAGE_COLUMNS, Rows, RowStore, passage_payload, passage_values

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    """ + PASSAGE_COLUMNS + """,
    vec BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_doc ON vectors(doc_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


log = logging.getLogger(__name__)


def _quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows as int8 with one scale each (symmetric: the largest component maps to 127)."""
    scale = np.abs(vectors).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return np.clip(np.rint(vectors / scale[:, None]), -127, 127).astype(np.int8), scale.astype(np.float32)


class VectorStore(RowStore):
    TABLE = "vectors"
    #: From this many rows on, a long-lived process packs an int8 matrix to choose the shortlist.
    #: Below it, or until it is packed, the float32 matrix itself is scanned (exact; 2 ms at
    #: 10,000 rows).
    INT8_FROM_ROWS = 10_000

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)
        self._packed: tuple[int, Any] | None = None
        self._layout = object()  # replaced whenever rows may move: a packing then comes too late
        self._packing: threading.Thread | None = None
        self._pack_wanted = False
        self.dim: int | None = None
        row = self._db.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()
        if row:
            self.dim = int(row[0])

    # --- state in memory -----------------------------------------------------------------------
    def _reset(self, dim: int, capacity: int = 1024) -> None:
        self._matrix = np.zeros((capacity, dim), dtype=np.float32)
        self._int8 = np.zeros((capacity, dim), dtype=np.int8)
        self._scale = np.zeros(capacity, dtype=np.float32)
        self._rows = Rows(capacity)
        self._packed, self._layout = None, object()

    def _from_table(self) -> None:
        rows = self._db.execute(
            "SELECT chunk_id, doc_id, doc_type, language, tags, year, vec FROM vectors ORDER BY rowid").fetchall()
        dim = self.dim or 0
        self._reset(dim, max(1024, int(len(rows) * 1.25)))
        if rows and dim:
            matrix = np.frombuffer(b"".join(r[6] for r in rows), dtype=np.float32).reshape(len(rows), dim)
            self._append([r[0] for r in rows], matrix, [passage_payload(r) for r in rows])

    def _from_snapshot(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        matrix = arrays["matrix"]
        if matrix.shape[1] != (self.dim or 0):  # taken before the first vectors set the size
            self._dirty = True
            self._from_table()
            return
        self._rows = Rows.from_arrays(arrays, meta)
        self._matrix = matrix  # exactly n rows: the first append grows it to the rows' capacity
        self._packed, self._layout = None, object()
        if "int8" in arrays and "scale" in arrays:
            self._int8, self._scale = arrays["int8"], arrays["scale"]
        else:  # a snapshot from before the int8 copy: quantise now, snapshot again
            self._int8, self._scale = _quantise(np.asarray(matrix))
            self._dirty = True

    def _to_snapshot(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, meta = self._rows.to_arrays()
        arrays["matrix"] = self._matrix[: self._rows.n]
        arrays["int8"] = self._int8[: self._rows.n]
        arrays["scale"] = self._scale[: self._rows.n]
        return arrays, meta

    def _append(self, chunk_ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict]) -> None:
        start, end = self._rows.append(chunk_ids, payloads)
        if end > len(self._matrix):
            for name in ("_matrix", "_int8", "_scale"):
                old = getattr(self, name)
                grown = np.zeros((self._rows.capacity, *old.shape[1:]), dtype=old.dtype)
                grown[: len(old)] = old
                setattr(self, name, grown)
        self._matrix[start:end] = vectors
        self._int8[start:end], self._scale[start:end] = _quantise(vectors)

    def _changed(self) -> None:
        super()._changed()
        self._load()

    # --- writes (the same calls as the Qdrant index) ----------------------------------------------
    def upsert(self, chunk_ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict]) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            if self.dim is None:
                self.dim = int(vectors.shape[1])
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('dim', ?)", (str(self.dim),))
                self._loaded = False  # an empty copy was loaded before the size was known
            self._load()
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (chunk_id, doc_id, doc_type, language, tags, year, vec)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*passage_values(cid, p), vectors[i].tobytes()) for i, (cid, p) in enumerate(zip(chunk_ids, payloads))])
            self._bump()
            self._db.execute("COMMIT")
            self._rows.kill_chunks(chunk_ids)
            self._append(chunk_ids, vectors, payloads)
            self._changed()

    def replace_all(self, chunk_ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict]) -> None:
        """Start over from another copy (Qdrant), e.g. for a home made before this store existed."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM vectors")
            self._bump()
            self._db.execute("COMMIT")
            self._loaded = False
            if len(chunk_ids):
                self.upsert(chunk_ids, vectors, payloads)

    def clear(self) -> None:
        """Forget every vector and the vectors' size (``hub reindex`` to a model of another size)."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM vectors")
            self._db.execute("DELETE FROM meta WHERE key = 'dim'")
            self._bump()
            self._db.execute("COMMIT")
            self.dim = None
            self._loaded = False

    # --- reads ---------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, limit: int, filters: dict | None = None) -> list[tuple[str, float]]:
        self._load()
        with self._lock:
            n = self._rows.n
            if not n or self.dim is None:
                return []
            import torch

            query = np.array(vector, dtype=np.float32)  # a copy: cached query vectors are read-only
            mask = self._rows.mask(filters)
            # A cheap scan of every row picks a shortlist, which exact float32 cosines then rank.
            # All products run in PyTorch, whose threads also run the query encoder: NumPy's BLAS
            # threads would wait on them and double the time.
            scores = self._approximate(torch, query, n)
            if not mask.all():
                scores[torch.from_numpy(~mask)] = float("-inf")
            values, rows = torch.topk(scores, min(n, limit + max(256, limit // 2)))
            rows = rows[torch.isfinite(values)]
            exact = torch.mv(torch.from_numpy(self._matrix)[rows], torch.from_numpy(query)).numpy()
            rows = rows.numpy()
            order = np.lexsort((rows, -exact))[:limit]  # ties go to the earlier row
            ids = self._rows.ids
            return [(ids[r], s) for r, s in zip(rows[order].tolist(), exact[order].tolist())]

    def _approximate(self, torch, query: np.ndarray, n: int):  # type: ignore[no-untyped-def]
        """Scores of all n rows within a few hundredths of the cosines, the cheapest way there is.

        The int8 matrix, packed for FBGEMM's int8 kernels, reads a quarter of the float32 bytes
        (3 ms at 100,000 rows instead of 11). Its error is larger than float32's (up to 0.04),
        hence a wider shortlist (limit + 256, or + half for long lists): at 100,000 passages of
        the scale benchmark the exact top 100 was always in it, and 99.9% of the exact top 1,000.
        Rows not packed (a small store, rows added since packing, a one-off command) are scored
        exactly from the float32 matrix."""
        packed = self._packed
        if self._pack_wanted and (packed is None or n - packed[0] > max(2000, n // 50)) and n >= self.INT8_FROM_ROWS:
            self._pack_later()
        exact_from = 0
        head = None
        if packed is not None and packed[0] <= n:
            exact_from = packed[0]
            head = torch.ops.quantized.linear_dynamic(torch.from_numpy(query).reshape(1, -1), packed[1])[0]
            if exact_from == n:
                return head
        tail = torch.mv(torch.from_numpy(self._matrix[exact_from:n]), torch.from_numpy(query))
        return tail if head is None else torch.cat([head, tail])

    def warm(self) -> None:
        """Load, and have the first search start packing the int8 rows (long-lived processes: a
        server, a benchmark; not earlier, so that packing does not slow the start-up). A one-off
        command does not pack: it would not search often enough to repay the 0.8 s."""
        self._load()
        self._pack_wanted = True

    def _pack_later(self) -> None:
        """Pack the int8 rows for FBGEMM (0.8 s at 100,000 rows) in a thread; searches scan the
        float32 matrix meanwhile."""
        if self._packing is not None and self._packing.is_alive():
            return
        # Not a daemon: PyTorch aborts the process if the interpreter exits while it packs.
        self._packing = threading.Thread(target=self._pack, args=(self._layout, self._int8, self._scale, self._rows.n),
                                         name="vectors-int8")
        self._packing.start()

    def _pack(self, layout: object, int8: np.ndarray, scale: np.ndarray, n: int) -> None:
        try:
            import torch

            with warnings.catch_warnings():  # PyTorch marks its quantised tensors as deprecated
                warnings.simplefilter("ignore")
                weights = torch._make_per_channel_quantized_tensor(
                    torch.from_numpy(np.array(int8[:n])), torch.from_numpy(scale[:n].astype(np.float64)),
                    torch.zeros(n, dtype=torch.long), 0)
                packed = torch.ops.quantized.linear_prepack(weights, None)
        except Exception as exc:  # noqa: BLE001 - a PyTorch without FBGEMM: float32 it is
            log.info("int8 vector scan unavailable (%s); scanning the float32 matrix", exc)
            self.INT8_FROM_ROWS = 1 << 62
            return
        with self._lock:
            if layout is self._layout:
                self._packed = (n, packed)

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        self._load()
        with self._lock:
            rows = [self._rows.row[c] for c in chunk_ids if c in self._rows.row]
            if self.dim is None:
                return np.zeros((0, 0), dtype=np.float32)
            return self._matrix[rows].copy() if rows else np.zeros((0, self.dim), dtype=np.float32)

    def with_languages(self, chunk_ids: Sequence[str]) -> tuple[list[str], np.ndarray, list[str]]:
        """The passages held among ``chunk_ids``: their ids, vectors and languages, in one pass
        (two-encoder scoring needs all three for a few hundred passages per search)."""
        self._load()
        with self._lock:
            row = self._rows.row
            found = [(c, r) for c in chunk_ids if (r := row.get(c)) is not None]
            if not found or self.dim is None:
                return [], np.zeros((0, self.dim or 0), dtype=np.float32), []
            rows = np.fromiter((r for _, r in found), dtype=np.int64, count=len(found))
            names = {code: lang for lang, code in self._rows.codes["language"].items()}
            return ([c for c, _ in found], self._matrix[rows], [names.get(int(x), "") for x in self._rows.lang[rows]])

    def rescore(self, vector: np.ndarray, chunk_ids: Sequence[str], limit: int) -> list[tuple[str, float]]:
        """The best of these passages for another query vector, best first."""
        import torch

        self._load()
        with self._lock:
            row = self._rows.row
            found = [r for c in chunk_ids if (r := row.get(c)) is not None]
            if not found or self.dim is None:
                return []
            rows = np.array(found, dtype=np.int64)
            scores = torch.mv(torch.from_numpy(self._matrix)[torch.from_numpy(rows)],
                              torch.from_numpy(np.array(vector, dtype=np.float32))).numpy()
            ids = self._rows.ids
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(ids[r], s) for r, s in zip(rows[order].tolist(), scores[order].tolist())]

    def doc_ids(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        self._load()
        with self._lock:
            return self._rows.doc_ids(chunk_ids)

    def holds_document(self, doc_id: str) -> bool:
        self._load()
        with self._lock:
            return bool(self._rows.doc_rows.get(doc_id))

    def nbytes(self) -> int:
        self._load()
        return int(self._matrix.nbytes + self._int8.nbytes)
