"""PDF loading with pypdf: text per page, so every passage keeps its page number."""

from __future__ import annotations

import io
import logging
import re

from hub.errors import RejectedDocument
from ingest.records import LoadedDocument, Section

logging.getLogger("pypdf").setLevel(logging.ERROR)

_JUNK_TITLE = re.compile(r"^(microsoft \w+ - |untitled|sans titre|sin título|document\d*$)|\.(docx?|pdf|odt|indd|pptx?)$", re.I)
_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|[IVX]+\.)\s+\S")


def load_pdf(source: str, data: bytes) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Owner-password-only PDFs (common in government reports) open with an empty password.
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises several types for unsupported crypto
                opened = 0
            if not opened:
                raise RejectedDocument(source, "encrypted PDF, cannot read its text without the password")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata or {}
    except RejectedDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AssertionError) as exc:
        raise RejectedDocument(source, f"corrupt PDF ({_short(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - pypdf has no single error type for broken files
        raise RejectedDocument(source, f"corrupt PDF ({_short(exc)})") from None

    if not pages:
        raise RejectedDocument(source, "PDF has no pages")
    if not any(len(p.split()) >= 3 for p in pages):
        raise RejectedDocument(
            source, "PDF has no extractable text (scanned images?); run OCR on it first"
        )

    sections: list[Section] = []
    heading: str | None = None
    for number, text in enumerate(pages, start=1):
        text = _clean(text)
        page_heading = _first_heading(text)
        heading = page_heading or heading
        if text.strip():
            sections.append(Section(text=text, page=number, heading=heading))

    title = _meta(meta, "/Title")
    if title and _JUNK_TITLE.search(title):
        title = None  # "Microsoft Word - report2.docx", "untitled": the first line says more
    title = title or _first_line(sections[0].text) or source
    author = _meta(meta, "/Author")
    return LoadedDocument(
        title=title,
        sections=sections,
        authors=[a.strip() for a in re.split(r";|\band\b|,", author) if a.strip()] if author else [],
        pages=len(pages),
        extra={"subject": _meta(meta, "/Subject")} if _meta(meta, "/Subject") else {},
    )


def _meta(meta: object, key: str) -> str | None:
    try:
        value = meta.get(key)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return None
    value = str(value).strip() if value else ""
    return value or None


def _clean(text: str) -> str:
    text = text.replace("\u00ad", "")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # words hyphenated across lines
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return None


def _first_heading(text: str) -> str | None:
    """A short first line without final punctuation reads as the page's section heading."""
    line = _first_line(text)
    if not line:
        return None
    words = line.split()
    if 1 <= len(words) <= 12 and not line.endswith((".", ",", ";", ":")) or _NUMBERED_HEADING.match(line):
        return line if len(words) <= 12 else None
    return None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
