"""Practices: profiles, ratings, advice, source checks, forums and the evidence map."""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: name -> the module that defines it, imported when the name is first used (PEP 562), so that
#: importing one small module of the package (the kernel's errors, say) loads nothing else.
_WHERE = {
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
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
