"""The reader's interface language: their choice (a cookie set by the language switch), else their
browser's Accept-Language header, else English. The catalogs themselves are in hub/i18n.py, since
exported briefs (a core feature, also on the command line) use them too.
"""

from __future__ import annotations

from hub.i18n import LANGUAGES, catalog, parse_po, translator

__all__ = ["COOKIE", "LANGUAGES", "catalog", "choose", "language_of", "parse_po", "translator"]

COOKIE = "hub_lang"


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def language_of(request) -> str:  # type: ignore[no-untyped-def]
    """The reader's language: their choice (cookie), else their browser's, else English."""
    return choose(request.cookies.get(COOKIE), request.headers.get("accept-language"))
