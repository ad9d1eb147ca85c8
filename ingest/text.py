"""Plain text loading: the first line is the title, blank lines separate paragraphs.

A text file may open with the same front matter as Markdown, between two ``---`` lines, to say
what the file cannot (``provenance: illustrative``, ``authors``, ``year``...); a first block that
is not a YAML mapping is read as text like the rest.
"""

from __future__ import annotations

import re

from hub.errors import RejectedDocument
from ingest.records import LoadedDocument, Section


def load_text(source: str, text: str) -> LoadedDocument:
    meta, text = _front_matter(source, text)
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise RejectedDocument(source, "empty file")
    title = lines[0].strip()
    body = "\n".join(lines[1:])
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", body)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        # A one-line file: its only line is both title and text.
        paragraphs = [title]
    sections = [Section(text="\n\n".join(paragraphs))]
    if meta:
        from ingest.markdown import document_from_meta

        return document_from_meta(meta, str(meta.get("title") or title)[:300], sections)
    return LoadedDocument(title=title[:300], sections=sections)


def _front_matter(source: str, text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    from ingest.markdown import split_front_matter

    try:
        return split_front_matter(source, text)
    except RejectedDocument:
        return {}, text
