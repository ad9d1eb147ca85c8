"""An embedding cache keyed by model and text: the same passage is never embedded twice.

Re-ingesting with ``--force``, re-chunking, or a file that changed in one paragraph only
re-uses every vector whose text did not change. Vectors are stored as float32 bytes in SQLite
under the hub's home.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from hub.sqlite import open_db


def text_key(model: str, text: str) -> str:
    # surrogatepass: a lone surrogate (a PDF's broken font map) must not stop a batch here;
    # the text is cleaned before it is stored, this only names it
    return hashlib.sha256(f"{model}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_db(path, "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, data BLOB);")

    def close(self) -> None:
        self._db.close()

    def clear(self) -> None:
        """Forget every vector (they are only a cache: the next embedding computes again)."""
        with self._lock:
            self._db.execute("DELETE FROM vectors")

    def embed(self, model: str, texts: Sequence[str], compute: Callable[[list[str]], np.ndarray]
              ) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` in order, and how many had to be computed."""
        keys = [text_key(model, t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                marks = ",".join("?" * len(part))
                for key, dim, data in self._db.execute(
                        f"SELECT key, dim, data FROM vectors WHERE key IN ({marks})", part):
                    found[key] = np.frombuffer(data, dtype=np.float32, count=dim)
        missing = [i for i, k in enumerate(keys) if k not in found]
        # The same text twice in one batch is computed once.
        unique = list(dict.fromkeys(keys[i] for i in missing))
        if unique:
            first = {}
            for i in missing:
                first.setdefault(keys[i], texts[i])
            vectors = compute([first[k] for k in unique])
            rows = []
            for key, vec in zip(unique, vectors):
                vec = np.asarray(vec, dtype=np.float32)
                found[key] = vec
                rows.append((key, int(vec.shape[0]), vec.tobytes()))
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?)", rows)
                self._db.execute("COMMIT")
        if not keys:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([found[k] for k in keys]), len(unique)
