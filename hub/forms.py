"""Text fields from people (case-study forms, briefs): trimmed, and refused with a message naming
the field when longer than its limit, the same way everywhere."""

from __future__ import annotations

from typing import Any, Mapping

from hub.errors import InvalidQuery


def clean_text(fields: Mapping[str, Any], limits: Mapping[str, int], *, partial: bool = False) -> dict[str, str]:
    """Each field of ``limits``, stripped. ``partial``: fields not given are left out (an edit of
    a few fields) instead of counting as empty."""
    values: dict[str, str] = {}
    for key, limit in limits.items():
        if partial and fields.get(key) is None:
            continue
        value = str(fields.get(key) or "").strip()
        if len(value) > limit:
            raise InvalidQuery(f"{key}: at most {limit} characters")
        values[key] = value
    return values
