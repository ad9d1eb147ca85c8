"""The hub: the ``Hub`` facade over the library, its settings and its errors."""

from __future__ import annotations

from hub.exports import lazy

__getattr__, __all__ = lazy(__name__, {
    "Hub": "hub.core",
    "Settings": "hub.settings",
    "HubError": "hub.errors",
    "NotFound": "hub.errors",
    "InvalidQuery": "hub.errors",
    "InvalidForm": "hub.errors",
    "RejectedDocument": "hub.errors",
    "Catalog": "hub.catalog",
})
