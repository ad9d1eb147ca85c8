"""OCR speed and word accuracy (ingest/ocr.py): `python bench/ocr.py [--pages N]`.

Two kinds of page:

- real scans from ../shared/benchmarks/realworld (the only scans there are Chinese government
  letters: Tesseract's eng+fra+spa cannot read the Chinese, so accuracy is measured on their
  Latin words and numbers, against the text layer pr-136-example.pdf carries);
- "rescans" of text PDFs in English, French and Spanish (docling's multi_page.pdf and the
  sample library's PDFs): each page rendered at 150 dpi, saved as a JPEG (quality 60, as a
  cheap office scanner does) and put in an image-only PDF, so the text layer is exact ground truth.

Word accuracy is recall over the bag of words (lower-cased, accents kept, punctuation stripped):
the share of the reference's words that OCR gave back, which is what keyword search needs.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REALWORLD = ROOT.parent / "shared" / "benchmarks" / "realworld"
REAL_SCANS = [REALWORLD / "pdfplumber/tests/pdfs/issue-203-decimalize.pdf",
              REALWORLD / "pdfplumber/tests/pdfs/pr-136-example.pdf"]
RESCANS = [REALWORLD / "docling/tests/data/pdf/sources/multi_page.pdf",
           ROOT / "library/documents/guide-diagnostic-local-securite.fr.pdf",
           ROOT / "library/documents/police-proximite-quebec.fr.pdf",
           ROOT / "library/documents/prevencion-juvenil.es.pdf",
           ROOT / "library/documents/womens-safety-public-transport.en.pdf"]


def words(text: str, latin_only: bool = False) -> Counter:
    tokens = re.findall(r"[\w'’-]+", text.lower())
    tokens = [t.strip("'’-") for t in tokens]
    if latin_only:
        tokens = [t for t in tokens if re.fullmatch(r"[a-z0-9.]+", t)]
    return Counter(t for t in tokens if len(t) >= 2)


def recall(reference: Counter, read: Counter) -> tuple[int, int]:
    return sum((reference & read).values()), sum(reference.values())


def rescan(path: Path, pages: int) -> tuple[bytes, list[str]]:
    """An image-only copy of the first ``pages`` pages, and their text layer as the reference."""
    import pypdfium2 as pdfium
    from fpdf import FPDF
    from PIL import Image
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    document = pdfium.PdfDocument(str(path))
    pdf = FPDF(unit="pt")
    reference = []
    for index in range(min(pages, len(document))):
        page = document[index]
        width, height = page.get_size()
        image = page.render(scale=150 / 72, grayscale=True).to_pil()
        jpeg = io.BytesIO()
        image.save(jpeg, "JPEG", quality=60)
        pdf.add_page(format=(width, height))
        pdf.image(Image.open(io.BytesIO(jpeg.getvalue())), x=0, y=0, w=width, h=height)
        reference.append(reader.pages[index].extract_text() or "")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue(), reference


def run(name: str, data: bytes, reference: list[str] | None, latin_only: bool, force: bool) -> None:
    from ingest import ocr as ocr_module
    from ingest.ocr import OcrOptions

    count = len(reference) if reference is not None else None
    started = time.perf_counter()
    if force:  # pages that have a text layer: read every page as if scanned
        import pypdfium2 as pdfium

        n = len(pdfium.PdfDocument(data))
        result = ocr_module.read_scanned_pages(data, [0] * n, OcrOptions())
    else:
        result = ocr_module.read_scanned_pages(data, [0] * (count or 0), OcrOptions())
    seconds = time.perf_counter() - started
    pages = len(result.texts)
    line = f"{name:55} {pages:3d} pages  {pages / seconds:5.2f} pages/s"
    if reference is not None:
        hit = total = 0
        for index, text in result.texts.items():
            h, t = recall(words(reference[index], latin_only), words(text, latin_only))
            hit, total = hit + h, total + t
        line += f"  word recall {hit / max(total, 1):6.1%} ({hit}/{total} words)"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=4, help="pages per rescanned document")
    parser.add_argument("--dpi", type=int, default=None, help="render scans at this resolution")
    parser.add_argument("--only", default="", help="only files whose name contains this")
    args = parser.parse_args()
    if args.dpi:
        from ingest import ocr

        ocr.DPI = args.dpi
    from pypdf import PdfReader

    for path in REAL_SCANS:
        if not path.exists() or args.only not in path.name:
            continue
        data = path.read_bytes()
        layer = [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]
        has_layer = any(len(t.split()) > 3 for t in layer)
        run(f"scan {path.name} (Latin words, numbers)", data, layer if has_layer else None,
            latin_only=True, force=True)
    for path in RESCANS:
        if not path.exists() or args.only not in path.name:
            continue
        data, reference = rescan(path, args.pages)
        run(f"rescan {path.name}", data, reference, latin_only=False, force=False)


if __name__ == "__main__":
    main()
