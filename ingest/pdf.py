"""PDF loading with pypdf: text per page, so every passage keeps its page number.

A page tree can name one page object thousands of times (a 12 KB file made 2,000 passages) or hold
100,000 pages in 600 KB: the page count is capped, and a page that repeats one already read (the
same page object, the same content streams and resources, or the same text) is stored once.
"""

from __future__ import annotations

import io
import logging
import re

from hub.errors import RejectedDocument
from ingest.records import LoadedDocument, Section

logging.getLogger("pypdf").setLevel(logging.ERROR)

_JUNK_TITLE = re.compile(r"^(microsoft \w+ - |untitled|sans titre|sin título|document\d*$)|\.(docx?|pdf|odt|indd|pptx?)$", re.I)
_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|[IVX]+\.)\s+\S")


def load_pdf(source: str, data: bytes, max_pages: int | None = None) -> LoadedDocument:
    """``max_pages``: refuse PDFs with more pages than this (None: no limit)."""
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
        _check_page_count(source, reader, max_pages)
        pages = _page_texts(reader)
        meta = reader.metadata or {}
    except (RejectedDocument, MemoryError):
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
    seen: set[str] = set()
    for number, text in enumerate(pages, start=1):
        text = _clean(text)
        if text in seen:
            continue  # a repeat of an earlier page: its passages would be duplicates
        seen.add(text)
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


def _check_page_count(source: str, reader, max_pages: int | None) -> None:  # type: ignore[no-untyped-def]
    if max_pages is None:
        return
    # The declared count first: refusing 100,000 pages should not mean walking them.
    try:
        declared = int(reader.trailer["/Root"]["/Pages"]["/Count"])
    except Exception:  # noqa: BLE001 - a broken tree is counted by walking it below
        declared = 0
    count = declared if declared > max_pages else len(reader.pages)
    if count > max_pages:
        raise RejectedDocument(source, f"PDF has {count:,} pages, over the {max_pages:,}-page limit "
                                       "(set HUB_MAX_PDF_PAGES to change it)")


def _page_texts(reader) -> list[str]:  # type: ignore[no-untyped-def]
    """Each page's text, in order; a page drawn exactly like an earlier one (same page object,
    or same content streams with the same resources) is not extracted again but left empty."""
    texts: list[str] = []
    seen: set = set()
    for page in reader.pages:
        key = _drawing(page)
        if key is not None and key in seen:
            texts.append("")
            continue
        if key is not None:
            seen.add(key)
        texts.append(page.extract_text() or "")
    return texts


def _drawing(page) -> tuple | None:  # type: ignore[no-untyped-def]
    """What a page's text depends on, as a hashable key; None when it cannot be told cheaply."""
    ref = page.indirect_reference
    same_object = ("page", ref.idnum, ref.generation) if ref is not None else None
    contents = page.raw_get("/Contents") if "/Contents" in page else None
    refs = list(contents) if isinstance(contents, list) else [contents]
    if contents is None or not all(hasattr(r, "idnum") for r in refs):
        return same_object
    resources = page.raw_get("/Resources") if "/Resources" in page else None
    if resources is None:  # inherited from the page tree
        parent = page.raw_get("/Parent") if "/Parent" in page else None
        drawn_with: tuple = ("inherited", getattr(parent, "idnum", None))
    elif hasattr(resources, "idnum"):
        drawn_with = ("object", resources.idnum, resources.generation)
    else:
        inline = repr(resources)
        if len(inline) > 4000:
            return same_object
        drawn_with = ("inline", inline)
    return ("drawing", tuple((r.idnum, r.generation) for r in refs), drawn_with, str(page.get("/Rotate", 0)))


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
