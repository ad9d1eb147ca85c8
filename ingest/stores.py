"""Putting documents' passages into the two indexes, and taking them out again.

Ingest writes through these, takes a document some store refused back out with them, and
``hub check --repair`` re-indexes catalogued documents an index lacks with them, so the three
paths cannot disagree on what a passage looks like in Qdrant and Whoosh.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Sequence

from ingest.chunking import embedding_text
from ingest.records import Chunk, Document

log = logging.getLogger(__name__)


def passage_texts(docs: Sequence[Document], annotate: Callable[[str, str], str] | None = None) -> list[str]:
    """What the encoder reads for each passage of ``docs``, in order: ingest and ``hub reindex``
    must read the same, or the embedding cache would miss."""
    texts = [embedding_text(d.title, c) for d in docs for c in d.chunks]
    if annotate is not None:
        languages = [c.language or d.language for d in docs for c in d.chunks]
        texts = [annotate(text, lang) for text, lang in zip(texts, languages)]
    return texts


def passage_payload(doc: Document, chunk: Chunk) -> dict:
    """The fields a passage's vector carries in Qdrant, for filters."""
    return {"doc_id": doc.id, "doc_type": doc.doc_type, "language": chunk.language or doc.language,
            "tags": doc.tags, "page": chunk.page, "year": doc.year}


def embed(docs: Sequence[Document], embedder: Any, cache: Any, batch_size: int,
          annotate: Callable[[str, str], str] | None = None) -> tuple[Any, int]:
    """Vectors for every passage of ``docs`` (from the cache where it has them), and how many
    had to be computed."""
    return embedder.embed_cached(passage_texts(docs, annotate), cache, batch_size)  # type: ignore[no-any-return]


def put_vectors(semantic: Any, docs: Sequence[Document], vectors: Any) -> None:
    ids = [c.id for d in docs for c in d.chunks]
    payloads = [passage_payload(d, c) for d in docs for c in d.chunks]
    if ids:
        semantic.upsert(ids, vectors, payloads)


def add_passages(batch: Any, docs: Iterable[Document]) -> None:
    """Add ``docs``' passages to an open keyword batch (``KeywordIndex.writer()``)."""
    for doc in docs:
        for c in doc.chunks:
            batch.add(chunk_id=c.id, doc_id=doc.id, doc_type=doc.doc_type,
                      language=c.language or doc.language, tags=doc.tags, year=doc.year,
                      title=doc.title, heading=c.heading, body=c.text)


def take_out(semantic: Any, keyword: Any, doc_ids: Sequence[str]) -> list[str]:
    """Delete these documents' passages from both indexes, each index on its own, so that one
    failing does not keep the other from being cleaned. Returns what failed, for the report
    (``hub check`` then names the documents)."""
    failures = []
    if not doc_ids:
        return failures
    try:
        semantic.delete_documents(list(doc_ids))
    except Exception as exc:  # noqa: BLE001 - reported, and `hub check --repair` finishes the job
        log.warning("could not take %s out of Qdrant: %s", ", ".join(doc_ids), exc)
        failures.append(f"Qdrant: {exc}")
    try:
        with keyword.writer() as batch:
            batch.delete_documents(list(doc_ids))
    except Exception as exc:  # noqa: BLE001
        log.warning("could not take %s out of Whoosh: %s", ", ".join(doc_ids), exc)
        failures.append(f"Whoosh: {exc}")
    return failures
