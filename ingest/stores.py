"""What the encoder reads of documents' passages, and their vectors.

Ingest, ``hub reindex`` and ``hub check --repair`` embed through these, so the three read the
same texts and meet the same embedding cache. Writing the vectors and words into the indexes is
search/index.py's job.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ingest.chunking import embedding_text
from ingest.records import Document


def passage_texts(docs: Sequence[Document], annotate: Callable[[str, str], str] | None = None) -> list[str]:
    """What the encoder reads for each passage of ``docs``, in order: ingest and ``hub reindex``
    must read the same, or the embedding cache would miss."""
    texts = [embedding_text(d.title, c) for d in docs for c in d.chunks]
    if annotate is not None:
        languages = [c.language_in(d) for d in docs for c in d.chunks]
        texts = [annotate(text, lang) for text, lang in zip(texts, languages)]
    return texts


def embed(docs: Sequence[Document], embedder: Any, cache: Any, batch_size: int,
          annotate: Callable[[str, str], str] | None = None) -> tuple[Any, int]:
    """Vectors for every passage of ``docs`` (from the cache where it has them), and how many
    had to be computed."""
    return embedder.embed_cached(passage_texts(docs, annotate), cache, batch_size)  # type: ignore[no-any-return]
