"""Reading scanned PDF pages with Tesseract.

A page with (almost) no text layer but with pictures on it is rendered with pdfium (pypdfium2)
and its image read by the ``tesseract`` program, so a report scanned in whole or in part gets its
words, each on its own page number. Rendering the page, rather than decoding its images with
pypdf, reads every image encoding pdfium knows (CCITT fax, JBIG2, CMYK, masks, scans cut into
strips) and keeps the page's rotation; it was also faster (bench/ocr.py: 0.18 against 0.10
pages/s on a real 6-page scan, where pypdf took 1.1 s a page to decode the images) for the
same words read.

This runs inside the parse worker (ingest/worker.py), whose time limit covers it: the worker
gives a fresh time window to each OCR page (``on_page``) and, when a page overruns it, kills the
worker's process group, tesseract included. Each ``tesseract`` call also has its own timeout, a
backstop should the worker's parent be gone.

Measured by bench/ocr.py (2 shared cores, Tesseract 5.3): 0.25-0.33 pages/s on typed pages,
0.13-0.2 on real noisy scans; 99-100% of the words of English, French and Spanish pages scanned
at 150 dpi come back. OpenMP threads made one page take 45 s instead of 7 s on 2 busy cores, so
each call gets one thread.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Callable

#: Tesseract's language data for the hub's three languages: one pass reads any of them.
LANGUAGES = ("eng", "fra", "spa")
#: 200 dpi read as many words as 300 dpi (99.8% against 99.7% on rescanned pages, 77% against
#: 80% of a real scan's Latin words) and took 10-20% less time.
DPI = 200
#: The largest bitmap handed to Tesseract: an A4 page at 200 dpi is 3.9 million pixels.
_MAX_PIXELS = 16_000_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OcrOptions:
    """How scanned pages are read. ``timeout_s``: the longest one page may take (0: no limit);
    ``on_page``: called before each page is read (the worker renews its time limit there)."""

    enabled: bool = True
    max_pages: int = 200
    timeout_s: float = 0.0
    on_page: Callable[[], None] | None = None


class OcrUnavailable(Exception):
    """Tesseract or its language data are not installed; the message names what to install."""


class OcrFailed(Exception):
    """Tesseract ran but could not read a page (timed out, crashed)."""


@functools.lru_cache(maxsize=1)
def _tesseract() -> tuple[str, str]:
    """The tesseract program and the ``-l`` argument, or OcrUnavailable."""
    program = shutil.which("tesseract")
    if program is None:
        raise OcrUnavailable("install tesseract-ocr to read scanned pages")
    try:
        listed = subprocess.run([program, "--list-langs"], capture_output=True, text=True, timeout=30,
                                env=_env()).stdout.split()
    except (OSError, subprocess.SubprocessError):
        raise OcrUnavailable("tesseract-ocr does not run; reinstall it to read scanned pages") from None
    langs = [lang for lang in LANGUAGES if lang in listed]
    if not langs:
        raise OcrUnavailable("install tesseract-ocr-eng (or -fra, -spa) to read scanned pages")
    return program, "+".join(langs)


def _env() -> dict[str, str]:
    # One OpenMP thread: on 2 cores shared with the embedder, Tesseract's threads took 45 s
    # for a page that one thread reads in 7 s.
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


#: A page with fewer words than this in its text layer is read by OCR when it shows a picture;
#: a page with fewer than ``_SCAN_WORDS`` when a picture covers half of it (a scan with a
#: stamped page number or a one-line header in its text layer).
_NO_TEXT_WORDS = 3
_SCAN_WORDS = 20
_SCAN_SHARE = 0.5


#: Under this mean word confidence (0-100, Tesseract's own), a page's OCR text is not kept: pages
#: in English, French and Spanish, rescanned as JPEG at 150 dpi, read at 95.7-96.4 (bench/ocr.py
#: pages); scripts the eng+fra+spa models cannot read come out as Latin noise ("EFE RA (2A) ARAS")
#: at 34-42 for real Chinese scans and 53-54 for typed Greek and Cyrillic pages.
MIN_CONFIDENCE = 65.0


@dataclass
class OcrResult:
    """``texts``: what OCR read, by 0-based page index; ``skipped``: scanned pages over the cap;
    ``unreadable``: pages read with a mean confidence under ``MIN_CONFIDENCE`` (index -> mean),
    whose text is not in ``texts``."""

    texts: dict[int, str]
    skipped: int = 0
    unreadable: dict[int, float] = field(default_factory=dict)


def read_scanned_pages(data: bytes, word_counts: list[int | None], options: OcrOptions) -> OcrResult:
    """Find the scanned pages of the PDF ``data`` and read them.

    ``word_counts``: the words of each page's text layer, None for a page not to read (a repeat
    of an earlier one). Raises OcrUnavailable when Tesseract is missing and a page needs it,
    OcrFailed when a page cannot be read."""
    if not any(count is not None and count < _SCAN_WORDS for count in word_counts):
        return OcrResult({})
    import pypdfium2 as pdfium

    result = OcrResult({})
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        log.warning("pdfium cannot open this PDF (%s): its scanned pages stay unread", exc)
        return result
    try:
        if len(document) != len(word_counts):
            # A broken page tree that pdfium and pypdf walk differently: OCR text could land on
            # the wrong page number, and a wrong citation is worse than a page left unread.
            log.warning("pdfium counts %d pages, pypdf %d: scanned pages stay unread",
                        len(document), len(word_counts))
            return result
        scanned = [i for i, count in enumerate(word_counts)
                   if count is not None and count < _SCAN_WORDS and _looks_scanned(document, i, count)]
        if not scanned:
            return result
        program, langs = _tesseract()
        result.skipped = max(0, len(scanned) - options.max_pages)
        for index in scanned[:options.max_pages]:
            if options.on_page is not None:
                options.on_page()
            text, confidence = _read_page(document, index, program, langs, options.timeout_s)
            if text and confidence < MIN_CONFIDENCE:
                result.unreadable[index] = confidence
            else:
                result.texts[index] = text
    finally:
        document.close()
    return result


def _looks_scanned(document, index: int, words: int) -> bool:  # type: ignore[no-untyped-def]
    """A picture on a page without text (a tenth of the page at least: not a bullet or a rule),
    or one covering half a page with a little text."""
    import pypdfium2.raw as raw

    try:
        page = document[index]
    except Exception:  # noqa: BLE001 - pdfium cannot load this page: nothing to render either
        return False
    try:
        width, height = page.get_size()
        area = max(width * height, 1.0)
        share = _SCAN_SHARE if words >= _NO_TEXT_WORDS else 0.1
        for image in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=3):
            left, bottom, right, top = image.get_bounds()
            if (right - left) * (top - bottom) >= share * area:
                return True
        return False
    except Exception:  # noqa: BLE001 - a damaged page object: not worth refusing the file for
        return False
    finally:
        page.close()


def _read_page(document, number: int, program: str, langs: str,  # type: ignore[no-untyped-def]
               timeout_s: float) -> tuple[str, float]:
    """The page's text as Tesseract reads it, and its mean word confidence (0-100)."""
    page = document[number]
    try:
        width, height = page.get_size()
        # A poster-sized page at 200 dpi would be gigabytes: at most _MAX_PIXELS, scaled down.
        scale = min(DPI / 72, (_MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
        bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=False)
        image = bitmap.to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - pdfium cannot draw this page: the rest still count
        log.warning("page %d cannot be rendered for OCR (%s)", number + 1, exc)
        return "", 0.0
    finally:
        page.close()
    try:
        done = subprocess.run(
            [program, "stdin", "stdout", "-l", langs, "tsv"],
            input=buffer.getvalue(), capture_output=True, env=_env(),
            timeout=timeout_s if timeout_s > 0 else None)  # kills tesseract when it overruns
    except subprocess.TimeoutExpired:
        raise OcrFailed(f"page {number + 1} took longer than {timeout_s:g} s to read by OCR") from None
    except OSError as exc:
        raise OcrFailed(f"tesseract did not run ({exc.strerror or exc})") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        log.warning("tesseract failed on page %d (%s)", number + 1, message[-1][:100] if message else done.returncode)
        return "", 0.0
    return from_tsv(done.stdout.decode("utf-8", "replace"))


def from_tsv(tsv: str) -> tuple[str, float]:
    """Tesseract's TSV (one row per word, with its block, paragraph and line, and confidence) as
    text (a line per line, a blank line between paragraphs) and the mean word confidence."""
    lines: dict[tuple[str, str, str], list[str]] = {}
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or not cells[11].strip():
            continue
        try:
            confidence = float(cells[10])
        except ValueError:
            continue
        if confidence < 0:  # a block or line row, not a word
            continue
        confidences.append(confidence)
        lines.setdefault((cells[2], cells[3], cells[4]), []).append(cells[11].strip())
    out: list[str] = []
    paragraph = None
    for (block, par, _), words in lines.items():
        if paragraph is not None and (block, par) != paragraph:
            out.append("")
        paragraph = (block, par)
        out.append(" ".join(words))
    return "\n".join(out).strip(), (sum(confidences) / len(confidences) if confidences else 0.0)
