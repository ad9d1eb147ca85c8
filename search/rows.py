"""Row bookkeeping shared by the in-memory search stores (vectors, terms): which passage each row
holds, which rows are alive, and the payload columns that filters turn into boolean masks.

Filters are resolved before ranking, as NumPy masks over all rows, so a filtered query costs the
same as an unfiltered one.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from hub.sqlite import open_db

_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
#: The columns every store's passage table starts with: what filters and deletions need.
PASSAGE_COLUMNS = """chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    doc_type TEXT,
    language TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    year INTEGER"""


def passage_values(chunk_id: str, payload: dict) -> tuple:
    """A passage's first six column values, in ``PASSAGE_COLUMNS`` order."""
    return (chunk_id, payload["doc_id"], payload.get("doc_type"), payload.get("language"),
            json.dumps(payload.get("tags") or []), payload.get("year"))


def passage_payload(row: Sequence) -> dict:
    """The payload of a row read back from those six columns."""
    return {"doc_id": row[1], "doc_type": row[2], "language": row[3], "tags": json.loads(row[4]), "year": row[5]}


class Rows:
    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.alive = np.zeros(capacity, dtype=bool)
        self.year = np.zeros(capacity, dtype=np.int32)
        self.type = np.zeros(capacity, dtype=np.int32)
        self.lang = np.zeros(capacity, dtype=np.int32)
        self.ids: list[str] = []
        self.doc_of: list[str] = []  # each row's document: a search groups passages by it
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
        # Checked before any row changes: a value that does not fit would leave rows half-added.
        years = [p.get("year") or 0 for p in payloads]
        if any(not -2**31 <= y < 2**31 for y in years):
            raise ValueError(f"year out of range: {next(y for y in years if not -2**31 <= y < 2**31)}")
        if end > self.capacity:
            self._grow(max(end, 2 * self.capacity))
        self.alive[start:end] = True
        for i, (cid, p) in enumerate(zip(chunk_ids, payloads), start=start):
            self.ids.append(cid)
            self.doc_of.append(p["doc_id"])
            self.row[cid] = i
            self.doc_rows.setdefault(p["doc_id"], []).append(i)
            for tag in p.get("tags") or []:
                self.tag_rows.setdefault(tag, []).append(i)
            self.year[i] = years[i - start]
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

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """Everything but the derived dictionaries, as arrays (see :meth:`from_arrays`)."""
        from search.snapshot import pack

        n = self.n
        docs = list(self.doc_rows)
        doc_code = np.full(n, -1, dtype=np.int32)
        for code, doc in enumerate(docs):
            doc_code[self.doc_rows[doc]] = code
        tags = list(self.tag_rows)
        tag_pairs = [(code, r) for code, tag in enumerate(tags) for r in self.tag_rows[tag]]
        pairs = np.array(tag_pairs, dtype=np.int32).reshape(-1, 2)
        arrays = {"alive": self.alive[:n], "year": self.year[:n], "type": self.type[:n], "lang": self.lang[:n],
                  "ids": pack(self.ids), "doc_code": doc_code, "docs": pack(docs), "tag_pairs": pairs,
                  "tags": pack(tags)}
        return arrays, {"n": n, "dead": self.dead, "codes": self.codes, "docs": len(docs), "tags": len(tags)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> "Rows":
        from search.snapshot import unpack

        n = int(meta["n"])
        rows = cls(max(1024, int(n * 1.25)))
        rows.n, rows.dead, rows.codes = n, int(meta["dead"]), meta["codes"]
        for name in ("alive", "year", "type", "lang"):
            getattr(rows, name)[:n] = arrays[name]
        rows.ids = unpack(arrays["ids"], n)
        ids = rows.ids
        rows.row = {ids[i]: i for i in np.flatnonzero(rows.alive[:n]).tolist()}
        docs = unpack(arrays["docs"], meta["docs"])
        rows.doc_rows = _groups(docs, arrays["doc_code"], np.arange(n))
        rows.doc_of = [docs[c] if c >= 0 else "" for c in arrays["doc_code"].tolist()]
        pairs = arrays["tag_pairs"]
        rows.tag_rows = _groups(unpack(arrays["tags"], meta["tags"]), pairs[:, 0], pairs[:, 1])
        return rows

    def doc_ids(self, chunk_ids: Iterable[str]) -> dict[str, str]:
        """The document of each passage held (others are left out)."""
        row, doc_of = self.row, self.doc_of
        return {c: doc_of[r] for c in chunk_ids if (r := row.get(c)) is not None}

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


def _groups(names: list[str], codes: np.ndarray, rows: np.ndarray) -> dict[str, list[int]]:
    """{name: rows with that name's code}, rows in order; code -1 belongs to no one."""
    keep = codes >= 0
    codes, rows = codes[keep], rows[keep]
    order = np.argsort(codes, kind="stable")
    codes, rows = codes[order], rows[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    return {names[int(group[0])]: part.tolist()
            for group, part in zip(np.split(codes, bounds), np.split(rows, bounds)) if len(group)}


class RowStore:
    """A SQLite table of passages (``TABLE``, keyed by chunk_id, with doc_id) that a subclass
    mirrors in memory, from a snapshot (search/snapshot.py) when one is current, else from the
    table: the writes, reads and snapshots both stores share."""

    TABLE = ""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self.snapshot_path = path.with_suffix(".snapshot")
        self.existed = path.exists()
        self._db = open_db(path, schema + _META)
        # A table made afresh (a deleted file, an import) starts its generations again: the epoch
        # keeps its snapshots apart from those of the table it replaced.
        self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)", (uuid.uuid4().hex[:12],))
        self._epoch = self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
        self._lock = threading.RLock()
        self._loaded = False
        self._dirty = False
        self._rows = Rows()

    # --- what a subclass provides ----------------------------------------------------------------
    def _from_table(self) -> None:
        raise NotImplementedError

    def _from_snapshot(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        raise NotImplementedError

    def _to_snapshot(self) -> tuple[dict[str, np.ndarray], dict]:
        raise NotImplementedError

    # --- memory and snapshots ------------------------------------------------------------------
    def generation(self) -> str:
        """The table's epoch and how many write transactions it has seen: what a snapshot must match."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return f"{self._epoch}-{int(row[0]) if row else 0}"

    def _bump(self) -> None:
        """Inside each write transaction: the snapshot on disk no longer matches the table."""
        self._db.execute("INSERT INTO meta (key, value) VALUES ('generation', '1') ON CONFLICT(key) "
                         "DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        self._dirty = True

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            from search import snapshot

            found = snapshot.load(self.snapshot_path, self.generation())
            if found is not None:
                self._dirty = False
                self._from_snapshot(*found)  # may decide to read the table after all (dirty then)
            else:
                self._dirty = True
                self._from_table()
            self._loaded = True
            if self._dirty:
                self.flush()  # the next start reads the snapshot instead of the table

    def flush(self) -> None:
        """Write a snapshot if memory holds changes the one on disk lacks (after an ingest)."""
        from search import snapshot

        with self._lock:
            if not self._loaded or not self._dirty:
                return
            arrays, meta = self._to_snapshot()
            try:
                snapshot.save(self.snapshot_path, self.generation(), arrays, meta)
            except OSError:
                return  # a read-only home still works; it just starts slower
            self._dirty = False

    def _changed(self) -> None:
        """After rows were removed: reload from the table once a quarter of memory is dead rows."""
        if self._rows.worth_compacting():
            self._loaded = False

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        self._delete("doc_id", list(doc_ids))

    def delete_chunks(self, chunk_ids: Iterable[str]) -> None:
        self._delete("chunk_id", list(chunk_ids))

    def _delete(self, column: str, ids: list[str]) -> None:
        """Rows by document or by passage: from the table (one transaction), then from memory."""
        if not ids:
            return
        with self._lock:
            self._load()
            self._db.execute("BEGIN")
            self._db.executemany(f"DELETE FROM {self.TABLE} WHERE {column} = ?", [(i,) for i in ids])
            self._bump()
            self._db.execute("COMMIT")
            if column == "doc_id":
                self._rows.kill_documents(ids)
            else:
                self._rows.kill_chunks(ids)
            self._changed()

    def chunk_ids(self) -> set[str]:
        self._load()
        with self._lock:
            return set(self._rows.row)

    def passages(self) -> dict[str, str]:
        """Every passage held, with its document (for `hub check`)."""
        self._load()
        with self._lock:
            return self._rows.doc_ids(list(self._rows.row))

    def count(self) -> int:
        self._load()
        with self._lock:
            return len(self._rows.row)

    def close(self) -> None:
        with self._lock:
            self.flush()
            self._db.close()
