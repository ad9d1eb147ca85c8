"""Row bookkeeping shared by the in-memory search stores (vectors, terms): which passage each row
holds, which rows are alive, and the payload columns that filters turn into boolean masks.

Filters are resolved before ranking, as NumPy masks over all rows, so a filtered query costs the
same as an unfiltered one.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np


class Rows:
    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.alive = np.zeros(capacity, dtype=bool)
        self.year = np.zeros(capacity, dtype=np.int32)
        self.type = np.zeros(capacity, dtype=np.int32)
        self.lang = np.zeros(capacity, dtype=np.int32)
        self.ids: list[str] = []
        self.row: dict[str, int] = {}
        self.doc_rows: dict[str, list[int]] = {}
        self.tag_rows: dict[str, list[int]] = {}
        self.codes: dict[str, dict[str, int]] = {"doc_type": {}, "language": {}}
        self.dead = 0

    @property
    def capacity(self) -> int:
        return len(self.alive)

    def append(self, chunk_ids: Sequence[str], payloads: Sequence[dict]) -> tuple[int, int]:
        """Add rows; returns their range. Grows the columns (callers grow their own data)."""
        start, end = self.n, self.n + len(chunk_ids)
        if end > self.capacity:
            self._grow(max(end, 2 * self.capacity))
        self.alive[start:end] = True
        for i, (cid, p) in enumerate(zip(chunk_ids, payloads), start=start):
            self.ids.append(cid)
            self.row[cid] = i
            self.doc_rows.setdefault(p["doc_id"], []).append(i)
            for tag in p.get("tags") or []:
                self.tag_rows.setdefault(tag, []).append(i)
            self.year[i] = p.get("year") or 0
            self.type[i] = self._code("doc_type", p.get("doc_type"))
            self.lang[i] = self._code("language", p.get("language"))
        self.n = end
        return start, end

    def _grow(self, capacity: int) -> None:
        for name in ("alive", "year", "type", "lang"):
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def _code(self, field: str, value: str | None) -> int:
        codes = self.codes[field]
        if (value or "") not in codes:
            codes[value or ""] = len(codes) + 1
        return codes[value or ""]

    def kill(self, rows: Iterable[int]) -> None:
        for r in rows:
            if self.alive[r]:
                self.alive[r] = False
                self.row.pop(self.ids[r], None)
                self.dead += 1

    def kill_chunks(self, chunk_ids: Iterable[str]) -> None:
        self.kill([self.row[c] for c in chunk_ids if c in self.row])

    def kill_documents(self, doc_ids: Iterable[str]) -> None:
        for d in doc_ids:
            self.kill(self.doc_rows.pop(d, []))

    def worth_compacting(self) -> bool:
        return self.dead > 1000 and self.dead > self.n // 4

    def mask(self, filters: dict | None) -> np.ndarray:
        n = self.n
        mask = self.alive[:n].copy()
        for key, value in (filters or {}).items():
            if value in (None, "", []):
                continue
            if key == "year":
                start, end = value
                years = self.year[:n]
                mask &= years != 0
                if start is not None:
                    mask &= years >= start
                if end is not None:
                    mask &= years <= end
                continue
            values = value if isinstance(value, (list, tuple, set)) else [value]
            if key in ("tags", "doc_id"):
                index = self.tag_rows if key == "tags" else self.doc_rows
                rows = np.zeros(n, dtype=bool)
                for v in values:
                    hit = index.get(v.lower() if key == "tags" else v)
                    if hit:
                        rows[np.asarray(hit)] = True
                mask &= rows
            elif key in ("doc_type", "language"):
                codes = [self.codes[key].get(v) for v in values]
                column = (self.type if key == "doc_type" else self.lang)[:n]
                mask &= np.isin(column, [c for c in codes if c is not None])
        return mask

    def top(self, scores: np.ndarray, mask: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """The best ``limit`` rows among those the mask lets through, best first."""
        allowed = np.flatnonzero(mask & (scores > -np.inf))
        if not len(allowed) or limit <= 0:
            return []
        values = scores[allowed]
        k = min(limit, len(allowed))
        best = np.argpartition(-values, k - 1)[:k]
        best = best[np.argsort(-values[best], kind="stable")]
        return [(self.ids[allowed[i]], float(values[i])) for i in best]


class RowStore:
    """A SQLite table of passages (``TABLE``, keyed by chunk_id, with doc_id) that a subclass
    mirrors in memory (``_load``, ``self._rows``): the writes and reads both stores share."""

    TABLE = ""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self.existed = path.exists()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(schema)
        self._lock = threading.RLock()
        self._loaded = False
        self._rows = Rows()

    def _load(self) -> None:
        raise NotImplementedError

    def _changed(self) -> None:
        """After rows were removed: reload from the table once a quarter of memory is dead rows."""
        if self._rows.worth_compacting():
            self._loaded = False

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        ids = list(doc_ids)
        if not ids:
            return
        with self._lock:
            self._load()
            self._db.execute("BEGIN")
            self._db.executemany(f"DELETE FROM {self.TABLE} WHERE doc_id = ?", [(d,) for d in ids])
            self._db.execute("COMMIT")
            self._rows.kill_documents(ids)
            self._changed()

    def delete_chunks(self, chunk_ids: Iterable[str]) -> None:
        ids = list(chunk_ids)
        with self._lock:
            self._load()
            self._db.executemany(f"DELETE FROM {self.TABLE} WHERE chunk_id = ?", [(c,) for c in ids])
            self._rows.kill_chunks(ids)
            self._changed()

    def chunk_ids(self) -> set[str]:
        self._load()
        with self._lock:
            return set(self._rows.row)

    def count(self) -> int:
        self._load()
        with self._lock:
            return len(self._rows.row)

    def close(self) -> None:
        with self._lock:
            self._db.close()
