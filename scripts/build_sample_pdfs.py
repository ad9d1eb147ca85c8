"""Build the sample library's PDFs from their YAML sources (scripts/pdf_sources/*.yaml).

    python scripts/build_sample_pdfs.py

Each YAML file holds a title, author, subject, provenance (who wrote it: illustrative, summary or
original, see ingest/records.py; stored as the document information key /Provenance) and a list of
pages (heading + paragraphs); each page of the PDF carries exactly one page of the source, so
citations by page can be checked.
Output is deterministic (fixed creation date), so rebuilding does not change unchanged files.
"""

from __future__ import annotations

import io
import sys
from datetime import datetime, timezone
from pathlib import Path

import yaml
from fpdf import FPDF

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "pdf_sources"
PROVENANCE = ("illustrative", "summary", "original")  # as ingest/records.py
OUT = ROOT / "library" / "documents"


def _check(source: Path, spec: dict) -> None:
    """Core fonts only know latin-1: refuse curly quotes, long dashes, the oe ligature and the like."""
    if spec.get("provenance") not in PROVENANCE:
        sys.exit(f"{source.name}: provenance must be one of {', '.join(PROVENANCE)}")
    texts = [spec["title"], spec["author"], spec.get("subject", "")]
    for page in spec["pages"]:
        texts += [page["heading"], *page["paragraphs"]]
    for text in texts:
        bad = sorted({c for c in text if c.encode("latin-1", "replace") == b"?" and c != "?"})
        if bad:
            sys.exit(f"{source.name}: characters outside latin-1: {' '.join(bad)}")


def build(source: Path) -> Path:
    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    _check(source, spec)
    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))
    pdf.set_title(spec["title"])
    pdf.set_author(spec["author"])
    pdf.set_subject(spec.get("subject", ""))
    if spec.get("language"):
        pdf.set_lang(spec["language"])
    pdf.set_auto_page_break(False)
    for number, page in enumerate(spec["pages"], start=1):
        pdf.add_page()
        if number == 1:
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(0, 8, spec["title"])
            pdf.ln(3)
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 7, page["heading"])
        pdf.ln(2)
        pdf.set_font("Helvetica", size=10.5)
        for paragraph in page["paragraphs"]:
            pdf.multi_cell(0, 5.5, " ".join(paragraph.split()))
            pdf.ln(2)
        if pdf.get_y() > 285:
            sys.exit(f"{source.name}: page {number} overflows; shorten it")
        pdf.set_y(-15)
        pdf.set_font("Helvetica", size=8)
        pdf.cell(0, 5, f"{spec['title']} - page {number}", align="C")
    out = OUT / f"{source.stem}.pdf"
    out.write_bytes(_with_provenance(bytes(pdf.output()), spec["provenance"]))
    return out


def _with_provenance(data: bytes, provenance: str) -> bytes:
    """fpdf2 writes only the standard information keys: pypdf adds /Provenance (deterministically)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.add_metadata({"/Provenance": provenance})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def main() -> None:
    for source in sorted(SOURCES.glob("*.yaml")):
        print(build(source).relative_to(ROOT))


if __name__ == "__main__":
    main()
