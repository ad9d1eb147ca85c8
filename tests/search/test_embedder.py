"""The plain-PyTorch encoder computes what sentence-transformers computes, with the same weights."""

from __future__ import annotations

import numpy as np

from search.embedder import Embedder, resolve_model_path
from hub.settings import DEFAULT_MODEL

TEXTS = ["How do we make women feel safer at bus stops at night?",
         "Éclairage public et sentiment de sécurité : les marches exploratoires de Montréal.",
         "¿Qué funciona para prevenir la violencia juvenil en los barrios?",
         "x", "CCTV " * 600, "hot spots policing; focused deterrence (Boston, 1996) – 63% fewer homicides"]


def test_same_vectors_as_sentence_transformers(embedder: Embedder) -> None:
    from sentence_transformers import SentenceTransformer

    assert embedder._bert is not None, "the packaged MiniLM should load through search/bert.py"
    reference = SentenceTransformer(resolve_model_path(DEFAULT_MODEL), device="cpu").encode(
        TEXTS, normalize_embeddings=True, batch_size=4)
    ours = embedder.embed(TEXTS, batch_size=4)
    cosines = (ours * reference).sum(axis=1)
    assert ours.shape == (len(TEXTS), 384) and cosines.min() > 0.9999, cosines
    # batching and order do not change a vector
    alone = np.stack([embedder.embed([t])[0] for t in TEXTS])
    assert np.allclose(alone, ours, atol=1e-5)
    # the query path (fused products, half-precision weights) computes the same function
    embedder._queries.clear()
    questions = np.stack([embedder.embed_query(t) for t in TEXTS])
    assert ((questions * reference).sum(axis=1)).min() > 0.9999
    assert not np.allclose(questions, ours, atol=1e-7), "the query path should be the packed one"
