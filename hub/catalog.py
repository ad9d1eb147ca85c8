"""The SQLite catalog: documents, passages, content hashes and ingest runs.

The catalog is the record of what the hub holds; Qdrant and Whoosh are indexes over it and can
be checked against it (``hub check``) or rebuilt from it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from hub.sqlite import open_db
from ingest.records import Chunk, Document
from search.analysis import words

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    language TEXT NOT NULL,
    format TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    year INTEGER,
    authors TEXT NOT NULL DEFAULT '[]',
    source_url TEXT,
    pages INTEGER,
    size INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    page INTEGER,
    heading TEXT,
    text TEXT NOT NULL,
    language TEXT  -- the passage's own language when it differs from its document's
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ordinal);
CREATE TABLE IF NOT EXISTS practice_links (
    practice_id TEXT NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,            -- source (cited by the profile), declared (front matter), auto
    score REAL,
    PRIMARY KEY (practice_id, doc_id)
);
CREATE TABLE IF NOT EXISTS copies (  -- files byte for byte the same as a document: indexed once
    path TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    added_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS copies_doc ON copies(doc_id);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);  -- an ingest looks up what each file became
CREATE TABLE IF NOT EXISTS meta (  -- facts about the whole home, e.g. the model its vectors come from
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS words (  -- each word's occurrences per language, in passages and titles
    language TEXT NOT NULL,
    word TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (language, word)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS removed_files (  -- files whose documents a person removed: seeding leaves them out
    path TEXT PRIMARY KEY,
    removed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ingest_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    finished_at REAL,
    added INTEGER DEFAULT 0,
    updated INTEGER DEFAULT 0,
    unchanged INTEGER DEFAULT 0,
    rejected INTEGER DEFAULT 0,
    rejections TEXT NOT NULL DEFAULT '[]'
);
"""

_DOC_COLUMNS = ("id", "source", "path", "title", "doc_type", "language", "format", "tags", "year",
                "authors", "source_url", "pages", "size", "content_hash", "extra", "ingested_at")


#: Documents ``documents_by_ids`` keeps in memory at most (about 1 KB each).
DOCUMENTS_REMEMBERED = 20_000


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = open_db(path, SCHEMA, rows=True, foreign_keys=True)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(chunks)")}
        if "language" not in columns:  # a catalog from before passages had their own language
            self._db.execute("ALTER TABLE chunks ADD COLUMN language TEXT")
        self._writes = 0
        self._docs: dict[str, Document] = {}
        self._passages: dict[str, int] = {}  # documents' passage counts, remembered with them
        self._docs_mark: tuple[int, int] | None = None
        #: The document types present, with the change marker they were read at (``doc_types``).
        self._types: tuple[tuple[int, int], list[str]] | None = None
        self._sizes: tuple[tuple[int, int] | None, dict[str, int]] = (None, {})
        self._count_words_once()

    def _count_words_once(self) -> None:
        """A catalog from before the word counts: count its passages' words once (9.2 s at
        100,000 passages). Another process opening it meanwhile waits, then finds them counted."""
        if self.meta("words") == "1":
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if not self._db.execute("SELECT 1 FROM meta WHERE key = 'words'").fetchone():
                    self._db.execute("DELETE FROM words")
                    rows = self._db.execute(f"SELECT {_PASSAGE_LANGUAGE}, {_PASSAGE_TEXT} FROM chunks c "
                                            "JOIN documents d ON d.id = c.doc_id UNION ALL "
                                            "SELECT language, title FROM documents")
                    self._add_words(_count(rows))
                    self._db.execute("INSERT INTO meta (key, value) VALUES ('words', '1')")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def changes(self) -> tuple[int, int]:
        """A marker that moves whenever the catalog changes, from this connection or another
        process: cheap enough to ask before every search, unlike counting rows."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0]), self._writes

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- facts about the home ----------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            self._writes += 1

    # --- reads -------------------------------------------------------------------------------
    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def word_counts(self, language: str | None = None) -> Iterator[tuple[str, str, int]]:
        """(language, word, occurrences) of every word of the passages (their headings with them)
        and titles, most frequent first: "did you mean" (search/spelling.py) and the lexicon
        (search/lexicon.py) draw on them. Kept with every write, so they never need counting
        again."""
        where, params = ("WHERE language = ?", (language,)) if language is not None else ("", ())
        for row in self._query(f"SELECT language, word, n FROM words {where} ORDER BY n DESC, word", params):
            yield row[0], row[1], row[2]

    def word_languages(self, words: Iterable[str], languages: Iterable[str]) -> dict[str, dict[str, int]]:
        """How often each of ``words`` occurs in each of ``languages`` (word -> language -> n;
        words met in none left out)."""
        words, languages = list(set(words)), list(languages)
        if not words or not languages:
            return {}
        out: dict[str, dict[str, int]] = {}
        rows = self._query(f"SELECT word, language, n FROM words WHERE language IN ({','.join('?' * len(languages))}) "
                           f"AND word IN ({','.join('?' * len(words))})", [*languages, *words])
        for word, language, n in rows:
            out.setdefault(word, {})[language] = n
        return out

    def language_sizes(self) -> dict[str, int]:
        """The number of words (occurrences) each language has in the library; remembered until
        the catalog changes."""
        with self._lock:
            mark = self.changes()
            if self._sizes[0] != mark:
                rows = self._db.execute("SELECT language, SUM(n) FROM words GROUP BY language").fetchall()
                self._sizes = (mark, {r[0]: int(r[1]) for r in rows})
            return dict(self._sizes[1])

    def document(self, doc_id: str, with_chunks: bool = False) -> Document | None:
        rows = self._query("SELECT * FROM documents WHERE id = ?", (doc_id,))
        if not rows:
            return None
        doc = _doc_from_row(rows[0])
        if with_chunks:
            doc.chunks = self.chunks_of(doc_id)
        return doc

    def document_by_path(self, path: str) -> Document | None:
        rows = self._query("SELECT * FROM documents WHERE path = ?", (path,))
        return _doc_from_row(rows[0]) if rows else None

    def document_by_hash(self, digest: str) -> Document | None:
        """A document whose file has exactly these bytes (the first ingested, if several)."""
        rows = self._query("SELECT * FROM documents WHERE content_hash = ? ORDER BY ingested_at LIMIT 1", (digest,))
        return _doc_from_row(rows[0]) if rows else None

    def copy_of(self, path: str) -> str | None:
        """The document a file at ``path`` was found to be a byte-identical copy of."""
        rows = self._query("SELECT doc_id FROM copies WHERE path = ?", (path,))
        return str(rows[0][0]) if rows else None

    def copies(self, doc_id: str | None = None) -> list[dict[str, Any]]:
        """The copies of one document (or of all), each with its path, source and document id."""
        sql = "SELECT path, source, doc_id FROM copies" + (" WHERE doc_id = ?" if doc_id else "") + " ORDER BY path"
        return [dict(r) for r in self._query(sql, (doc_id,) if doc_id else ())]

    def documents_by_source(self, source: str) -> list[Document]:
        rows = self._query("SELECT * FROM documents WHERE source = ? OR path = ?", (source, source))
        return [_doc_from_row(r) for r in rows]

    def documents_under(self, folder: str) -> list[Document]:
        """The documents ingested from files inside ``folder`` (a resolved path), at any depth."""
        prefix = folder.rstrip("/") + "/"
        rows = self._query("SELECT * FROM documents WHERE substr(path, 1, ?) = ? ORDER BY path", (len(prefix), prefix))
        return [_doc_from_row(r) for r in rows]

    def removed_files(self) -> set[str]:
        """The resolved paths of files whose documents a person removed (``mark_removed``)."""
        return {str(r[0]) for r in self._query("SELECT path FROM removed_files")}

    def mark_removed(self, paths: Iterable[str]) -> None:
        with self._lock:
            self._writes += 1
            self._db.executemany("INSERT OR REPLACE INTO removed_files (path, removed_at) VALUES (?, ?)",
                                 [(p, time.time()) for p in paths])

    def forget_removed(self, paths: Iterable[str]) -> None:
        """These files were ingested again on purpose: seeding takes them in again too."""
        with self._lock:
            self._writes += 1
            self._db.executemany("DELETE FROM removed_files WHERE path = ?", [(p,) for p in paths])

    def documents(self, doc_type: str | None = None) -> list[Document]:
        if doc_type is None:
            return [_doc_from_row(r) for r in self._query("SELECT * FROM documents ORDER BY title")]
        return [_doc_from_row(r) for r in
                self._query("SELECT * FROM documents WHERE doc_type = ? ORDER BY title", (doc_type,))]

    def documents_by_ids(self, ids: Iterable[str]) -> dict[str, Document]:
        """Documents by id, remembered until the catalog changes: a search reads the 100 or so
        documents of its candidates (facets), mostly the same ones as the previous search.
        Treat them as read-only."""
        def read(part: list[str], marks: str) -> Iterable[tuple[str, Document]]:
            return ((r["id"], _doc_from_row(r)) for r in
                    self._db.execute(f"SELECT * FROM documents WHERE id IN ({marks})", part))

        return self._remembered(self._docs, ids, read)

    def passage_counts_of(self, ids: Iterable[str]) -> dict[str, int]:
        """How many passages each of these documents has, remembered until the catalog changes
        (a search asks for the hundred or so documents of its candidates)."""
        def read(part: list[str], marks: str) -> Iterable[tuple[str, int]]:
            counted = dict(self._db.execute(
                f"SELECT doc_id, count(*) FROM chunks WHERE doc_id IN ({marks}) GROUP BY doc_id", part))
            return ((i, counted.get(i, 0)) for i in part)

        return self._remembered(self._passages, ids, read)

    def _remembered(self, memo: dict[str, Any], ids: Iterable[str],
                    read: Callable[[list[str], str], Iterable[tuple[str, Any]]]) -> dict[str, Any]:
        """``ids``' entries of ``memo`` (one of the per-document memos), those missing read 500 at
        a time; every memo is forgotten when the catalog changes."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        with self._lock:
            mark = self.changes()
            if mark != self._docs_mark or len(memo) > DOCUMENTS_REMEMBERED:
                self._docs.clear()
                self._passages.clear()
                self._docs_mark = mark
            missing = [i for i in ids if i not in memo]
            for start in range(0, len(missing), 500):
                part = missing[start:start + 500]
                memo.update(read(part, ",".join("?" * len(part))))
            return {i: memo[i] for i in ids if i in memo}

    def doc_types(self) -> list[str]:
        """The document types present (reading every document to learn them took 150 ms at
        5,000 documents), remembered until the catalog changes: every search asks
        (search/hybrid.py ``_documents_only``), and the query alone took 2.7 ms at 5,000."""
        with self._lock:
            mark = self.changes()
            if self._types is None or self._types[0] != mark:
                rows = self._db.execute("SELECT DISTINCT doc_type FROM documents ORDER BY doc_type")
                self._types = (mark, [r[0] for r in rows])
            return list(self._types[1])

    def chunks_on_pages(self, doc_id: str, pages: Iterable[int], limit: int) -> list[Chunk]:
        """A document's first ``limit`` passages on these pages, or its first passage if none is."""
        pages = sorted(set(pages))
        marks = ",".join("?" * len(pages))
        rows = self._query(f"SELECT * FROM chunks WHERE doc_id = ? AND page IN ({marks}) ORDER BY ordinal LIMIT ?",
                           (doc_id, *pages, limit)) if pages else []
        if not rows:
            rows = self._query("SELECT * FROM chunks WHERE doc_id = ? ORDER BY ordinal LIMIT 1", (doc_id,))
        return [_chunk_from_row(r) for r in rows]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        rows = self._query("SELECT * FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,))
        return [_chunk_from_row(r) for r in rows]

    def chunks_by_ids(self, ids: Iterable[str], text: bool = True) -> dict[str, Chunk]:
        """``text=False``: everything but the text (empty), which is most of the bytes: what
        ranking needs for the 200 or so candidates of a search, of which 30 are shown."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, Chunk] = {}
        columns = "*" if text else "id, doc_id, ordinal, page, heading, '' AS text, language"
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            for r in self._query(f"SELECT {columns} FROM chunks WHERE id IN ({marks})", part):
                out[r["id"]] = _chunk_from_row(r)
        return out

    def document_texts(self) -> Iterable[tuple[str, str]]:
        """(document id, its passages' text joined), one document at a time."""
        current, parts = None, []
        for row in self._query("SELECT doc_id, text FROM chunks ORDER BY doc_id, ordinal"):
            if row[0] != current and current is not None:
                yield current, "\n".join(parts)
                parts = []
            current = row[0]
            parts.append(row[1])
        if current is not None:
            yield current, "\n".join(parts)

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self._query("SELECT id FROM chunks")}

    def passages(self) -> dict[str, str]:
        """Every passage id with its document id (for `hub check`)."""
        return {r[0]: r[1] for r in self._query("SELECT id, doc_id FROM chunks")}

    def passage_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self._query("SELECT doc_id, count(*) FROM chunks GROUP BY doc_id")}

    def counts(self) -> dict[str, int]:
        docs = self._query("SELECT count(*) FROM documents")[0][0]
        chunks = self._query("SELECT count(*) FROM chunks")[0][0]
        return {"documents": docs, "passages": chunks}

    def counts_of(self, doc_type: str) -> dict[str, int]:
        """``counts`` for the documents of one type (the practice profiles: a few dozen)."""
        docs = self._query("SELECT count(*) FROM documents WHERE doc_type = ?", (doc_type,))[0][0]
        chunks = self._query("SELECT count(*) FROM chunks WHERE doc_id IN "
                             "(SELECT id FROM documents WHERE doc_type = ?)", (doc_type,))[0][0]
        return {"documents": docs, "passages": chunks}

    def last_run(self) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM ingest_runs ORDER BY id DESC LIMIT 1")
        if not rows:
            return None
        run = dict(rows[0])
        run["rejections"] = json.loads(run["rejections"] or "[]")
        return run

    def practice_links(self, practice_id: str | None = None) -> list[dict[str, Any]]:
        """Strongest first: cited by the profile, then declared by the document, then automatic
        links by score."""
        order = "CASE kind WHEN 'source' THEN 0 WHEN 'declared' THEN 1 ELSE 2 END, score DESC, doc_id"
        if practice_id is None:
            rows = self._query(f"SELECT * FROM practice_links ORDER BY practice_id, {order}")
        else:
            rows = self._query(f"SELECT * FROM practice_links WHERE practice_id = ? ORDER BY {order}",
                               (practice_id,))
        return [dict(r) for r in rows]

    def replace_practice_links(self, links: list[tuple[str, str, str, float | None]]) -> None:
        """Links are derived data: rebuilt as a whole after each ingest."""
        with self._lock:
            self._writes += 1
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM practice_links")
                self._db.executemany("INSERT OR REPLACE INTO practice_links VALUES (?,?,?,?)", links)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # --- writes ------------------------------------------------------------------------------
    @staticmethod
    def check_document(doc: Document) -> None:
        """Raise what ``put_document`` would raise on this document's metadata (ValueError for a
        circular structure, say), so that ingest knows before writing to any index."""
        _doc_to_row(doc)

    def put_document(self, doc: Document) -> None:
        """Replace a document and all its passages in one transaction."""
        refused = self.put_documents([doc])
        if refused:
            raise refused[doc.id]

    def put_documents(self, docs: Sequence[Document]) -> dict[str, Exception]:
        """Replace these documents and their passages in one transaction: an ingest's group is
        one commit, and the word counts move once (per document, the commits took 0.5 s of a
        Cranfield ingest and the counts 0.3). A document the catalog refuses (a constraint, a
        trigger) is left out and returned with why; the others are written."""
        refused: dict[str, Exception] = {}
        with self._lock:
            self._writes += 1
            self._db.execute("BEGIN IMMEDIATE")
            try:
                delta: Counter[tuple[str, str]] = Counter()
                for doc in docs:
                    self._db.execute("SAVEPOINT document")
                    try:
                        words = self._replace(doc)
                    except Exception as exc:  # noqa: BLE001 - sqlite and json raise several types
                        self._db.execute("ROLLBACK TO document")
                        refused[doc.id] = exc
                    else:
                        delta.update(words)
                    self._db.execute("RELEASE document")
                self._add_words(delta)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return refused

    def _replace(self, doc: Document) -> Counter[tuple[str, str]]:
        """Within the caller's transaction; returns how the document moves the word counts."""
        row = _doc_to_row(doc)
        delta = _count([(doc.language, doc.title)] + [
            (c.language or doc.language, f"{c.heading or ''} {c.text}") for c in doc.chunks])
        delta.subtract(self._words_of(doc.id))  # the version it replaces
        self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc.id,))
        self._db.execute(f"INSERT OR REPLACE INTO documents ({','.join(_DOC_COLUMNS)}) "
                         f"VALUES ({','.join('?' * len(_DOC_COLUMNS))})", [row[c] for c in _DOC_COLUMNS])
        self._db.executemany(
            "INSERT INTO chunks (id, doc_id, ordinal, page, heading, text, language) VALUES (?,?,?,?,?,?,?)",
            [(c.id, c.doc_id, c.ordinal, c.page, c.heading, c.text, c.language) for c in doc.chunks])
        return delta

    def _words_of(self, doc_id: str) -> Counter[tuple[str, str]]:
        """The word counts a document holds now (none if it is new)."""
        return _count(self._db.execute(
            f"SELECT {_PASSAGE_LANGUAGE}, {_PASSAGE_TEXT} FROM chunks c JOIN documents d ON d.id = c.doc_id "
            "WHERE c.doc_id = ? UNION ALL SELECT language, title FROM documents WHERE id = ?", (doc_id, doc_id)))

    def _add_words(self, delta: Counter[tuple[str, str]]) -> None:
        """Move the word counts by ``delta`` (negative for words taken away), within the caller's
        transaction."""
        self._db.executemany("INSERT INTO words (language, word, n) VALUES (?, ?, ?) "
                             "ON CONFLICT (language, word) DO UPDATE SET n = n + excluded.n",
                             [(lang, word, n) for (lang, word), n in delta.items() if n])
        self._db.executemany("DELETE FROM words WHERE language = ? AND word = ? AND n <= 0",
                             [key for key, n in delta.items() if n < 0])

    def add_copy(self, path: str, source: str, doc_id: str) -> None:
        with self._lock:
            self._writes += 1
            self._db.execute("INSERT OR REPLACE INTO copies (path, source, doc_id, added_at) VALUES (?, ?, ?, ?)",
                             (path, source, doc_id, time.time()))

    def remove_copies(self, doc_id: str | None = None, path: str | None = None) -> None:
        """Forget the copies of a document (its content changed), or the copy at one path."""
        with self._lock:
            self._writes += 1
            if path is not None:
                self._db.execute("DELETE FROM copies WHERE path = ?", (path,))
            if doc_id is not None:
                self._db.execute("DELETE FROM copies WHERE doc_id = ?", (doc_id,))

    def delete_document(self, doc_id: str) -> None:
        with self._lock:
            self._writes += 1
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._add_words(Counter({key: -n for key, n in self._words_of(doc_id).items()}))
                self._db.execute("DELETE FROM copies WHERE doc_id = ?", (doc_id,))
                self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
                self._db.execute("DELETE FROM practice_links WHERE doc_id = ?", (doc_id,))
                self._db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def start_run(self) -> int:
        with self._lock:
            self._writes += 1
            cur = self._db.execute("INSERT INTO ingest_runs (started_at) VALUES (?)", (time.time(),))
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, added: int, updated: int, unchanged: int,
                   rejections: list[dict[str, str]]) -> None:
        with self._lock:
            self._writes += 1
            self._db.execute(
                "UPDATE ingest_runs SET finished_at=?, added=?, updated=?, unchanged=?, rejected=?, "
                "rejections=? WHERE id=?",
                (time.time(), added, updated, unchanged, len(rejections), json.dumps(rejections), run_id),
            )


#: A passage's language (its own, or its document's) and the text whose words are counted.
_PASSAGE_LANGUAGE = "COALESCE(NULLIF(c.language, ''), d.language)"
_PASSAGE_TEXT = "COALESCE(c.heading, '') || ' ' || c.text"


def _count(texts: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for language, text in texts:
        counts.update((language, w) for w in words(text))
    return counts


def _doc_to_row(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id, "source": doc.source, "path": doc.extra.get("path", doc.source),
        "title": doc.title, "doc_type": doc.doc_type, "language": doc.language, "format": doc.format,
        "tags": json.dumps(doc.tags, ensure_ascii=False), "year": doc.year,
        "authors": json.dumps(doc.authors, ensure_ascii=False), "source_url": doc.source_url,
        "pages": doc.pages, "size": doc.size, "content_hash": doc.content_hash,
        "extra": json.dumps({k: v for k, v in doc.extra.items() if k != "path"}, ensure_ascii=False, default=str),
        "ingested_at": time.time(),
    }


def _doc_from_row(row: sqlite3.Row) -> Document:
    extra = json.loads(row["extra"] or "{}")
    extra["path"] = row["path"]
    extra["ingested_at"] = row["ingested_at"]
    return Document(
        id=row["id"], source=row["source"], title=row["title"], doc_type=row["doc_type"],
        language=row["language"], content_hash=row["content_hash"], format=row["format"],
        tags=json.loads(row["tags"]), year=row["year"], authors=json.loads(row["authors"]),
        source_url=row["source_url"], pages=row["pages"], size=row["size"], extra=extra,
    )


def _chunk_from_row(row: sqlite3.Row) -> Chunk:
    return Chunk(id=row["id"], doc_id=row["doc_id"], ordinal=row["ordinal"], text=row["text"],
                 page=row["page"], heading=row["heading"], language=row["language"])
