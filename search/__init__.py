"""Search: encoders, the passage indexes and hybrid search over them."""

from __future__ import annotations

from hub.exports import lazy

__getattr__, __all__ = lazy(__name__, {
    "SearchRequest": "search.request",
    "SearchResults": "search.hybrid",
    "Hit": "search.hybrid",
    "Passage": "search.hybrid",
    "HybridSearcher": "search.hybrid",
    "Embedder": "search.embedder",
    "PassageIndex": "search.index",
})
