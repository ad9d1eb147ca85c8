"""The community database: accounts, API tokens, case-study submissions, moderation decisions and
advisors' briefs.

It is a SQLite file of its own (``home/community.sqlite``), apart from the catalog: the catalog
is rebuilt from documents, while what people write here exists nowhere else. Accounts,
moderation and briefs (``hub/accounts.py``, ``hub/moderation.py``, ``hub/briefs.py``) each own
their tables and share this connection.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from hub.sqlite import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'member',
    created_at REAL NOT NULL,
    -- bumped on password change and logout-everywhere, so older session cookies stop working
    session_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    last_used_at REAL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at);
-- sessions ended by logging out (a hash of the session id), kept only as long as a cookie lives:
-- the signed cookie alone would stay valid until it expires
CREATE TABLE IF NOT EXISTS ended_sessions (
    sid_hash TEXT PRIMARY KEY,
    until REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ended_sessions_until ON ended_sessions(until);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL DEFAULT 'new',        -- new, edit (of an approved case), withdrawal
    target_id INTEGER REFERENCES submissions(id),
    status TEXT NOT NULL DEFAULT 'pending',  -- pending, approved, rejected, withdrawn, superseded
    title TEXT NOT NULL,
    city TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'en',
    summary TEXT NOT NULL DEFAULT '',
    practices TEXT NOT NULL DEFAULT '[]',
    themes TEXT NOT NULL DEFAULT '[]',
    results TEXT NOT NULL DEFAULT '',
    lessons TEXT NOT NULL DEFAULT '',
    file_name TEXT,
    file_path TEXT,
    preview TEXT NOT NULL DEFAULT '[]',      -- extracted text, page by page, for moderators
    doc_id TEXT,                             -- the catalog document once approved
    reason TEXT,                             -- the moderator's reason on rejection
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_status ON submissions(status, created_at);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    action TEXT NOT NULL,                    -- submitted, edited, approved, rejected, withdrawn
    reason TEXT,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS briefs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    question TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    problem TEXT NOT NULL DEFAULT '',
    partners TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    share_token TEXT UNIQUE,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS brief_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    brief_id INTEGER NOT NULL REFERENCES briefs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,                      -- practice, passage, note
    practice_id TEXT,
    chunk_id TEXT,
    doc_id TEXT,
    doc_title TEXT,
    page INTEGER,
    heading TEXT,
    text TEXT NOT NULL DEFAULT '',           -- a copy: a brief must not change when the library does
    rating TEXT,
    evidence TEXT NOT NULL DEFAULT '[]',     -- a practice's supporting passages, copied likewise
    note TEXT NOT NULL DEFAULT '',
    outcomes TEXT NOT NULL DEFAULT '[]'      -- a practice's per-outcome ratings, copied likewise
);
CREATE INDEX IF NOT EXISTS brief_items_brief ON brief_items(brief_id, position);
"""


class CommunityDB:
    """One SQLite connection shared by threads, serialised by a lock (writes are small)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = open_db(path, SCHEMA, rows=True, foreign_keys=True)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A database made before a column existed gets it (CREATE TABLE IF NOT EXISTS leaves
        an old table as it was)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(brief_items)").fetchall()}
        if "outcomes" not in columns:
            try:
                self._db.execute("ALTER TABLE brief_items ADD COLUMN outcomes TEXT NOT NULL DEFAULT '[]'")
            except sqlite3.OperationalError as exc:  # another process added it between the two statements
                if "duplicate column" not in str(exc):
                    raise

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one write; returns the new row id (for inserts)."""
        with self._lock:
            return self._db.execute(sql, tuple(params)).lastrowid or 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
