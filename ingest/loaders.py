"""Choosing the loader for a checked file's format, and turning any parser failure into one line.

This runs inside the parse worker (ingest/worker.py); ``bench/`` calls it in-process too.
"""

from __future__ import annotations

from hub.errors import RejectedDocument
from ingest import files
from ingest.ocr import OcrOptions
from ingest.records import LoadedDocument


def load(fmt: str, source: str, data: bytes, max_pdf_pages: int | None = None,
         ocr: OcrOptions | None = None) -> LoadedDocument:
    """Parse a checked file with the loader for its format (``ocr``: how scanned PDF pages are
    read; None: with Tesseract when installed)."""
    if fmt == "pdf":
        from ingest.pdf import load_pdf

        return load_pdf(source, data, max_pages=max_pdf_pages, ocr=ocr)
    text = files.decode_text(source, data)
    if fmt == "html":
        from ingest.html import load_html

        return load_html(source, text)
    if fmt == "markdown":
        from ingest.markdown import load_markdown

        return load_markdown(source, text)
    from ingest.text import load_text

    return load_text(source, text)


def parse(fmt: str, source: str, data: bytes, max_pdf_pages: int | None = None,
          ocr: OcrOptions | None = None) -> LoadedDocument:
    """Loaders raise RejectedDocument for what they recognise; anything else is still one line."""
    try:
        return load(fmt, source, data, max_pdf_pages, ocr)
    except RejectedDocument:
        raise
    except RecursionError:
        raise RejectedDocument(source, f"cannot parse this {fmt} file (nested too deeply)") from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - third-party parsers raise anything on broken input
        raise RejectedDocument(source, f"cannot parse this {fmt} file ({type(exc).__name__}: {exc})"[:300]) from None
