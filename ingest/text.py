"""Plain text loading: the first line is the title, blank lines separate paragraphs."""

from __future__ import annotations

import re

from hub.errors import RejectedDocument
from ingest.records import LoadedDocument, Section


def load_text(source: str, text: str) -> LoadedDocument:
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
    return LoadedDocument(title=title[:300], sections=[Section(text="\n\n".join(paragraphs))])
