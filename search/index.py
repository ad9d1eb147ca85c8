"""The passage indexes, owned in one place: Qdrant (with its in-memory vector copy) and Whoosh
(with its BM25 matrix).

Ingest writes documents' passages through ``write`` and takes a refused batch back out with
``take_out``; ``hub remove`` deletes with ``delete_documents``; ``hub check`` reads what each
index holds (``held``) and ``--repair`` puts back what one lacks (``put``); ``hub reindex``
replaces the vectors (``reset_vectors``, ``put_vectors``); search reads through the retrievers
(``semantic``, ``keyword``) that ``search/hybrid.py`` combines. So the paths that change the
indexes cannot disagree on what a passage looks like in each, and the move to another engine
(issue 17: Qdrant Edge) changes this module and its retrievers, not their callers.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Sequence

from hub.settings import Settings

log = logging.getLogger(__name__)


def passage_payload(doc: Any, chunk: Any) -> dict[str, Any]:
    """The fields a passage's vector carries in Qdrant, for filters."""
    return {"doc_id": doc.id, "doc_type": doc.doc_type, "language": chunk.language or doc.language,
            "tags": doc.tags, "page": chunk.page, "year": doc.year}


def passage_words(doc: Any, chunk: Any) -> dict[str, Any]:
    """What the keyword index takes of a passage: its filter fields and its three texts."""
    return {"chunk_id": chunk.id, "doc_id": doc.id, "doc_type": doc.doc_type,
            "language": chunk.language or doc.language, "tags": doc.tags, "year": doc.year,
            "title": doc.title, "heading": chunk.heading, "body": chunk.text}


class PassageIndex:
    """Both indexes of one home, opened when first used. ``catalog`` is read only to fill the
    BM25 matrix of a home made before it existed."""

    def __init__(self, settings: Settings, catalog: Any) -> None:
        self.settings = settings
        self.catalog = catalog
        self._semantic: Any = None
        self._keyword: Any = None

    # --- the retrievers ----------------------------------------------------------------------
    @property
    def semantic(self) -> Any:
        if self._semantic is None:
            from search.semantic import SemanticIndex

            self._semantic = SemanticIndex(self.settings)
        return self._semantic

    @property
    def keyword(self) -> Any:
        if self._keyword is None:
            from search.keyword import KeywordIndex

            self._keyword = KeywordIndex(self.settings.whoosh_path,
                                         self.settings.terms_path if self.settings.keyword_matrix else None)
            terms = self._keyword.terms
            if terms is not None and not terms.existed and self.catalog.counts()["passages"]:
                self._fill_terms(terms)
        return self._keyword

    def _fill_terms(self, terms: Any) -> None:
        """A home made before the BM25 matrix existed: analyse the catalog's passages once."""
        batch: list[dict[str, Any]] = []
        for doc in self.catalog.documents():
            batch.extend(passage_words(doc, c) for c in self.catalog.chunks_of(doc.id))
            if len(batch) >= 5000:
                terms.add(batch)
                batch = []
        terms.add(batch)

    def searcher(self, embedder: Callable[[], Any], thesaurus: Any = None, speller: Any = None) -> Any:
        """A hybrid searcher over both retrievers (search/hybrid.py)."""
        from search.hybrid import HybridSearcher

        return HybridSearcher(self.settings, self.catalog, self.semantic, self.keyword, embedder,
                              thesaurus=thesaurus, speller=speller)

    def vectors(self, chunk_ids: Sequence[str]) -> Any:
        """The stored vectors of these passages (practice linking compares them)."""
        return self.semantic.vectors(chunk_ids)

    def copy_to(self, dest: Any, catalog_passages: int, **options: Any) -> Any:
        """Copy the vectors to another Qdrant (``hub migrate``; search/migration.py)."""
        from search.migration import copy_points

        return copy_points(self.semantic, dest, catalog_passages, **options)

    # --- writing -----------------------------------------------------------------------------
    def write(self, docs: Sequence[Any], vectors: Any, stored: Iterable[str] = ()) -> None:
        """Index ``docs``' passages in both indexes, replacing whatever they held of these
        documents. ``stored``: the documents Qdrant may hold already; a delete there is a filtered
        walk of the whole local store (4 s per batch at 1,500 passages), so only those are
        deleted, and a document half-written by a crash has the same passage ids, which the
        upsert overwrites."""
        self.semantic.delete_documents(list(stored))
        self.put_vectors(docs, vectors)
        with self.keyword.writer() as batch:
            batch.delete_documents([d.id for d in docs])
            self._add_words(batch, docs)

    def put(self, docs: Sequence[Any], vectors: Any = None, words: bool = True) -> None:
        """Add these documents' passages: their vectors (when given) to Qdrant, their words (when
        ``words``) to Whoosh, replacing any it holds of them. Restoring after a refused update and
        ``hub check --repair`` put back only what an index lacks."""
        if vectors is not None:
            self.put_vectors(docs, vectors)
        if words:
            with self.keyword.writer() as batch:
                batch.delete_documents([d.id for d in docs])
                self._add_words(batch, docs)

    def put_vectors(self, docs: Sequence[Any], vectors: Any) -> None:
        ids = [c.id for d in docs for c in d.chunks]
        payloads = [passage_payload(d, c) for d in docs for c in d.chunks]
        if ids:
            self.semantic.upsert(ids, vectors, payloads)

    @staticmethod
    def _add_words(batch: Any, docs: Iterable[Any]) -> None:
        for doc in docs:
            for c in doc.chunks:
                batch.add(**passage_words(doc, c))

    def may_hold(self, doc_id: str) -> bool:
        return bool(self.semantic.may_hold(doc_id))

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        """Delete these documents' passages from both indexes (``hub remove``)."""
        self.semantic.delete_documents(list(doc_ids))
        with self.keyword.writer() as batch:
            batch.delete_documents(list(doc_ids))

    def take_out(self, doc_ids: Sequence[str]) -> list[str]:
        """Delete these documents' passages from both indexes, each index on its own, so that one
        failing does not keep the other from being cleaned. Returns what failed, for the report
        (``hub check`` then names the documents)."""
        failures: list[str] = []
        if not doc_ids:
            return failures
        try:
            self.semantic.delete_documents(list(doc_ids))
        except Exception as exc:  # noqa: BLE001 - reported, and `hub check --repair` finishes the job
            log.warning("could not take %s out of Qdrant: %s", ", ".join(doc_ids), exc)
            failures.append(f"Qdrant: {exc}")
        try:
            with self.keyword.writer() as batch:
                batch.delete_documents(list(doc_ids))
        except Exception as exc:  # noqa: BLE001
            log.warning("could not take %s out of Whoosh: %s", ", ".join(doc_ids), exc)
            failures.append(f"Whoosh: {exc}")
        return failures

    def delete_chunks(self, vector_ids: Sequence[str] = (), word_ids: Sequence[str] = ()) -> None:
        """Remove passages the catalog does not know (``hub check --repair``)."""
        if vector_ids:
            self.semantic.delete_chunks(list(vector_ids))
        if word_ids:
            with self.keyword.writer() as batch:
                batch.delete_chunks(list(word_ids))

    def reset_vectors(self) -> None:
        """Drop every vector (``hub reindex`` writes them anew with another model)."""
        self.semantic.reset()

    # --- reading what each index holds ---------------------------------------------------------
    #: The indexes ``held`` names, grouped by what repairs them.
    VECTOR_INDEXES = ("Qdrant", "the in-memory vector copy")
    WORD_INDEXES = ("Whoosh", "the BM25 matrix")

    def held(self) -> list[tuple[str, Callable[[], dict[str, str]]]]:
        """Each index by name, with a function giving the passages it holds (id -> document id)."""
        indexes: list[tuple[str, Callable[[], dict[str, str]]]] = [
            ("Qdrant", self.semantic.passages),
            ("Whoosh", lambda: {f["chunk_id"]: f.get("doc_id", "")
                                for f in self.keyword.searcher().all_stored_fields()})]
        if self.semantic.mirror is not None:
            indexes.append(("the in-memory vector copy", self.semantic.mirror.passages))
        if self.keyword.terms is not None:
            indexes.append(("the BM25 matrix", self.keyword.terms.passages))
        return indexes

    def counts(self) -> dict[str, Any]:
        """Passages per index, or why an index cannot be read (``/api/health``)."""
        out: dict[str, Any] = {}
        for name, get in (("qdrant", lambda: self.semantic.count()), ("whoosh", lambda: self.keyword.count())):
            try:
                out[name] = get()
            except Exception as exc:  # noqa: BLE001 - reported, not raised: this is a health check
                out[name] = f"unavailable: {exc}"
        return out

    # --- lifetime ----------------------------------------------------------------------------
    def warm(self) -> None:
        """Open both indexes and load their in-memory copies now."""
        keyword, semantic = self.keyword, self.semantic
        keyword.searcher()
        if keyword.terms is not None:
            keyword.terms.warm()
        if semantic.mirror is not None:
            semantic.mirror.warm()

    def flush(self) -> None:
        """Snapshot the in-memory copies after a change (search/snapshot.py), so the BM25 weights
        are computed now, by the writer, and the next start reads them back in a second."""
        if self._semantic is not None and self._semantic.mirror is not None:
            self._semantic.mirror.flush()
        if self._keyword is not None and self._keyword.terms is not None:
            self._keyword.terms.flush()

    @property
    def opened(self) -> bool:
        return self._semantic is not None or self._keyword is not None

    def close(self) -> None:
        for store in (self._keyword, self._semantic):
            if store is not None:
                store.close()
        self._keyword = self._semantic = None
