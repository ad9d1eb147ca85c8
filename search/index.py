"""The passage indexes, owned in one place: one Qdrant collection (search/store.py: dense and
keyword vectors with their payload, on Qdrant Edge in-process or on a Qdrant server) and, in
embedded mode, Whoosh (search/keyword.py: phrases, ``title:`` and the rest of the query syntax).
With a Qdrant server there is no Whoosh: the sparse vectors answer phrases and ``title:`` words
too (search/hybrid.py), and a local index could not be shared by the processes and machines that
share the server.

Ingest writes documents' passages through ``write`` and takes a refused batch back out with
``take_out``; ``hub remove`` deletes with ``delete_documents``; ``hub check`` reads what each
index holds (``held``) and ``--repair`` puts back what one lacks (``put``); ``hub reindex``
replaces every point (``reset``, ``put``); search reads through the retrievers (``dense``,
``keyword``) that ``search/hybrid.py`` combines. So the paths that change the indexes cannot
disagree on what a passage looks like in each.
"""

from __future__ import annotations

import logging
import shutil
import threading
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from hub.settings import Settings
from search.sparse import passage_vector

log = logging.getLogger(__name__)


def passage_payload(doc: Any, chunk: Any) -> dict[str, Any]:
    """The fields a passage carries in Qdrant, for filters and for grouping results."""
    return {"doc_id": doc.id, "doc_type": doc.doc_type, "language": chunk.language_in(doc),
            "tags": [t.lower() for t in doc.tags], "page": chunk.page, "year": doc.year}


def passage_words(doc: Any, chunk: Any) -> dict[str, Any]:
    """What the keyword index takes of a passage: its filter fields and its three texts."""
    return {"chunk_id": chunk.id, "doc_id": doc.id, "doc_type": doc.doc_type,
            "language": chunk.language_in(doc), "tags": doc.tags, "year": doc.year,
            "title": doc.title, "heading": chunk.heading, "body": chunk.text}


def _add_words(words: Any, docs: Sequence[Any]) -> dict[str, Any]:
    """These documents' passages into Whoosh in one commit, replacing what it held of them;
    returns each passage's analysed fields, of which its keyword sparse vector is made."""
    tokens: dict[str, Any] = {}
    with words.writer() as batch:
        batch.delete_documents([d.id for d in docs])
        for doc in docs:
            for c in doc.chunks:
                tokens[c.id] = batch.add(**passage_words(doc, c))
    return tokens


class PassageIndex:
    """Both indexes of one home, opened when first used. ``embedder``: gives the home's
    embedder, which names the dense vectors and embeds questions."""

    def __init__(self, settings: Settings, catalog: Any, embedder: Callable[[], Any]) -> None:
        self.settings = settings
        self.catalog = catalog
        self._embedder = embedder
        self._store: Any = None
        self._keyword: Any = None

    # --- the stores and retrievers -----------------------------------------------------------
    @property
    def store(self) -> Any:
        if self._store is None:
            from search.store import PassageStore
            from search.upgrade import refuse_old_layout

            refuse_old_layout(self.settings)
            self._store = PassageStore(self.settings)
        return self._store

    @property
    def keeps_words(self) -> bool:
        """Whether this home keeps Whoosh: in embedded mode only (see the module's docstring)."""
        return not self.settings.qdrant_url

    @property
    def keyword(self) -> Any:
        if self._keyword is None:
            from search.keyword import KeywordIndex

            self._keyword = KeywordIndex(self.settings.whoosh_path)
        return self._keyword

    def searcher(self, embedder: Callable[[], Any] | None = None, thesaurus: Any = None, speller: Any = None,
                 lexicon: Any = None, apart: str | None = None) -> Any:
        """A hybrid searcher over both retrievers (search/hybrid.py); ``apart``: a document type
        its searches leave out unless asked for."""
        from search.hybrid import HybridSearcher

        return HybridSearcher(self.settings, self.catalog, self, embedder or self._embedder,
                              thesaurus=thesaurus, speller=speller, lexicon=lexicon, apart=apart)

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of these passages, each encoder's joined as the embedder joins them
        (missing ones skipped): practice linking compares them."""
        found, parts = self.store.vectors(chunk_ids)
        embedder = self._embedder()
        if not found:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return embedder.join([parts[p] for p in embedder.parts])

    def copy_to(self, dest: Any, catalog_passages: int, **options: Any) -> Any:
        """Copy every point to another store (``hub migrate``; search/migration.py)."""
        from search.migration import copy_points

        return copy_points(self.store, dest, catalog_passages, **options)

    # --- writing -----------------------------------------------------------------------------
    def write(self, docs: Sequence[Any], vectors: Any) -> None:
        """Index ``docs``' passages in both indexes, replacing whatever they held of these
        documents: an update, or what a crash left of an earlier attempt (a document shorter
        than before leaves passages the upsert would not overwrite; the delete is a payload-index
        lookup)."""
        self.store.delete_documents([d.id for d in docs])
        self.put(docs, vectors)

    def put(self, docs: Sequence[Any], vectors: Any = None, words: bool = True) -> None:
        """Add these documents' passages: their points (when ``vectors`` are given) to Qdrant,
        their words (when ``words``, in embedded mode) to Whoosh, replacing any it holds of
        them. Restoring after a refused update and ``hub check --repair`` put back only what an
        index lacks."""
        tokens = _add_words(self.keyword, docs) if words and self.keeps_words else {}
        if vectors is not None:
            self._put_points(docs, vectors, tokens)

    def _put_points(self, docs: Sequence[Any], vectors: Any, tokens: dict[str, Any]) -> None:
        pairs = [(d, c) for d in docs for c in d.chunks]
        if not pairs:
            return
        embedder = self._embedder()
        dense = dict(zip(embedder.parts, embedder.split(np.asarray(vectors, dtype=np.float32))))
        sparse = [passage_vector(d.title, c.heading, c.text, c.language_in(d), tokens.get(c.id))
                  for d, c in pairs]
        self.store.upsert([c.id for _, c in pairs], dense, sparse, [passage_payload(d, c) for d, c in pairs])

    def map_payload_indexes(self) -> None:
        """The payload indexes of an earlier layout rebuilt as mapped ones (``hub upgrade``)."""
        self.store.map_payload_indexes()

    def rewrite_terms(self, docs: Sequence[Any]) -> int:
        """These documents' passages written again with today's keyword terms beside the dense
        vectors they have (a new text analysis leaves the vectors as they are: ``hub upgrade``).
        Returns how many passages the index lacked: skipped, ``hub check --repair`` puts them back."""
        pairs = {c.id: (d, c) for d in docs for c in d.chunks}
        found, parts = self.store.vectors(list(pairs))
        sparse = [passage_vector(d.title, c.heading, c.text, c.language_in(d))
                  for d, c in map(pairs.get, found)]
        if found:
            self.store.upsert(found, parts, sparse, [passage_payload(*pairs[c]) for c in found])
        return len(pairs) - len(found)

    def rewrite_words(self, groups: Iterable[Sequence[Any]]) -> None:
        """Whoosh anew from these documents (every catalogued one, in groups, with their
        passages): a home served by a Qdrant server kept no Whoosh meanwhile, so moving it back
        (``hub migrate --to home``) writes one. Interrupted, it leaves a Whoosh that ``hub check``
        finds short and ``--repair`` completes."""
        self._close_words()
        shutil.rmtree(self.settings.whoosh_path, ignore_errors=True)
        try:
            for docs in groups:
                _add_words(self.keyword, docs)
        finally:
            self._close_words()  # a home served by a server does not keep it open

    def _close_words(self) -> None:
        if self._keyword is not None:
            self._keyword.close()
            self._keyword = None

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        """Delete these documents' passages from both indexes (``hub remove``)."""
        self.store.delete_documents(list(doc_ids))
        self._delete_words(doc_ids)

    def take_out(self, doc_ids: Sequence[str]) -> list[str]:
        """Delete these documents' passages from both indexes, each index on its own, so that one
        failing does not keep the other from being cleaned. Returns what failed, for the report
        (``hub check`` then names the documents)."""
        failures: list[str] = []
        if not doc_ids:
            return failures
        try:
            self.store.delete_documents(list(doc_ids))
        except Exception as exc:  # noqa: BLE001 - reported, and `hub check --repair` finishes the job
            log.warning("could not take %s out of Qdrant: %s", ", ".join(doc_ids), exc)
            failures.append(f"Qdrant: {exc}")
        try:
            self._delete_words(doc_ids)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not take %s out of Whoosh: %s", ", ".join(doc_ids), exc)
            failures.append(f"Whoosh: {exc}")
        return failures

    def _delete_words(self, doc_ids: Sequence[str]) -> None:
        """These documents' passages out of Whoosh (embedded mode: a served home keeps none)."""
        if self.keeps_words:
            with self.keyword.writer() as batch:
                batch.delete_documents(list(doc_ids))

    def delete_chunks(self, vector_ids: Sequence[str] = (), word_ids: Sequence[str] = ()) -> None:
        """Remove passages the catalog does not know (``hub check --repair``)."""
        if vector_ids:
            self.store.delete_chunks(list(vector_ids))
        if word_ids and self.keeps_words:
            with self.keyword.writer() as batch:
                batch.delete_chunks(list(word_ids))

    def reset(self) -> None:
        """Drop every point (``hub reindex`` writes them anew with another model)."""
        self.store.reset()

    # --- reading what each index holds ---------------------------------------------------------
    #: The indexes ``held`` names, grouped by what repairs them.
    VECTOR_INDEXES = ("Qdrant",)
    WORD_INDEXES = ("Whoosh",)

    def held(self) -> list[tuple[str, Callable[[], dict[str, str]]]]:
        """Each index by name, with a function giving the passages it holds (id -> document id)."""
        held: list[tuple[str, Callable[[], dict[str, str]]]] = [("Qdrant", self.store.passages)]
        if self.keeps_words:
            held.append(("Whoosh", lambda: {f["chunk_id"]: f.get("doc_id", "")
                                            for f in self.keyword.searcher().all_stored_fields()}))
        return held

    def counts(self) -> dict[str, Any]:
        """Passages per index, or why an index cannot be read (``/api/health``)."""
        out: dict[str, Any] = {}
        counters = [("qdrant", lambda: self.store.count())]
        if self.keeps_words:
            counters.append(("whoosh", lambda: self.keyword.count()))
        for name, get in counters:
            try:
                out[name] = get()
            except Exception as exc:  # noqa: BLE001 - reported, not raised: this is a health check
                out[name] = f"unavailable: {exc}"
        return out

    # --- lifetime ----------------------------------------------------------------------------
    def warm(self) -> threading.Thread:
        """Open the engine's shard now. Whoosh opens at its first use: it answers only quoted
        phrases and ``title:`` words, and opening it reads its term dictionaries, 0.2 s and
        about 220 MB of a server's memory at 100,000 passages (bench/scale.py). The dense vectors'
        and payload indexes' files are read into the page cache on a thread of their own
        (``warm_cache``), returned so that a server can wait for it before it answers."""
        _ = self.store.dims
        reading = threading.Thread(target=self.store.warm_cache, name="warm-page-cache", daemon=True)
        reading.start()
        return reading

    def flush(self) -> None:
        """After a change: persist, and build the engine's indexes for new segments now, by the
        writer, rather than at a search."""
        if self._store is not None:
            self._store.flush()

    @property
    def opened(self) -> bool:
        return self._store is not None or self._keyword is not None

    def close(self) -> None:
        for store in (self._keyword, self._store):
            if store is not None:
                store.close()
        self._keyword = self._store = None
