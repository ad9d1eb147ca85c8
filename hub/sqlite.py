"""One way to open the hub's SQLite files (catalog, community, embedding cache, search copies).

Autocommit mode (transactions are explicit, ``BEGIN ... COMMIT``), write-ahead logging so
searches read while an ingest writes, one connection shared by threads behind the caller's lock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_db(path: Path, schema: str = "", *, rows: bool = False, foreign_keys: bool = False) -> sqlite3.Connection:
    """``rows``: rows as :class:`sqlite3.Row` (by column name); ``foreign_keys``: enforce them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    if rows:
        db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    if foreign_keys:
        db.execute("PRAGMA foreign_keys=ON")
    if schema:
        db.executescript(schema)
    return db
