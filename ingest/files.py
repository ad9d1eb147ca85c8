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
    # UTF-16 or UTF-32 text: NUL bytes are half its ASCII, not a sign of binary data.
    if b"\x00" in data[:8192] and unicode_encoding(data) is None:
        raise RejectedDocument(source, "content does not match its extension: binary data, not text")


def _describe(data: bytes) -> str:
    head = data[:1024].lstrip()
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return what
    if b"\x00" in data[:8192] and unicode_encoding(data) is None:
        return "binary data"
    if head[:1] == b"<":
        return "HTML or XML"
    return "plain text"


def decode_text(source: str, data: bytes) -> str:
    """UTF-8, UTF-16 or UTF-32 as their byte-order mark says (UTF-16 also without one), else
    UTF-8, falling back to cp1252 for older Windows files."""
    found = unicode_encoding(data)
    if found is not None:
        encoding, skip = found
        return data[skip:].decode(encoding)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RejectedDocument(source, "text is neither UTF-8 nor Windows-1252")


#: Byte-order marks, longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def unicode_encoding(data: bytes) -> tuple[str, int] | None:
    """(codec, bytes to skip) for UTF-16 or UTF-32 text, from its byte-order mark, or for UTF-16
    without one when NULs fill one byte of most pairs (Latin text). None for anything else,
    including bytes that such a mark starts but that do not decode (binary data)."""
    found = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            found = encoding, len(bom)
            break
    else:
        sample = data[:4096]
        pairs = len(sample) // 2
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if pairs >= 8 and odd >= 0.4 * pairs and even <= 0.02 * pairs:
            found = "utf-16-le", 0
        elif pairs >= 8 and even >= 0.4 * pairs and odd <= 0.02 * pairs:
            found = "utf-16-be", 0
    if found is None:
        return None
    try:
        data[found[1]:].decode(found[0])
    except UnicodeDecodeError:
        return None
    return found


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
