"""Interface languages from gettext catalog files (``hub/locales/<lang>.po``): the web pages'
labels and those of exported briefs.

English is the source language; French and Spanish catalogs translate the labels. A missing
translation falls back to English, so a half-translated catalog still gives a usable page.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import Callable

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = {"en": "English", "fr": "Français", "es": "Español"}


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    path = LOCALES / f"{lang}.po"
    return parse_po(path.read_text(encoding="utf-8")) if path.exists() else {}


def parse_po(text: str) -> dict[str, str]:
    """msgid/msgstr pairs (multi-line strings joined); fuzzy and empty entries are skipped."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            key, value = "".join(msgid), "".join(msgstr)
            if key and value and not fuzzy:
                entries[key] = value

    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if not line:
            flush()
            msgid = msgstr = current = None
            fuzzy = False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid "):
            flush()
            msgid, msgstr = [ast.literal_eval(line[6:])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [ast.literal_eval(line[7:])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
    return entries


def translator(lang: str) -> Callable[..., str]:
    table = catalog(lang) if lang != "en" else {}

    def gettext(message: str, **values: object) -> str:
        text = table.get(message, message)
        return text.format(**values) if values else text

    return gettext
