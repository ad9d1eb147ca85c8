"""The web app: pages for people and a JSON API, over one ``Hub``."""

from __future__ import annotations

from hub.exports import lazy

__getattr__, __all__ = lazy(__name__, {
    "create_app": "web.app",
    "SERVER_OPTIONS": "web.app",
})
