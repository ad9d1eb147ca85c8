"""Combining the dense and keyword rankings into one.

Two ways, both measured by ``bench/quality.py``:

* reciprocal rank fusion (RRF), which needs no calibration and is the floor;
* a weighted sum of scores normalised per query, which keeps how *much* better the best match
  is, not just that it ranks first. It wins on our benchmarks, so it is the default.
"""

from __future__ import annotations

from typing import Mapping, Sequence

Ranking = Sequence[tuple[str, float]]


def rrf(rankings: Mapping[str, Ranking], weights: Mapping[str, float] | None = None,
        k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion: sum of weight / (k + rank) over the rankings an item appears in."""
    fused: dict[str, float] = {}
    for name, ranking in rankings.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, (key, _score) in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + w / (k + rank)
    return fused


def normalise(ranking: Ranking) -> dict[str, float]:
    """Scale scores so the best of this query is 1 and the worst retrieved is 0.

    A single result, or all-equal scores, get 1: retrieval found them and nothing beat them.
    """
    if not ranking:
        return {}
    scores = [s for _, s in ranking]
    top, low = max(scores), min(scores)
    if top - low <= 1e-12:
        return {key: 1.0 for key, _ in ranking}
    return {key: (s - low) / (top - low) for key, s in ranking}


def weighted(rankings: Mapping[str, Ranking], weights: Mapping[str, float]) -> dict[str, float]:
    """Convex combination of per-query normalised scores; an item missing from a ranking gets 0."""
    fused: dict[str, float] = {}
    for name, ranking in rankings.items():
        w = weights.get(name, 1.0)
        for key, score in normalise(ranking).items():
            fused[key] = fused.get(key, 0.0) + w * score
    return fused


def fuse(rankings: Mapping[str, Ranking], method: str = "weighted",
         weights: Mapping[str, float] | None = None) -> dict[str, float]:
    weights = dict(weights or {})
    if method == "rrf":
        return rrf(rankings, weights or None)
    if method == "weighted":
        return weighted(rankings, weights)
    raise ValueError(f"unknown fusion method {method!r} (use 'weighted' or 'rrf')")
