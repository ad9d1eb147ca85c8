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
from ingest import cleaning, titles
from ingest.chunking import word_count
from ingest.ocr import OcrFailed, OcrOptions, OcrUnavailable, read_scanned_pages
from ingest.records import LoadedDocument, Section, set_cites, set_provenance

logging.getLogger("pypdf").setLevel(logging.ERROR)

_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|[IVX]+\.)\s+\S")


def load_pdf(source: str, data: bytes, max_pages: int | None = None,
             ocr: OcrOptions | None = None) -> LoadedDocument:
    """``max_pages``: refuse PDFs with more pages than this (None: no limit). ``ocr``: how
    scanned pages are read (None: with Tesseract when installed, default limits)."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    ocr = ocr or OcrOptions()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            _decrypt(source, reader)
        _check_page_count(source, reader, max_pages)
        pages, repeats = _page_texts(reader)
        meta = reader.metadata or {}
        cover = titles.largest_text(reader.pages[0]) if pages else None
    except (RejectedDocument, MemoryError):
        raise
    except DependencyError as exc:
        # Not the file's fault: an optional decoder (AES, an image filter) is not installed.
        raise RejectedDocument(source, _missing_package(exc)) from None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AssertionError) as exc:
        raise RejectedDocument(source, f"corrupt PDF ({_short(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - pypdf has no single error type for broken files
        raise RejectedDocument(source, f"corrupt PDF ({_short(exc)})") from None

    if not pages:
        raise RejectedDocument(source, "PDF has no pages")
    # Text through a broken font map ("The)sample)size)") is read again by pdfium (cleaning.py).
    warnings: list[str] = []
    pages = cleaning.better_reading(source, pages, lambda: cleaning.pdfium_pages(data), warnings)
    extra: dict = {"warnings": warnings} if warnings else {}
    if ocr.enabled:
        pages = _read_scans(source, data, pages, repeats, ocr, extra)
    if not any(word_count(p) >= 3 for p in pages):
        if ocr.enabled and extra.get("ocr_unreadable"):
            raise RejectedDocument(source, "PDF has no extractable text, and OCR could not read its scanned pages "
                                           "reliably (a script other than English, French or Spanish, or a poor scan)")
        if ocr.enabled:  # OCR looked at its images and found no words either (photos, drawings)
            raise RejectedDocument(source, "PDF has no extractable text, and OCR found no words on its pages")
        raise RejectedDocument(
            source, "PDF has no extractable text (scanned images?); run OCR on it first"
        )

    # Running headers, footers and page numbers go before headings are guessed from first lines.
    pages = cleaning.strip_running_lines([cleaning.normalise(p) for p in pages])
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

    # "Microsoft Word - report2.docx", "Book1", "15": the first page's largest text says more.
    title = titles.choose([_meta(meta, "/Title"), cover, *titles.meaningful_lines(sections[0].text, 5)], source)
    author = _meta(meta, "/Author")
    loaded = LoadedDocument(
        title=title,
        sections=sections,
        authors=[a.strip() for a in re.split(r";|\band\b|,", author) if a.strip()] if author else [],
        pages=len(pages),
        extra={**extra, **({"subject": _meta(meta, "/Subject")} if _meta(meta, "/Subject") else {})},
    )
    # A custom document information key, /Provenance: who wrote the file (ingest/records.py).
    set_provenance(loaded, _meta(meta, "/Provenance"))
    # /Cites: the studies the file reports, one reference a line (scripts/build_sample_pdfs.py).
    set_cites(loaded, _meta(meta, "/Cites"))
    return loaded


def _decrypt(source: str, reader) -> None:  # type: ignore[no-untyped-def]
    """Owner-password-only PDFs (copy-protected government reports) open with an empty
    password and are read; a PDF that needs a user password is refused."""
    from pypdf.errors import DependencyError

    try:
        opened = reader.decrypt("")
    except DependencyError:
        raise  # a missing decoder (cryptography for AES), named by load_pdf
    except NotImplementedError as exc:
        raise RejectedDocument(source, f"encrypted PDF with an unsupported scheme ({_short(exc)})") from None
    except Exception:  # noqa: BLE001 - pypdf raises several types for broken encryption data
        opened = 0
    if not opened:
        raise RejectedDocument(source, "encrypted PDF, needs a password to read its text")


def _missing_package(exc: Exception) -> str:
    """pypdf says "cryptography>=3.1 is required for AES algorithm": name the package."""
    text = _short(exc)
    package = re.split(r"[<>=\s]", text, maxsplit=1)[0] or "?"
    return f"PDF needs the optional package {package} to decode ({text})"


def _read_scans(source: str, data: bytes, pages: list[str], repeats: set[int], ocr: OcrOptions,
                extra: dict) -> list[str]:
    """The pages' texts with scanned pages read by OCR; ``extra`` gets ``ocr_pages`` (how many
    pages OCR gave text) and ``ocr_pages_skipped`` (scanned pages over ``ocr.max_pages``)."""
    counts: list[int | None] = [None if i in repeats else len(p.split()) for i, p in enumerate(pages)]
    has_text = any(len(p.split()) >= 3 for p in pages)
    try:
        result = read_scanned_pages(data, counts, ocr)
    except OcrUnavailable as exc:
        if has_text:
            logging.getLogger(__name__).warning("%s: scanned pages left unread: %s", source, exc)
            return pages
        raise RejectedDocument(source, f"PDF has no extractable text; {exc}") from None
    except OcrFailed as exc:
        raise RejectedDocument(source, f"cannot read its scanned pages ({exc})") from None
    pages = list(pages)
    read = 0
    for index, text in result.texts.items():
        if len(text.split()) > len(pages[index].split()):
            pages[index] = text  # the scan's words on their own page: citations stay right
            read += 1
    if read:
        extra["ocr_pages"] = read
    if result.skipped:
        extra["ocr_pages_skipped"] = result.skipped
    if result.unreadable:
        numbers = ", ".join(str(i + 1) for i in sorted(result.unreadable))
        mean = sum(result.unreadable.values()) / len(result.unreadable)
        extra["ocr_unreadable"] = len(result.unreadable)
        extra.setdefault("warnings", []).append(
            f"scanned page(s) {numbers} not indexed: OCR read them with low confidence (mean {mean:.0f}%), "
            "a script other than English, French or Spanish, or a poor scan")
    return pages


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


def _page_texts(reader) -> tuple[list[str], set[int]]:  # type: ignore[no-untyped-def]
    """Each page's text, in order; a page drawn exactly like an earlier one (same page object,
    or same content streams with the same resources) is not extracted again but left empty, and
    its index is in the returned set (nor is it read by OCR)."""
    texts: list[str] = []
    repeats: set[int] = set()
    seen: set = set()
    for page in reader.pages:
        key = _drawing(page)
        if key is not None and key in seen:
            repeats.add(len(texts))
            texts.append("")
            continue
        if key is not None:
            seen.add(key)
        texts.append(page.extract_text() or "")
    return texts, repeats


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
    if line[0].islower() or line.endswith("-"):
        return None  # a sentence running on from the page before ("makes a step in the ...")
    if 1 <= len(words) <= 12 and not line.endswith((".", ",", ";", ":")) or _NUMBERED_HEADING.match(line):
        return line if len(words) <= 12 else None
    return None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
