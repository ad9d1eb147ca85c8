"""Finding files to ingest and checking, before any parsing, that each is what it claims to be.

Cheap checks first (type, size, emptiness, magic bytes), so a 2 GB video renamed ``.pdf`` is
refused without being read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from hub.errors import RejectedDocument

#: File extension -> format name understood by the loaders.
FORMATS = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}

_BINARY_MAGIC = {
    b"%PDF": "a PDF",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"{\\rtf": "an RTF document",
}


@dataclass(frozen=True)
class Candidate:
    """A file found for ingestion: its path as given, and its resolved location."""

    source: str
    path: Path


def discover(paths: Iterable[str | Path]) -> Iterator[Candidate | RejectedDocument]:
    """Expand files and folders (recursively, sorted, hidden entries skipped).

    A path that does not exist yields a rejection rather than stopping the batch.
    """
    for raw in paths:
        given = Path(raw)
        if given.is_dir():
            for child in sorted(given.rglob("*")):
                rel = child.relative_to(given)
                if any(part.startswith(".") for part in rel.parts) or not child.is_file():
                    continue
                yield Candidate(str(child), child.resolve())
        elif given.is_file():
            yield Candidate(str(given), given.resolve())
        else:
            yield RejectedDocument(str(given), "no such file or folder")


def format_of(candidate: Candidate) -> str:
    fmt = FORMATS.get(candidate.path.suffix.lower())
    if fmt is None:
        suffix = candidate.path.suffix or "(no extension)"
        raise RejectedDocument(
            candidate.source,
            f"unsupported file type {suffix}; the hub reads {', '.join(sorted(set(FORMATS)))}",
        )
    return fmt


def read_checked(candidate: Candidate, max_bytes: int) -> tuple[str, bytes]:
    """Return (format, content) after the checks every file must pass."""
    fmt = format_of(candidate)
    size = candidate.path.stat().st_size
    if size > max_bytes:
        raise RejectedDocument(
            candidate.source,
            f"file is {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.0f} MB limit "
            "(set HUB_MAX_FILE_MB to change it)",
        )
    data = candidate.path.read_bytes()
    if not data.strip():
        raise RejectedDocument(candidate.source, "empty file")
    check_content_matches(candidate.source, fmt, data)
    return fmt, data


def check_content_matches(source: str, fmt: str, data: bytes) -> None:
    """Refuse files whose bytes contradict their extension."""
    head = data[:1024].lstrip()
    if fmt == "pdf":
        if b"%PDF-" not in data[:1024]:
            raise RejectedDocument(source, f"not a PDF: the content looks like {_describe(data)}")
        return
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise RejectedDocument(source, f"content does not match its extension: it is {what}")
    if b"\x00" in data[:8192]:
        raise RejectedDocument(source, "content does not match its extension: binary data, not text")


def _describe(data: bytes) -> str:
    head = data[:1024].lstrip()
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return what
    if b"\x00" in data[:8192]:
        return "binary data"
    if head[:1] == b"<":
        return "HTML or XML"
    return "plain text"


def decode_text(source: str, data: bytes) -> str:
    """UTF-8 (with or without BOM), falling back to cp1252 for older Windows files."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RejectedDocument(source, "text is neither UTF-8 nor Windows-1252")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
