"""The hub: the ``Hub`` facade over the library, its settings and its errors."""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: name -> the module that defines it, imported when the name is first used (PEP 562), so that
#: importing one small module of the package (the kernel's errors, say) loads nothing else.
_WHERE = {
    "Hub": "hub.core",
    "Settings": "hub.settings",
    "HubError": "hub.errors",
    "NotFound": "hub.errors",
    "InvalidQuery": "hub.errors",
    "InvalidForm": "hub.errors",
    "RejectedDocument": "hub.errors",
    "Catalog": "hub.catalog",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
