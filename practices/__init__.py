"""Practices: profiles, ratings, advice, source checks, forums and the evidence map."""

from __future__ import annotations

from hub.exports import lazy

__getattr__, __all__ = lazy(__name__, {
    "Practice": "practices.profile",
    "Source": "practices.profile",
    "sources_citing": "practices.profile",
    "Rating": "practices.ratings",
    "Outcome": "practices.ratings",
    "Advice": "practices.recommender",
    "Recommendation": "practices.recommender",
    "recommend": "practices.recommender",
    "check_practices": "practices.check",
    "Problem": "practices.check",
    "Forum": "practices.forums",
    "load_forums": "practices.forums",
})
