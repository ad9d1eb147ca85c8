"""Text fields from people (case-study forms, briefs, accounts, the web's JSON and forms, the
command line): valid Unicode, trimmed, and refused with a message naming the field when longer
than its limit, the same way everywhere.

"Valid" means encodable as UTF-8 and free of NUL: JSON may spell a lone UTF-16 surrogate
(``"\\ud800"``), and a command line in a non-UTF-8 locale turns stray bytes into surrogates
(Python's surrogateescape); SQLite, Argon2 and the exports cannot encode either, and NUL cuts
strings short in C libraries. Both are refused where text enters, not discovered as a crash.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from hub.errors import InvalidForm, InvalidText

_BAD = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or None when it is."""
    bad = _BAD.search(value)
    if bad is None:
        return None
    char = bad.group()
    if char == "\x00":
        return "contains a NUL character"
    return f"contains a lone UTF-16 surrogate (U+{ord(char):04X}), which is not valid Unicode"


def check_text(value: Any, field: str) -> None:
    """Raise :class:`InvalidText` naming ``field`` when ``value`` is a string that is not valid text."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise InvalidText(f"{field}: {problem}")


def check_tree(value: Any, root: str = "") -> None:
    """Check every string (keys included) in a parsed JSON value or a mapping of form fields; the
    message names the first bad one by its path (``items.2.note``). Iterative: a deeply nested
    body must not exhaust the stack."""
    for path, text in _strings(value, root):
        check_text(text, path or "body")


def check_arguments(arguments: Mapping[str, Any], paths: frozenset[str] = frozenset({"home", "output"})) -> None:
    """A command line's parsed arguments (``vars(args)``): bytes that are not UTF-8 reach Python
    as lone surrogates (surrogateescape), which the database cannot store. ``paths`` are left
    alone: a file name may hold any bytes on Linux, and it goes to the file system."""
    for name, value in arguments.items():
        if name in paths:
            continue
        for text in value if isinstance(value, (list, tuple)) else [value]:
            check_text(text, name)


def _strings(value: Any, root: str) -> Iterator[tuple[str, str]]:
    stack: list[tuple[str, Any]] = [(root, value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, Mapping):
            for key, child in node.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    yield (path or "body") + " (a field name)", key
                stack.append((where, child))
        elif isinstance(node, (list, tuple)):
            stack.extend((f"{path}.{i}" if path else str(i), child) for i, child in enumerate(node))


def clean_text(fields: Mapping[str, Any], limits: Mapping[str, int], *, partial: bool = False) -> dict[str, str]:
    """Each field of ``limits``, stripped. ``partial``: fields not given are left out (an edit of
    a few fields) instead of counting as empty."""
    values: dict[str, str] = {}
    for key, limit in limits.items():
        if partial and fields.get(key) is None:
            continue
        value = str(fields.get(key) or "").strip()
        check_text(value, key)
        if len(value) > limit:
            raise InvalidForm(f"{key}: at most {limit} characters")
        values[key] = value
    return values
